"""The paper's claims as data: what a notebook tested, the paper's figure, ours, the noise, and the verdict.

Why: a lesson's conclusions must be its own numbers' conclusions. Each notebook builds a ``Claims`` list while it
runs, writes it to ``claims.json`` beside ``metrics.json`` (``Claims.save``), prints one line per claim in its last
cell (``id: holds`` / ``id: weaker`` / ``id: does not hold``, checked by nbval in CI so a lesson that turns fails the
test command) and words every result sentence through ``Claim.sentence`` and ``Claim.paragraph`` — never a fixed
"as the paper says".

Schema ``kdlab.claims/2`` (strict JSON, no NaN; the rules that fill it are ``kdlab.lessons.claims.judge``)::

    {"schema": "kdlab.claims/2", "notebook": "03_mnist_distillation", "profile": "full", "seed": 0,
     "claims": [{"id": "03.distilled_closes_gap", "section": "§3", "statement": "...",
                 "paper": "91% of the gap (146 → 74, teacher 67)", "result": "83% of the gap (164 → 81, teacher 64)",
                 "verdict": "weaker", "holds": true,
                 "paper_figure": {"value": 91.1, "unit": "% of the gap"}, "ours": 83.1, "unit": "% of the gap",
                 "spread": null, "seeds": 1, "noise": 10.0, "noise_source": "test set (McNemar)",
                 "control": null, "margin": 63.1, "judged_by": "..."}]}

- ``verdict``: ``holds`` (the paper's direction, beyond noise, at the paper's strength), ``weaker`` (direction beyond
  noise, short of ``paper_figure``) or ``does not hold`` (within noise, or the other way) — DESIGN.md §3.
- ``paper_figure``: the paper's number in the claim's unit, or null where the paper states only a direction.
- ``ours`` (mean over ``seeds``), ``spread`` ([min, max] over seeds, null for one seed), ``noise`` and
  ``noise_source`` (which yardstick decided: test-set noise or seed spread, the larger), ``control`` (the confound
  ruled out: ``{"what", "value", "unit"}``, or null), all in ``unit``.
- ``paper`` / ``result``: the same figures in words (``result`` is schema 1's ``ours`` text); ``margin``: by how much
  the effect clears K × noise (negative: by how much it falls short); ``holds``: derived, ``verdict != "does not
  hold"``, so readers of schema 1 keep working.

``read_claims`` reads schema 1 too (a schema-1 claim has only ``holds``: its verdict is ``holds`` or ``does not
hold``, ``Claim.schema`` says 1); it never raises.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

SCHEMA = "kdlab.claims/2"
SCHEMAS = {"kdlab.claims/1": 1, SCHEMA: 2}  # what read_claims accepts -> the number Claim.schema records
FILE = "claims.json"
VERDICTS = ("holds", "weaker", "does not hold")
_ID = re.compile(r"^\d\d\.[a-z0-9_]+$")
_TEXT = ("section", "statement", "paper", "result", "unit", "noise_source", "judged_by")


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


def _figure(x: Any, name: str, unit: str) -> dict[str, Any] | None:
    """``{"value": number, "unit": str}`` (a bare number takes the claim's unit), or None."""
    if x is None:
        return None
    if not isinstance(x, dict):
        x = {"value": x, "unit": unit}
    value = _finite_or_none(x.get("value"), name)
    if value is None:
        raise ValueError(f"claim {name} needs a finite value")
    return {**x, "value": value, "unit": str(x.get("unit", unit))}


@dataclass(frozen=True)
class Claim:
    """One claim of the paper as tested by one run (schema ``kdlab.claims/2``; see the module docstring)."""

    id: str  # stable, "<notebook number>.<snake_case>", e.g. "03.distilled_beats_baseline"
    section: str  # of the paper, e.g. "§3"
    statement: str  # the paper's claim in a sentence
    paper: str  # the paper's figure in words
    result: str  # this run's figure in words
    verdict: str  # one of VERDICTS
    paper_figure: dict[str, Any] | None = None  # {"value", "unit"}; None: the paper states only a direction
    ours: float | None = None  # mean over seeds, in ``unit``
    unit: str = ""
    spread: tuple[float, float] | None = None  # (min, max) over seeds; None for one seed
    seeds: int = 1
    noise: float | None = None  # the yardstick the verdict used, in ``unit``; None where the test is exact
    noise_source: str = ""  # "test set (McNemar)", "seed spread", ...: which noise decided
    control: dict[str, Any] | None = None  # {"what", "value", "unit"}: the confound ruled out
    margin: float | None = None  # how far beyond (+) or short of (−) K × noise the effect lies
    judged_by: str = ""  # the rule, in words
    schema: int = 2  # the schema it was read from (not written: a saved claim is always the current schema)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(f"claim id {self.id!r} must look like '03.distilled_beats_baseline'")
        for name in _TEXT:
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"claim {self.id}: {name} must be a string")
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict must be one of {VERDICTS}, got {self.verdict!r}")
        put = object.__setattr__
        for name in ("ours", "noise", "margin"):
            put(self, name, _finite_or_none(getattr(self, name), name))
        put(self, "paper_figure", _figure(self.paper_figure, "paper_figure", self.unit))
        if self.spread is not None:
            lo, hi = (_finite_or_none(v, "spread") for v in self.spread)
            put(self, "spread", None if lo is None or hi is None else (min(lo, hi), max(lo, hi)))
        if self.control is not None and not isinstance(self.control, dict):
            raise TypeError(f"claim {self.id}: control must be a dict or None")
        put(self, "seeds", int(self.seeds))

    @property
    def holds(self) -> bool:
        """Schema 1's boolean, derived: a weaker result is still the paper's direction beyond noise."""
        return self.verdict != "does not hold"

    def line(self) -> str:
        """``id: holds`` / ``id: weaker`` / ``id: does not hold`` — what the last cell prints and CI compares."""
        return f"{self.id}: {self.verdict}"

    def sentence(self) -> str:
        """A Markdown bullet stating the result from the numbers, with the verdict the run computed."""
        head = {"holds": "Holds here.", "weaker": "Weaker here.", "does not hold": "Does not hold here."}[self.verdict]
        if self.verdict == "holds":
            return f"- **{head}** {self.statement} Paper: {self.paper}; this run: {self.result}."
        rule = f" — {self.judged_by}." if self.judged_by else "."
        return f"- **{head}** The paper: {self.statement} ({self.paper}). This run: {self.result}{rule}"

    def seed_range(self) -> str:
        """``3 seeds, 72–81 errors`` or ``one seed, so no seed range``."""
        if self.seeds > 1 and self.spread is not None:
            return f"{self.seeds} seeds, {self.spread[0]:.3g}–{self.spread[1]:.3g} {self.unit}".rstrip()
        return "one seed, so no seed range"

    def paragraph(self, setting: str = "") -> str:
        """For a claim that is ``weaker`` or ``does not hold``: our figure, the paper's, the seed range, why, and
        what differs between this run's setting and the paper's; '' for a claim that holds."""
        if self.verdict == "holds":
            return ""
        ours = "" if self.ours is None else f"{self.ours:.3g} {self.unit}".rstrip() + "; "
        fig = self.paper_figure
        paper = f"{fig['value']:.3g} {fig['unit']}".rstrip() if fig else f"a direction only ({self.paper})"
        noise = (
            ""
            if self.noise is None
            else ", ".join(filter(None, [f"{self.noise:.3g} {self.unit}".rstrip(), self.noise_source]))
        )
        if self.verdict == "weaker" and fig:
            why = (
                f"The effect goes the paper's way beyond the noise (noise {noise}) but falls short of the paper's "
                "figure, which is not inside our seed range."
            )
        elif self.verdict == "weaker":  # no figure in the paper: the claim's own rule has a stricter part it missed
            why = f"The effect goes the paper's way beyond the noise (noise {noise}) but misses part of its rule: " + (
                f"{self.judged_by or '—'}."
            )
        else:
            why = f"It does not meet its rule: {self.judged_by or '—'}" + (f" (noise {noise})." if noise else ".")
        text = (
            f"**`{self.id}` — {self.verdict} here.** Ours: {self.result} ({ours}{self.seed_range()}). "
            f"The paper: {paper}. {why}"
        )
        return text + (f" What differs from the paper's setting: {setting}" if setting else "")

    def to_dict(self) -> dict[str, Any]:
        """The claim as schema 2 writes it (``holds`` included, derived; ``schema`` left out)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "schema"}
        out["spread"] = None if self.spread is None else list(self.spread)
        out["holds"] = self.holds
        return out


def from_dict(item: dict[str, Any], schema: int = 2) -> Claim:
    """A claim as read from ``claims.json`` of schema 1 or 2 (TypeError / ValueError when malformed)."""
    if schema == 1:
        verdict = "holds" if bool(item.get("holds")) else "does not hold"
        old = ("id", "section", "statement", "paper", "margin", "noise", "judged_by")
        return Claim(**{k: item[k] for k in old if k in item}, result=item.get("ours", ""), verdict=verdict, schema=1)
    names = {f.name for f in fields(Claim)} - {"schema"}
    unknown = set(item) - names - {"holds"}
    if unknown:
        raise TypeError(f"unknown claim field(s): {', '.join(sorted(unknown))}")
    claim = Claim(**{k: v for k, v in item.items() if k in names})
    if "holds" in item and item["holds"] is not claim.holds:
        raise ValueError(f"holds is {item['holds']!r} but the verdict is {claim.verdict!r}")
    return claim


class Claims:
    """The claims one notebook run tests, in the order it tests them; ids are unique.

    ``setting`` is what differs between this run and the paper (set by the notebook from its profile); it ends the
    paragraph that explains a claim that is weaker or does not hold."""

    def __init__(self, notebook: str, setting: str = "") -> None:
        self.notebook = notebook
        self.setting = setting
        self._items: dict[str, Claim] = {}

    def add(self, **fields_: Any) -> Claim:
        """Record a claim (keyword arguments as ``Claim``); re-adding an id replaces it (a re-run cell)."""
        return self.append(from_dict(fields_))

    def append(self, claim: Claim) -> Claim:
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
        """The sentences of the claims ``ids`` (all when none given), one bullet each, then a paragraph for each
        that is weaker or does not hold (``Claim.paragraph``)."""
        chosen = [self._items[i] for i in ids] if ids else list(self)
        bullets = "\n".join(c.sentence() for c in chosen)
        paragraphs = [c.paragraph(self.setting) for c in chosen if c.verdict != "holds"]
        return "\n\n".join([bullets, *paragraphs]) if bullets else ""

    def summary(self) -> str:
        """One line per claim: ``id: holds`` / ``id: weaker`` / ``id: does not hold``."""
        return "\n".join(c.line() for c in self)

    def tally(self) -> str:
        return tally_text(list(self))

    def to_json(self, profile: str, seed: int) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "notebook": self.notebook,
            "profile": profile,
            "seed": int(seed),
            "claims": [c.to_dict() for c in self],
        }

    def save(self, run: Any) -> Path:
        """Write ``claims.json`` into the run's folder (beside ``metrics.json``), atomically, strict JSON."""
        from kdlab.jsonio import write_json_atomic

        params = getattr(run, "params", {})
        path = Path(run.dir) / FILE
        write_json_atomic(path, self.to_json(str(params.get("PROFILE", "?")), int(params.get("SEED", 0))))
        return path


