"""What a run of notebook 06 says next to the paper: the sentences it prints and its summary table.

A lesson must not type a result into its prose: every "beats", "holds" or number a student reads is computed from
the run. These functions turn the run's numbers into those sentences — the Table 3/4 verdicts of §5.5 (including
whether a change exceeds test-set noise, McNemar's √(fixed + broken)), the §6.1 comparison of dustbin and
soft-target specialists, the §7 question of distilling the ensemble back into one net — and put them beside the
paper's own figures (Table 3: 25.0 % → 26.1 %; Table 4: +3.4 % → +16.6 % as coverage grows).
"""

from __future__ import annotations

import math

import numpy as np

from kdlab.paper import N_SPECIALISTS, TABLE3, TABLE3_RELATIVE, TABLE4


def _table4_range() -> str:
    """Table 4's relative accuracy change from the smallest to the largest over the covered buckets: 3.4% → 16.6%."""
    covered = TABLE4["relative_accuracy_change"][1:]
    return f"{min(covered):g}% → {max(covered):g}%"


def coverage_trend(table4) -> float:
    """Correlation between the number of specialists covering the correct class and the relative accuracy change,
    over the covered buckets of a Table 4 analog (``improvement_by_coverage``); NaN with fewer than three."""
    covered = table4[table4.n_specialists > 0]
    if len(covered) <= 2:
        return float("nan")
    return float(np.corrcoef(covered.n_specialists, covered.relative_improvement)[0, 1])


def table4_verdict(table4, change: dict, n_test: int) -> str:
    """Two lines: the net change in correct test images with its noise verdict, and Table 4's trend here."""
    covered = table4[table4.n_specialists > 0]
    net = int(table4.n_changed_correct.sum())
    if change["significant"]:
        verdict = "a gain beyond noise, like the paper's" if net > 0 else "a loss beyond noise, unlike the paper's gain"
    else:
        verdict = f"no change distinguishable from noise, unlike the paper's +{TABLE3_RELATIVE:g}% on a test set of ~1M images"
    lines = [f"Net change: {net:+d} correct test images of {n_test} — {verdict}."]
    if len(covered) > 2:
        trend = coverage_trend(table4)
        direction = (
            " — the same direction."
            if trend > 0.5
            else " — the opposite of the paper's trend."
            if trend < -0.5
            else " — no clear trend."
        )
        lines.append(
            f"Paper (Table 4): the gain grows with the number of covering specialists ({_table4_range()}). Here the "
            f"correlation between coverage and relative improvement over {len(covered)} buckets is {trend:+.2f}"
            + direction
            + " Buckets with few test images are noisy."
        )
    else:
        lines.append(f"Only {len(covered)} coverage bucket(s) with covered classes: too few to see Table 4's trend.")
    return "\n".join(lines)


def nll_rise(table61) -> dict[str, float]:
    """§6.1's overfitting measure per kind: how far the final test NLL on the specialists' own classes lies above
    its minimum during training."""
    return {k: r.test_cond_nll_final - r.test_cond_nll_min for k, r in table61.set_index("kind").iterrows()}


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


def summary_table(
    profile: str,
    n_specialists: int,
    acc: dict[str, float],
    cond: tuple[float, float],
    *,
    change: dict,
    trend: float,
    rise: dict[str, float],
    kept: float,
):
    """This run's numbers beside the paper's, one row per question the notebook asked. ``acc``: test accuracy of
    the ``generalist``, generalist + ``specialists`` (eq. 5), the ``distilled`` net and the hard-label ``control``;
    ``cond``: conditional accuracy (generalist, generalist + specialists)."""
    import pandas as pd

    gen_acc, spec_acc = acc["generalist"], acc["specialists"]
    rel = (spec_acc - gen_acc) / gen_acc
    gain = spec_acc > gen_acc and change["significant"]
    noise = "beyond noise)" if change["significant"] else "within noise)"
    rows = [
        ("relative test-accuracy change with specialists", f"+{TABLE3_RELATIVE:g}% (JFT, {N_SPECIALISTS} specialists)",
         f"{rel:+.1%} ({n_specialists} specialists, {profile} profile; " + noise),
        ("conditional accuracy", "{:g}% → {:g}%".format(*TABLE3["conditional test accuracy (%)"]),
         f"{cond[0]:.1%} → {cond[1]:.1%}"),
        ("gain vs # covering specialists", f"grows ({_table4_range()})",
         f"correlation {trend:+.2f}" if not math.isnan(trend) else "too few buckets"),
        ("§6.1 soft-target specialists overfit less", "proposed, not tested",
         f"test NLL rise {rise['soft']:.3f} (soft) vs {rise['dustbin']:.3f} (dustbin)"),
        ("distil specialists back into one net", "open problem",
         f"{kept:.0%} of the gain kept" if gain else
         f"no ensemble gain beyond noise; distilled {acc['distilled']:.1%}, hard-label control {acc['control']:.1%}"),
    ]  # fmt: skip
    return pd.DataFrame([{"quantity": q, "paper": p, "this run": r} for q, p, r in rows])
