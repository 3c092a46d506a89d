"""What a run of notebook 06 says next to the paper: the sentences it prints and its summary table.

A lesson must not type a result into its prose: every "beats", "holds" or number a student reads is computed from
the run. These functions turn the run's numbers into those sentences — the Table 3/4 verdicts of §5.5 (including
whether a change exceeds test-set noise, McNemar's √(fixed + broken)), the §6.1 comparison of dustbin and
soft-target specialists, the §7 question of distilling the ensemble back into one net — and put them beside the
paper's own figures (Table 3: 25.0 % → 26.1 %; Table 4: +3.4 % → +16.6 % as coverage grows).
"""

from __future__ import annotations

import math

from kdlab.lessons.claims.judge import K_NOISE
from kdlab.paper import JFT, N_SPECIALISTS, TABLE3, TABLE3_RELATIVE, TABLE4


def _table4_range() -> str:
    """Table 4's relative accuracy change from the smallest to the largest over the covered buckets: 3.4% → 16.6%."""
    covered = TABLE4["relative_accuracy_change"][1:]
    return f"{min(covered):g}% → {max(covered):g}%"


def table4_verdict(table4, change: dict, n_test: int, trend: dict, paper_slope: float) -> str:
    """Two lines: the net change in correct test images with its noise verdict, and Table 4's trend here (the slope
    of ``coverage_gain.coverage_gain_trend`` with its bootstrap s.e.) beside the paper's."""
    net = int(table4.n_changed_correct.sum())
    if change["significant"]:
        verdict = "a gain beyond noise, like the paper's" if net > 0 else "a loss beyond noise, unlike the paper's gain"
    else:
        verdict = f"no change distinguishable from noise, unlike the paper's +{TABLE3_RELATIVE:g}% on a test set of ~1M images"
    lines = [f"Net change: {net:+d} correct test images of {n_test} — {verdict}."]
    buckets = trend["buckets"]
    if len(buckets) >= 2 and math.isfinite(trend["se"]):
        slope, se = trend["slope"], trend["se"]
        direction = (
            "the paper's direction, beyond noise"
            if slope > K_NOISE * se
            else "the opposite direction, beyond noise"
            if slope < -K_NOISE * se
            else f"within noise (|slope| ≤ {K_NOISE:g} s.e.)"
        )
        lines.append(
            f"Paper (Table 4): the gain grows with the number of covering specialists ({_table4_range()}; slope "
            f"{paper_slope:+.2f} % per specialist). Here, over buckets {buckets}: slope {slope:+.2f} ± {se:.2f} % per "
            f"specialist (bootstrap s.e.) — {direction}."
        )
    else:
        lines.append(
            f"Only {len(buckets)} coverage bucket(s) with covered classes and enough test images: too few to see "
            "Table 4's trend."
        )
    return "\n".join(lines)


def overfit_verdict(summary: dict) -> str:
    """One line on §6.1 as the claim measures it: held-out NLL on the specialists' own classes, per kind."""
    return (
        f"Held-out training cases of their own classes, mean over {summary['n_specialists']} specialists: the NLL "
        f"improved on the generalist by {summary['soft_improvement']:+.3f} ± {summary['soft_improvement_se']:.3f} "
        f"(soft) and {summary['dustbin_improvement']:+.3f} ± {summary['dustbin_improvement_se']:.3f} (dustbin) nats, "
        f"and rose above its minimum by {summary['soft_rise']:.3f} (soft) and {summary['dustbin_rise']:.3f} (dustbin)."
    )


def soft_verdict(table61, gen_acc: float, num_classes: int) -> str:
    """Two lines on the §6.1 experiment: both kinds on their own classes and combined by eq. 5, and whether a
    soft-target specialist read on its own kept the generalist's knowledge of the other classes."""
    d, s = (table61.set_index("kind").loc[k] for k in ("dustbin", "soft"))
    kept = s.own_full_test_accuracy >= 0.9 * gen_acc
    return (
        f"Final test conditional accuracy: dustbin {d.test_cond_acc_final:.2%}, soft {s.test_cond_acc_final:.2%}; "
        f"combined with the generalist by eq. 5: dustbin {d.combined_test_accuracy:.2%}, soft "
        f"{s.combined_test_accuracy:.2%} (generalist alone {gen_acc:.2%}).\n"
        f"Read on its own over all {num_classes} classes, a soft-target specialist scores "
        f"{s.own_full_test_accuracy:.2%} test accuracy (generalist {gen_acc:.2%}): "
        + (
            "it kept most of the generalist's knowledge of the other classes."
            if kept
            else "it lost much of the generalist's knowledge of the other classes."
        )
    )


def distill_verdict(
    gen_acc: float, spec_acc: float, student_acc: float, control_acc: float, kept: float, change: dict
) -> str:
    """Did one net distilled from generalist + specialists keep the ensemble's gain, and does it beat the control
    (the same copy trained as long on hard labels)? "Gain kept" is meaningful only for a gain beyond noise."""
    if spec_acc > gen_acc and change["significant"]:
        return (
            f"The distilled net keeps {kept:.0%} of the ensemble's gain ({gen_acc:.2%} → {spec_acc:.2%} → "
            f"{student_acc:.2%}); the hard-label control reaches {control_acc:.2%}, so "
            + (
                "distillation beats extra training alone."
                if student_acc > control_acc
                else "extra training alone does as well or better: the gain is not evidence of transferred knowledge."
            )
        )
    return (
        f"The ensemble's change over the generalist ({spec_acc:.2%} vs {gen_acc:.2%}) is not beyond noise, so "
        f"'gain kept' is not meaningful here; "
        f"the distilled net reaches {student_acc:.2%} and the hard-label control {control_acc:.2%}."
    )