def tally_text(claims: list[Claim]) -> str:
    """``20 hold, 2 weaker, 1 do not hold`` — the line README, RESULTS and the dashboard print."""
    hold, weaker, fail = (sum(c.verdict == v for c in claims) for v in VERDICTS)
    return f"{hold} hold, {weaker} weaker, {fail} do not hold"


def read_claims(run_dir: str | Path) -> tuple[list[Claim] | None, str]:
    """(claims, "") from a run folder's ``claims.json`` of schema 1 or 2, or (None, a one-line problem); never
    raises. Each claim's ``schema`` says which schema the file had."""
    from kdlab.jsonio import read_json_object

    path = Path(run_dir) / FILE
    if not path.exists():
        return None, f"{FILE} is missing (the run predates claims, or its notebook did not reach its last cell)"
    obj, problem = read_json_object(path)
    if obj is None:
        return None, problem
    schema = SCHEMAS.get(obj.get("schema"))
    if schema is None:
        known = ", ".join(SCHEMAS)
        return None, f"{FILE} has unknown schema {obj.get('schema')!r} (this kdlab reads {known}); upgrade kdlab"
    items = obj.get("claims")
    if not isinstance(items, list):
        return None, f"{FILE} has no list of claims"
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            return None, f"{FILE}: claim {i} is not an object"
        try:
            out.append(from_dict(item, schema))
        except (TypeError, ValueError, KeyError) as e:
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
