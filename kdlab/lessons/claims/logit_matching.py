"""Notebook 02's claims: at high temperature (eq. 2 → eq. 4) distillation becomes logit matching."""

from __future__ import annotations

import math
from dataclasses import replace

from kdlab.claim_record import Claims
from kdlab.lessons.claims.judge import K_NOISE, judge


def logit_matching_claims(
    claims: Claims,
    *,
    t_zero_mean: float | None,
    t_shifted: float | None,
    level: float,
    agreement: list[float],
    corr: list[float],
    temperatures: list[float],
    n_test: int,
) -> None:
    """§2.1: logit matching (eq. 4) is the high-T limit of distillation's gradient (eq. 2) when the logits are
    zero-meaned — and only then — and students distilled at rising T approach the logit-matching student."""
    met = int(t_zero_mean is not None) + int(t_shifted is None)
    judge(
        claims,
        "02.logit_matching_is_the_limit",
        "§2.1, eq. 4",
        "With zero-meaned logits, the distillation gradient approaches logit matching at high T; "
        "with a mean the softmax ignores, it does not.",
        "eq. 2 → eq. 4 as T → ∞ if the logits are zero-meaned",
        (
            f"within {level:.0%} from T = {t_zero_mean:.3g} when zero-meaned"
            if t_zero_mean
            else f"never within {level:.0%} when zero-meaned"
        )
        + (
            "; never with shifted teacher logits"
            if t_shifted is None
            else f"; also from T = {t_shifted:.3g} with shifted logits"
        ),
        met,
        unit="of 2 conditions",
        test_noise=None,
        threshold=1.5,
        judged_by=f"both: relative error below {level:.0%} at some T (zero-meaned) and at none (shifted)",
    )
    a0, a1 = agreement[0], agreement[-1]
    p = (a0 + a1) / 2
    noise = 100 * math.sqrt(2 * p * (1 - p) / n_test)
    claim = judge(
        claims,
        "02.students_approach_logit_matching",
        "§2.1",
        "The higher the distillation temperature, the more a student agrees with a student trained by logit matching.",
        "distillation → logit matching as T → ∞",
        f"agreement {a0:.1%} at T = {temperatures[0]:g} → {a1:.1%} at T = {temperatures[-1]:g}; "
        f"logit correlation {corr[0]:.3f} → {corr[-1]:.3f}",
        100 * (a1 - a0),
        unit="points of agreement",
        test_noise=noise,
        test_source="test set (binomial)",
        judged_by=f"agreement must rise by more than {K_NOISE:g} × binomial noise, and the logit correlation rise",
    )
    if corr[-1] <= corr[0] and claim.verdict != "does not hold":  # the second half of the rule
        claims.append(replace(claim, verdict="does not hold"))