def finding(
    *,
    verdict: str,
    reference: str,
    acc: dict[str, float],
    epochs: tuple[int, int],
    train_acc: float,
    inside: float,
    n_classes: int,
    extra_steps: int,
) -> str:
    """The paragraph that says *why* the specialists did or did not beat the run's references, from its numbers,
    beside what JFT had (§5, §5.1): many more classes, confusable families, and a generalist that could not be
    retrained cheaply. ``acc``: test accuracy of the ``generalist`` (converged), the compute-matched control
    (``matched``) and the ``specialists``; ``epochs``: (best epoch, epochs run) of the early stopping; ``inside``: the share of
    the generalist's test errors inside one specialist's classes."""
    order = sorted(acc, key=acc.get, reverse=True)
    names = {"generalist": "converged generalist", "matched": "compute-matched control", "specialists": "specialists"}
    ranking = " > ".join(f"{names[k]} {acc[k]:.2%}" for k in order)
    head = (
        f"**Why: the run's numbers.** Test accuracy: {ranking}. The generalist stopped improving on held-out training "
        f"cases after epoch {epochs[0]} (of {epochs[1]} run; training accuracy {train_acc:.1%}), and the specialists "
        f"judged against the {reference} (chosen on validation) give `{verdict}`."
    )
    if verdict == "holds":
        return head + " The specialists bought more accuracy than the same extra compute spent on the generalist."
    control_wins = acc["matched"] >= acc["specialists"]
    return (
        head + f" {inside:.0%} of the generalist's test errors lie inside one specialist's classes (the only errors a "
        f"specialist is built to fix), so the clusters "
        + ("did leave room for a gain" if inside >= 0.5 else "left little room for a gain")
        + f"; the specialists' {extra_steps:,} extra training steps "
        + (
            "did as well or better when spent on the generalist itself (the compute-matched control). "
            if control_wins
            else "did better as specialists than on the generalist, but not beyond noise at the paper's strength. "
        )
        + f"JFT had what MNIST-100 lacks: {JFT['classes']:,} classes (here {n_classes}), families of confusable "
        f"classes a generalist could not tell apart, and a generalist trained for about {JFT['generalist_months']} "
        "months that could not be retrained cheaply — there specialists were the affordable way to spend more "
        f"compute. Here the generalist converged after {epochs[0]} epochs, so the fair question is whether the "
        "specialists beat the same compute spent on it: the comparison above."
    )


def summary_table(
    profile: str,
    n_specialists: int,
    acc: dict[str, float],
    cond: tuple[float, float],
    *,
    change: dict,
    trend: dict,
    overfit: dict,
    kept: float,
):
    """This run's numbers beside the paper's, one row per question the notebook asked. ``acc``: test accuracy of
    the converged ``generalist``, generalist + ``specialists`` (eq. 5), the compute-matched ``matched`` control, the
    ``distilled`` net and its hard-label ``control``; ``cond``: conditional accuracy (generalist, generalist +
    specialists); ``trend``: Table 4's slope (``coverage_gain``); ``overfit``: §6.1 (``overfitting``)."""
    import pandas as pd

    gen_acc, spec_acc = acc["generalist"], acc["specialists"]
    rel = (spec_acc - gen_acc) / gen_acc
    gain = spec_acc > gen_acc and change["significant"]
    noise = "beyond noise)" if change["significant"] else "within noise)"
    slope = (f"slope {trend['slope']:+.2f} ± {trend['se']:.2f} % per specialist"
             if math.isfinite(trend["se"]) else "too few buckets")  # fmt: skip
    rows = [
        ("relative test-accuracy change with specialists", f"+{TABLE3_RELATIVE:g}% (JFT, {N_SPECIALISTS} specialists)",
         f"{rel:+.1%} ({n_specialists} specialists, {profile} profile; " + noise),
        ("the same compute spent on the generalist", "not tested (six-month generalist)",
         f"{acc['matched']:.1%} (specialists {spec_acc:.1%})"),
        ("conditional accuracy", "{:g}% → {:g}%".format(*TABLE3["conditional test accuracy (%)"]),
         f"{cond[0]:.1%} → {cond[1]:.1%}"),
        ("gain vs # covering specialists", f"grows ({_table4_range()})", slope),
        ("§6.1 soft-target specialists overfit less", "proposed, not tested",
         f"held-out NLL rise {overfit['soft_rise']:.3f} (soft) vs {overfit['dustbin_rise']:.3f} (dustbin); "
         f"improvement {overfit['soft_improvement']:+.3f} (soft)"),
        ("distil specialists back into one net", "open problem",
         f"{kept:.0%} of the gain kept" if gain else
         f"no ensemble gain beyond noise; distilled {acc['distilled']:.1%}, hard-label control {acc['control']:.1%}"),
    ]  # fmt: skip
    return pd.DataFrame([{"quantity": q, "paper": p, "this run": r} for q, p, r in rows])
