"""The yardstick every lesson's claims share: three verdicts, an effect counted beyond K_NOISE noise units.

DESIGN.md §3 and the paper's own wording set the rule. Each claim is reduced to one *effect* measured in the paper's
direction (positive: the paper's way; e.g. the baseline's errors minus the distilled net's), per seed:

- **does not hold** — the mean effect is not beyond K_NOISE × noise (or goes the other way);
- **weaker** — beyond noise, but short of the paper's figure, and the paper's figure is not inside our seed range
  (a direction the paper reports "significantly" is not reproduced by half its size);
- **holds** — beyond noise, and at the paper's strength (ours reaches the paper's figure, or the paper's figure
  lies inside our seed range); a claim whose paper states only a direction holds once beyond noise.

Noise is the larger of two yardsticks, and the claim records which decided: the test-set noise (two classifiers
scored on the same test cases differ by chance only through the cases they disagree on: McNemar's √(discordant),
``kdlab.claim_record.mcnemar_noise``; where only error counts are known, √(e₁ + e₂), an upper bound on it) and the
seed spread (the standard deviation of the per-seed effect, ddof = 1: the same kind of number, a standard error of one
run's effect, and zero information with one seed — the quick profile says its noise is test-set noise only).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from kdlab.claim_record import Claim, Claims

K_NOISE = 2.0  # a difference "counts" beyond this many noise units (≈ 95 % for a normal approximation)
TEST_SET = "test set (McNemar)"
SEEDS = "seed spread"


def _values(x: float | Sequence[float]) -> list[float]:
    return [float(v) for v in x] if isinstance(x, (list, tuple)) or hasattr(x, "__len__") else [float(x)]


def noise_of(
    test_noise: float | None, per_seed: Sequence[float], test_source: str = TEST_SET
) -> tuple[float | None, str]:
    """(noise, which decided): the larger of the test-set noise and the seed spread (SD over ≥ 2 seeds)."""
    seed_sd = statistics.stdev(per_seed) if len(per_seed) >= 2 else None
    if seed_sd is not None and (test_noise is None or seed_sd > test_noise):
        return seed_sd, SEEDS
    if test_noise is None:
        return None, "none: an exact computation"
    return float(test_noise), test_source + ("" if len(per_seed) >= 2 else ", one seed")


def verdict(
    effect: float,
    noise: float | None,
    paper_figure: float | None = None,
    spread: tuple[float, float] | None = None,
) -> tuple[str, float]:
    """(verdict, margin) for a mean ``effect`` in the paper's direction; margin = effect − K_NOISE × noise."""
    margin = effect - K_NOISE * (noise or 0.0)
    if not margin > 0:
        return "does not hold", margin
    if paper_figure is None or effect >= paper_figure:
        return "holds", margin
    if spread is not None and spread[0] <= paper_figure <= spread[1]:
        return "holds", margin
    return "weaker", margin


def judge(
    claims: Claims,
    cid: str,
    section: str,
    statement: str,
    paper: str,
    result: str,
    value: float | Sequence[float],
    *,
    unit: str,
    test_noise: float | None,
    paper_figure: float | None = None,
    judged_by: str = "",
    test_source: str = TEST_SET,
    control: dict[str, Any] | None = None,
    seeds: int | None = None,
    threshold: float = 0.0,
    lower_is_better: bool = False,
) -> Claim:
    """Judge ``value`` (one number, or one per seed, in ``unit``) and record the schema-2 claim.

    The effect is ``value − threshold`` (``threshold − value`` when ``lower_is_better``): ``threshold`` is where the
    paper's direction starts (0 for a difference; the lab's bar where the paper gives none). ``ours`` is the mean
    value, compared with ``paper_figure`` in the same direction. ``seeds`` says how many seeds a single ``value``
    already averages (a figure of seed means)."""
    per_seed = _values(value)
    sign = -1.0 if lower_is_better else 1.0
    ours = sum(per_seed) / len(per_seed)
    spread = (min(per_seed), max(per_seed)) if len(per_seed) > 1 else None
    noise, source = noise_of(test_noise, per_seed, test_source)
    to_effect = lambda v: sign * (v - threshold)  # noqa: E731
    spread_effect = None if spread is None else tuple(sorted(map(to_effect, spread)))
    paper_effect = None if paper_figure is None else to_effect(paper_figure)
    said, margin = verdict(to_effect(ours), noise, paper_effect, spread_effect)
    rule = judged_by or f"the effect must exceed {K_NOISE:g} × noise"
    if paper_figure is not None:
        rule += f", and reach the paper's {paper_figure:.3g} {unit} (or have it inside our seed range) to hold"
    return claims.add(
        id=cid,
        section=section,
        statement=statement,
        paper=paper,
        result=result,
        verdict=said,
        paper_figure=None if paper_figure is None else {"value": paper_figure, "unit": unit},
        ours=ours,
        unit=unit,
        spread=spread,
        seeds=seeds if seeds is not None and len(per_seed) == 1 else len(per_seed),
        noise=noise,
        noise_source=source,
        control=control,
        margin=margin,
        judged_by=rule,
    )


def beats(
    claims: Claims,
    cid: str,
    section: str,
    statement: str,
    paper: str,
    better: float | Sequence[float],
    worse: float | Sequence[float],
    noise: float,
    unit: str,
    names: tuple[str, str],
    paper_figure: float | None = None,
    control: dict[str, Any] | None = None,
) -> Claim:
    """``better`` < ``worse`` (errors: lower is better) by more than K_NOISE × noise; the effect is the difference,
    per seed when both are given per seed (one figure against several seeds is compared with each), and
    ``paper_figure`` the paper's difference in the same unit."""
    b, w = _values(better), _values(worse)
    b = b * len(w) if len(b) == 1 else b  # one figure (e.g. a single teacher) against every seed of the other
    w = w * len(b) if len(w) == 1 else w
    effect = [wi - bi for wi, bi in zip(w, b)] if len(b) == len(w) else [sum(w) / len(w) - sum(b) / len(b)]
    mean_b, mean_w = sum(b) / len(b), sum(w) / len(w)
    return judge(
        claims,
        cid,
        section,
        statement,
        paper,
        f"{names[0]} {count_text(mean_b)} vs {names[1]} {count_text(mean_w)} {unit}",
        effect,
        unit=unit,
        test_noise=noise,
        paper_figure=paper_figure,
        judged_by=f"{names[1]} minus {names[0]} must exceed {K_NOISE:g} × noise",
        control=control,
    )


def count_text(x: float) -> str:
    """A count as printed in a claim: whole when it is whole, one decimal when it is a mean over seeds."""
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def counts_noise(e1: float, e2: float) -> float:
    """√(e₁ + e₂): the test-set noise of a difference of two error counts when only the counts are known (an upper
    bound on McNemar's √(discordant), so a rule using it is conservative)."""
    return math.sqrt(max(e1, 0.0) + max(e2, 0.0))
