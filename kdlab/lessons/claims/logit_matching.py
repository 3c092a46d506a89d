"""Notebook 02's claims: at high temperature (eq. 2 → eq. 4) distillation becomes logit matching."""

from __future__ import annotations

import math

from kdlab.claim_record import Claims
from kdlab.lessons.claims.judge import K_NOISE


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
    claims.add(
        id="02.logit_matching_is_the_limit",
        section="§2.1, eq. 4",
        statement="With zero-meaned logits, the distillation gradient approaches logit matching at high T; "
        "with a mean the softmax ignores, it does not.",
        paper="eq. 2 → eq. 4 as T → ∞ if the logits are zero-meaned",
        ours=(
            f"within {level:.0%} from T = {t_zero_mean:.3g} when zero-meaned"
            if t_zero_mean
            else f"never within {level:.0%} when zero-meaned"
        )
        + (
            "; never with shifted teacher logits"
            if t_shifted is None
            else f"; also from T = {t_shifted:.3g} with shifted logits"
        ),
        holds=t_zero_mean is not None and t_shifted is None,
        judged_by=f"relative error below {level:.0%} at some T (zero-meaned) and at none (shifted)",
    )
    a0, a1 = agreement[0], agreement[-1]
    p = (a0 + a1) / 2
    noise = math.sqrt(2 * p * (1 - p) / n_test)
    claims.add(
        id="02.students_approach_logit_matching",
        section="§2.1",
        statement="The higher the distillation temperature, the more a student agrees with a student trained "
        "by logit matching.",
        paper="distillation → logit matching as T → ∞",
        ours=f"agreement {a0:.1%} at T = {temperatures[0]:g} → {a1:.1%} at T = {temperatures[-1]:g}; "
        f"logit correlation {corr[0]:.3f} → {corr[-1]:.3f}",
        holds=(a1 - a0) > K_NOISE * noise and corr[-1] > corr[0],
        margin=(a1 - a0) - K_NOISE * noise,
        noise=noise,
        judged_by=f"agreement rises by more than {K_NOISE:g} × binomial noise and the logit correlation rises",
    )
