"""Notebook 01's claim: raising T (eq. 1) gives the tiny probabilities weight in the distillation gradient.

Two of §1's sentences are shown as *figures with a sentence*, not claims, because this lab's measurement of them could
not come out otherwise (DESIGN.md §3: "a claim that could be true by construction is not a claim"):

- "the very small probabilities have very little influence on the cost" at T = 1 — we call a class *tiny* when the
  teacher gives it p < 10⁻³ at T = 1, and the cross-entropy gradient of such a class, (q − p)/T with q, p < 10⁻³ for a
  student near its teacher, is bounded by that same 10⁻³: any threshold we judged the share against would be met by
  the definition of "tiny" (it was ``01.tiny_classes_ignored_at_t1``);
- "soft targets at a high T carry much more information" — the entropy of a softmax rises with T for every net whose
  logits are not all equal, so "the entropy at least doubles from T = 1 to T = 20" holds for any confident net (it was
  ``01.soft_targets_carry_more_information``).

``temperature_figures`` words both from the run's numbers; ``temperature_claims`` judges what could fail: that the
paper's T = 20 is high *enough* for this teacher's logits that the tiny classes get most of the logit-matching
gradient (eq. 4) — a teacher with logits spread far beyond T, or a lower T, makes it fail.
"""

from __future__ import annotations

from collections.abc import Sequence

from kdlab.claim_record import Claims
from kdlab.lessons.claims.judge import K_NOISE, judge

SHARE_BAR = 50.0  # % of the logit-matching gradient: "most of it" (the paper gives no figure, only the direction)


def temperature_claims(
    claims: Claims,
    *,
    high_t: float,
    share_t1: Sequence[float],
    share_high_t: Sequence[float],
) -> None:
    """§2: at the paper's high T the tiny classes get most of the T → ∞ logit-matching gradient (eq. 4).

    ``share_t1`` and ``share_high_t`` hold one figure per teacher seed (``kdlab.lessons.temperature.tiny_shares``, %
    of the limit): exact for each teacher, so with ≥ 2 teachers the noise is their spread; with one it has none."""
    n = len(share_high_t)
    mean_h, mean1 = sum(share_high_t) / n, sum(share_t1) / len(share_t1)
    over = f" (mean of {n} teachers, {min(share_high_t):.1f}–{max(share_high_t):.1f}%)" if n > 1 else ""
    judge(
        claims,
        "01.tiny_classes_count_at_high_t",
        "§2",
        f"At the paper's T = {high_t:g} the classes that are tiny at T = 1 get most of the logit-matching gradient.",
        "raising T makes the tiny probabilities count",
        f"{mean_h:.0f}% of the logit-matching gradient at T = {high_t:g}{over} (against {mean1:.2f}% at T = 1)",
        list(share_high_t),
        unit="% of the logit-matching gradient",
        test_noise=None,
        threshold=SHARE_BAR,
        judged_by=f"the share at T = {high_t:g} must exceed {SHARE_BAR:g} % by {K_NOISE:g} × the spread over teachers "
        "(an exact computation on each teacher's test logits)",
    )


def temperature_figures(
    *, high_t: float, gradient_t1: float, limit: float, tiny_threshold: float, entropy_t1: float, entropy_high_t: float
) -> str:
    """Markdown: §1's two sentences as this run's figures, each saying why it is an illustration, not a test."""
    share1 = 100 * gradient_t1 / limit
    return (
        f"- **Figure, not a claim.** At T = 1 the tiny classes (p < {tiny_threshold:g}) get {share1:.2g}% of the "
        'gradient logit matching would give them — §1\'s "very little influence on the cost". It is small by the '
        "definition of *tiny*: their gradient (q − p)/T cannot exceed the threshold that picked them.\n"
        f"- **Figure, not a claim.** The soft targets' mean entropy rises from {entropy_t1:.2f} bits at T = 1 to "
        f'{entropy_high_t:.2f} bits at T = {high_t:g} — §1\'s "much more information per training case". Any net '
        "with unequal logits shows a rise: the entropy of eq. 1 grows with T."
    )


def gradient_noise_claim(
    claims: Claims,
    *,
    reduction: list[float],
    subset_sd: float,
    raw_reduction: list[float],
    T: float,
    n_subsets: int,
    subset_size: int,
    student: str,
) -> None:
    """§2: soft targets (T² · soft cross-entropy at T, eq. 2) give "much less variance in the gradient between
    training cases" than hard targets — judged on the scale-free gradient noise tr Var / ‖mean‖² of a student at
    initialization (``kdlab.lessons.temperature_gradient_noise`` says why that figure and that state).

    ``reduction``: per seed, hard's noise ratio ÷ soft's (mean over ``n_subsets`` disjoint subsets of
    ``subset_size`` training cases); ``subset_sd``: its spread over the subsets, the noise (with the seed spread,
    whichever is larger). The paper gives a direction only: the reduction must exceed 1 by ``K_NOISE`` × noise.
    ``raw_reduction``: the same for the raw tr Var, reported beside it, not judged.
    """
    mean = sum(reduction) / len(reduction)
    raw = sum(raw_reduction) / len(raw_reduction)
    raw_words = (
        f"{raw:.2g}× less raw variance" if raw >= 1 else f"{1 / raw:.2g}× *more* raw variance (a larger gradient)"
    )
    judge(
        claims,
        "01.soft_targets_lower_gradient_variance",
        "§2",
        f"Soft targets (T = {T:g}, with the T² factor) give much less variance in the gradient between training "
        "cases than hard targets.",
        '"much less variance in the gradient between training cases" (a direction, no figure)',
        f"gradient noise tr Var/‖mean‖² {mean:.2f}× lower with soft targets ({student} at initialization, "
        f"{n_subsets} subsets of {subset_size} cases); {raw_words}",
        reduction,
        unit="× less gradient noise",
        test_noise=subset_sd,
        test_source=f"spread over {n_subsets} disjoint subsets of training cases",
        threshold=1.0,
        judged_by=f"hard's noise ratio ÷ soft's must exceed 1 by more than {K_NOISE:g} × noise (the larger of the "
        "spread over case subsets and over seeds)",
    )
