"""Notebook 01's claims: raising T (eq. 1) gives the tiny probabilities weight in the distillation gradient."""

from __future__ import annotations

from kdlab.claim_record import Claims


def temperature_claims(
    claims: Claims,
    *,
    high_t: float,
    gradient_t1: float,
    gradient_high_t: float,
    limit: float,
    entropy_t1: float,
    entropy_high_t: float,
) -> None:
    """§1–2: at T = 1 the tiny probabilities barely move the cost; at a high T they do (gradients relative to the
    T → ∞ logit-matching gradient, eq. 4), and the soft targets carry more information (entropy)."""
    share1, share_h = gradient_t1 / limit, gradient_high_t / limit
    claims.add(
        id="01.tiny_classes_ignored_at_t1",
        section="§1",
        statement="At T = 1 the very small probabilities of the wrong classes have very little influence on "
        "the cost: their gradient is under 1 % of what logit matching gives them.",
        paper='"very little influence on the cross-entropy cost function"',
        ours=f"{share1:.2%} of the logit-matching gradient",
        holds=share1 < 0.01,
        margin=0.01 - share1,
        judged_by="share below 1 %",
    )
    claims.add(
        id="01.tiny_classes_count_at_high_t",
        section="§2",
        statement=f"At the paper's T = {high_t:g} the same classes get most of the logit-matching gradient.",
        paper="raising T makes the tiny probabilities count",
        ours=f"{share_h:.0%} of the logit-matching gradient",
        holds=share_h > 0.5,
        margin=share_h - 0.5,
        judged_by="share above 50 %",
    )
    claims.add(
        id="01.soft_targets_carry_more_information",
        section="§1",
        statement=f"Soft targets at T = {high_t:g} have far higher entropy than at T = 1.",
        paper="high-entropy soft targets carry much more information per case",
        ours=f"{entropy_t1:.2f} → {entropy_high_t:.2f} bits",
        holds=entropy_high_t > 2 * entropy_t1,
        margin=entropy_high_t - 2 * entropy_t1,
        judged_by="entropy at least doubles",
    )
