"""The paper's claims as data: what a notebook tested, the paper's figure, ours, and whether it held.

Why: a lesson's conclusions must be its own numbers' conclusions. Each notebook builds a ``Claims`` list while it
runs, writes it to ``claims.json`` beside ``metrics.json`` (``Claims.save``), prints one line per claim in its last
cell (``id: holds`` / ``id: does not hold``, checked by nbval in CI so a lesson that turns upside down fails the
test command) and words every result sentence through ``Claim.sentence`` — never a fixed "as the paper says".

Schema ``kdlab.claims/1`` (strict JSON, no NaN)::

    {"schema": "kdlab.claims/1", "notebook": "03_mnist_distillation", "profile": "quick", "seed": 0,
     "claims": [{"id": "03.distilled_beats_baseline", "section": "§3", "statement": "...",
                 "paper": "74 vs 146 errors", "ours": "212 vs 301 errors", "holds": true,
                 "margin": 89.0, "noise": 21.3, "judged_by": "difference > 2 × McNemar noise"}]}

``margin`` is by how much the claim holds (negative: by how much it fails) in the claim's own unit, ``noise`` the
yardstick it was judged with (a McNemar-style √(discordant cases), a seed spread, or null where the claim is an
exact inequality). Readers (the dashboard) use ``read_claims``, which never raises.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCHEMA = "kdlab.claims/1"
FILE = "claims.json"
_ID = re.compile(r"^\d\d\.[a-z0-9_]+$")
_FIELDS = ("id", "section", "statement", "paper", "ours", "holds", "margin", "noise", "judged_by")


def _finite_or_none(x: Any, name: str) -> float | None:
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        try:
            x = float(x)  # numpy / torch scalars
        except (TypeError, ValueError):
            raise TypeError(f"claim {name} must be a number or None, got {type(x).__name__}") from None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Claim:
    """One claim of the paper as tested by one run."""

    id: str  # stable, "<notebook number>.<snake_case>", e.g. "03.distilled_beats_baseline"
    section: str  # of the paper, e.g. "§3"
    statement: str  # the paper's claim in a sentence
    paper: str  # the paper's figure, with its unit
    ours: str  # this run's figure, same unit
    holds: bool
    margin: float | None = None  # how far inside (+) or outside (−) the claim's threshold, in its unit
    noise: float | None = None  # the yardstick the margin was judged against
    judged_by: str = ""  # the rule, in words

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(f"claim id {self.id!r} must look like '03.distilled_beats_baseline'")
        for name in ("section", "statement", "paper", "ours", "judged_by"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"claim {self.id}: {name} must be a string")
        object.__setattr__(self, "holds", bool(self.holds))
        object.__setattr__(self, "margin", _finite_or_none(self.margin, "margin"))
        object.__setattr__(self, "noise", _finite_or_none(self.noise, "noise"))

    @property
    def verdict(self) -> str:
        return "holds" if self.holds else "does not hold"

    def line(self) -> str:
        """``id: holds`` or ``id: does not hold`` — what the notebook's last cell prints and CI compares."""
        return f"{self.id}: {self.verdict}"

    def sentence(self) -> str:
        """A Markdown sentence stating the result from the numbers, saying so when it does not hold here."""
        if self.holds:
            return f"- **Holds here.** {self.statement} Paper: {self.paper}; this run: {self.ours}."
        return f"- **Does not hold here.** The paper: {self.statement} ({self.paper}). This run: {self.ours}" + (
            f" — {self.judged_by}." if self.judged_by else "."
        )


class Claims:
    """The claims one notebook run tests, in the order it tests them; ids are unique."""

    def __init__(self, notebook: str) -> None:
        self.notebook = notebook
        self._items: dict[str, Claim] = {}

    def add(self, **fields: Any) -> Claim:
        """Record a claim (keyword arguments as ``Claim``); re-adding an id replaces it (a re-run cell)."""
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown claim field(s): {', '.join(sorted(unknown))}; valid: {', '.join(_FIELDS)}")
        claim = Claim(**fields)
        if not claim.id.startswith(self.notebook[:2] + "."):
            raise ValueError(f"claim {claim.id!r} does not belong to notebook {self.notebook}")
        self._items[claim.id] = claim
        return claim

    def __iter__(self):
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, claim_id: str) -> Claim:
        return self._items[claim_id]

    def markdown(self, *ids: str) -> str:
        """The sentences of the claims ``ids`` (all when none given), one bullet each."""
        chosen = [self._items[i] for i in ids] if ids else list(self)
        return "\n".join(c.sentence() for c in chosen)

    def summary(self) -> str:
        """One line per claim: ``id: holds`` / ``id: does not hold``."""
        return "\n".join(c.line() for c in self)

    def to_json(self, profile: str, seed: int) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "notebook": self.notebook,
            "profile": profile,
            "seed": int(seed),
            "claims": [asdict(c) for c in self],
        }

    def save(self, run: Any) -> Path:
        """Write ``claims.json`` into the run's folder (beside ``metrics.json``), atomically, strict JSON."""
        from kdlab.jsonio import write_json_atomic

        params = getattr(run, "params", {})
        path = Path(run.dir) / FILE
        write_json_atomic(path, self.to_json(str(params.get("PROFILE", "?")), int(params.get("SEED", 0))))
        return path


def read_claims(run_dir: str | Path) -> tuple[list[Claim] | None, str]:
    """(claims, "") from a run folder's ``claims.json``, or (None, a one-line problem); never raises."""
    from kdlab.jsonio import read_json_object

    path = Path(run_dir) / FILE
    if not path.exists():
        return None, f"{FILE} is missing (the run predates claims, or its notebook did not reach its last cell)"
    obj, problem = read_json_object(path)
    if obj is None:
        return None, problem
    if obj.get("schema") != SCHEMA:
        return None, f"{FILE} has unknown schema {obj.get('schema')!r} (this kdlab reads {SCHEMA}); upgrade kdlab"
    items = obj.get("claims")
    if not isinstance(items, list):
        return None, f"{FILE} has no list of claims"
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            return None, f"{FILE}: claim {i} is not an object"
        try:
            out.append(Claim(**{k: item.get(k) for k in _FIELDS if k in item}))
        except (TypeError, ValueError) as e:
            return None, f"{FILE}: claim {i} is malformed ({e})"
    return out, ""


def mcnemar_noise(wrong_a: Any, wrong_b: Any) -> float:
    """√(cases one model gets wrong and the other right): the standard error of the difference in error counts.

    Why: two classifiers scored on the same test cases differ by chance only through the cases they disagree on;
    a difference in errors beyond about 2√(discordant) is unlikely to be noise (McNemar's test).
    """
    import numpy as np

    a, b = np.asarray(wrong_a, dtype=bool), np.asarray(wrong_b, dtype=bool)
    return float(np.sqrt(np.sum(a != b)))
