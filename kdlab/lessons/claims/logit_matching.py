"""Notebook 02's claims: at high temperature (eq. 2 → eq. 4) distillation becomes logit matching."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from kdlab.claim_record import Claims
from kdlab.lessons.claims.judge import K_NOISE, judge


def _temperatures(ts: Sequence[float]) -> str:
    """A crossing temperature as text: 20 for one, 18–32 for several (one per teacher)."""
    lo, hi = min(ts), max(ts)
    return f"{lo:.3g}" if lo == hi else f"{lo:.3g}–{hi:.3g}"


def logit_matching_claims(
    claims: Claims,
    *,
    t_zero_mean: Sequence[float | None],
    t_shifted: Sequence[float | None],
    level: float,
    agreement: Sequence[tuple[float, float]],
    corr: Sequence[tuple[float, float]],
    temperatures: tuple[float, float],
    n_test: int,
) -> None:
    """§2.1: logit matching (eq. 4) is the high-T limit of distillation's gradient (eq. 2) when the logits are
    zero-meaned — and only then — and students distilled at rising T approach the logit-matching student.
    ``t_zero_mean`` and ``t_shifted`` hold one crossing temperature per teacher seed (``logit_matching_study.eq4_reach``,
    None: never on the grid); the limit claim counts, per teacher, the conditions met, so with ≥ 2 teachers their
    spread is its noise. ``agreement`` and ``corr`` hold one (lowest T, highest T) pair per seed
    (``logit_matching_study.ends_of``); the rise in agreement is judged over the seeds, and the logit correlation must
    rise in every one."""
    n = len(t_zero_mean)
    met = [int(tz is not None) + int(ts is None) for tz, ts in zip(t_zero_mean, t_shifted)]
    reached = [t for t in t_zero_mean if t is not None]
    leaked = [t for t in t_shifted if t is not None]
    of = lambda k: "" if n == 1 else f" for {k} of {n} teachers"  # noqa: E731
    judge(
        claims,
        "02.logit_matching_is_the_limit",
        "§2.1, eq. 4",
        "With zero-meaned logits, the distillation gradient approaches logit matching at high T; "
        "with a mean the softmax ignores, it does not.",
        "eq. 2 → eq. 4 as T → ∞ if the logits are zero-meaned",
        (
            f"within {level:.0%} from T = {_temperatures(reached)} when zero-meaned{of(len(reached))}"
            if reached
            else f"never within {level:.0%} when zero-meaned"
        )
        + (
            "; never with shifted teacher logits"
            if not leaked
            else f"; also from T = {_temperatures(leaked)} with shifted logits{of(len(leaked))}"
        ),
        met,
        unit="of 2 conditions",
        test_noise=None,
        threshold=1.5,
        judged_by=f"both, for each teacher: relative error below {level:.0%} at some T (zero-meaned) and at none "
        "(shifted)",
    )
    (a0, a1), (c0, c1) = (tuple(sum(v) / len(v) for v in zip(*pairs)) for pairs in (agreement, corr))
    p = (a0 + a1) / 2
    noise = 100 * math.sqrt(2 * p * (1 - p) / n_test)
    seeds = f" (means over {len(agreement)} seeds)" if len(agreement) > 1 else ""
    claim = judge(
        claims,
        "02.students_approach_logit_matching",
        "§2.1",
        "The higher the distillation temperature, the more a student agrees with a student trained by logit matching.",
        "distillation → logit matching as T → ∞",
        f"agreement {a0:.1%} at T = {temperatures[0]:g} → {a1:.1%} at T = {temperatures[-1]:g}; "
        f"logit correlation {c0:.3f} → {c1:.3f}{seeds}",
        [100 * (hi - lo) for lo, hi in agreement],
        unit="points of agreement",
        test_noise=noise,
        test_source="test set (binomial)",
        judged_by=f"agreement must rise by more than {K_NOISE:g} × noise, and the logit correlation rise in every seed",
    )
    if any(hi <= lo for lo, hi in corr) and claim.verdict != "does not hold":  # the second half of the rule
        claims.append(replace(claim, verdict="does not hold"))


BAND = 2.0  # "roughly unchanged": within a factor of 2 across the grid (the lab's reading; the paper gives no figure)


def t_squared_claim(
    claims: Claims,
    *,
    spread_with: list[float],
    spread_without: list[float],
    subset_sd: float,
    temperatures: list[float],
    n_subsets: int,
    subset_size: int,
) -> None:
    """§2: with the T² factor the soft targets' contribution relative to the hard targets' stays roughly unchanged
    as T changes (``kdlab.lessons.logit_matching_t_squared``). ``spread_with`` (per seed): log₂ of the largest over the smallest
    soft/hard gradient-norm ratio across ``temperatures``, mean over ``n_subsets`` disjoint subsets of transfer
    cases; ``subset_sd`` its spread over them. It must stay below log₂ ``BAND`` by more than ``K_NOISE`` × noise.
    ``spread_without`` (the same without T², an exact consequence: only reported) shows what the factor removes."""
    with_, without = (sum(v) / len(v) for v in (spread_with, spread_without))
    t_lo, t_hi = min(temperatures), max(temperatures)
    judge(
        claims,
        "02.t_squared_keeps_scale",
        "§2",
        f"Multiplying the soft term by T² keeps the relative contributions of the hard and soft targets roughly "
        f"unchanged as T changes (T = {t_lo:g} … {t_hi:g}).",
        f'"roughly unchanged" (no figure; the lab reads it as within a factor of {BAND:g})',
        f"the soft/hard gradient-norm ratio varies by a factor of {2**with_:.2f} across T with T² "
        f"(by {2**without:.3g} without it)",
        spread_with,
        unit="log₂ of the factor across T",
        test_noise=subset_sd,
        test_source=f"spread over {n_subsets} disjoint subsets of {subset_size} transfer cases",
        threshold=math.log2(BAND),
        lower_is_better=True,
        judged_by=f"with T², log₂(largest/smallest ratio across T) must stay below log₂ {BAND:g} = 1 by more than "
        f"{K_NOISE:g} × noise",
    )
