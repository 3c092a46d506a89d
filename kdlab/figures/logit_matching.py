"""Notebook 02's figures: §2.1's claim that distillation becomes logit matching at high temperature (eq. 2 → eq. 4).

Four pictures, each drawn from a table the lesson computed (``kdlab.lessons.logit_matching``): how far the
high-temperature approximations (eq. 3, eq. 4) are from the exact gradient (eq. 2) as T grows; how much weight
distillation at T gives to logits far below the mean ("pays much less attention", §2.1); and how close students
distilled at rising T end up to a student trained by logit matching, at the end and epoch by epoch.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

COLORS = ("tab:blue", "tab:orange", "tab:red", "tab:green", "tab:purple")
LOGIT_MATCHING = "logit_matching"


def gradient_error_figure(curves: Mapping[str, object], level: float, n_cases: int):
    """Median relative error of eq. 3 (solid) and eq. 4 (dashed) against eq. 2, per temperature, one colour per
    logit set (``gradient_errors`` tables, e.g. zero-meaned / as output / shifted); a 1/T guide through the first
    set's eq. 3 at the highest T, and a grey line at the error ``level``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.4))
    for (name, table), color in zip(curves.items(), COLORS):
        ax.plot(table.temperature, table.rel_error_eq3, "-", color=color, lw=2, alpha=0.6, label=f"eq. 3, {name}")
        ax.plot(table.temperature, table.rel_error_logit_matching, "--o", color=color, ms=3,
                label=f"eq. 4 (logit matching), {name}")  # fmt: skip
    first = next(iter(curves.values()))
    ts = np.asarray(first.temperature, dtype=float)
    ax.plot(ts, float(np.asarray(first.rel_error_eq3)[-1]) * ts[-1] / ts, ":", color="grey", label="∝ 1/T")
    ax.axhline(level, color="grey", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("median relative error vs eq. 2")
    ax.set_title(f"Gradient approximations on real MNIST logits ({n_cases} test cases)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def logit_weight_figure(weights, high_t: float):
    """Mean weight relative to logit matching per depth group (``logit_weight_by_depth`` rows) against T, log-log;
    the dashed line at 1 is logit matching (eq. 4), the red line marks ``high_t``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    for name, g in weights.groupby("group", sort=False):
        ax.plot(g.temperature, g.mean_weight, "o-", ms=3, label=f"{name} ({g.n_logits.iloc[0]:,} logits)")
    ax.axhline(1.0, color="grey", ls="--", label="logit matching (eq. 4)")
    ax.axvline(high_t, color="tab:red", lw=1, alpha=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1e-12, 10)
    ax.set_xlabel("temperature T")
    ax.set_ylabel("weight relative to logit matching")
    ax.set_title("How hard distillation at T matches each teacher logit, by its depth below the case mean", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def convergence_figure(conv, hidden, epochs: int, n_transfer: int, profile: str):
    """Three panels over the distillation temperature (``convergence.csv``): agreement of predicted classes and
    correlation of zero-meaned logits with the logit-matching student (and with the teacher), and test errors with
    the logit-matching student's as a dashed line."""
    import matplotlib.pyplot as plt

    temps = conv[conv.temperature != LOGIT_MATCHING]
    tt = temps.temperature.astype(float)
    lm = conv[conv.temperature == LOGIT_MATCHING].iloc[0]
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    axes[0].plot(tt, temps.agreement_with_logit_matching, "o-", label="same predicted class as logit matching")
    axes[0].plot(tt, temps.agreement_with_teacher, "s--", ms=4, label="same predicted class as the teacher")
    axes[0].set_ylabel("fraction of test images")
    axes[1].plot(tt, temps.logit_corr, "o-", label="logit correlation with logit matching")
    axes[1].plot(tt, temps.logit_corr_with_teacher, "s--", ms=4, label="logit correlation with the teacher")
    axes[1].set_ylabel("correlation of zero-meaned logits")
    axes[2].plot(tt, temps.test_errors, "o-", label="distilled at T")
    axes[2].axhline(lm.test_errors, color="grey", ls="--", label="logit matching")
    axes[2].set_ylabel("test errors (of 10,000)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("distillation temperature T")
        ax.legend(fontsize=8)
    shape = "-".join(map(str, hidden))
    fig.suptitle(f"Students 784-{shape}-10, same start, {epochs} epochs on {n_transfer} transfer cases "
                 f"({profile} profile)", fontsize=10)  # fmt: skip
    fig.tight_layout()
    return fig


def convergence_by_epoch_figure(by_epoch):
    """1 − logit correlation with the logit-matching student after each epoch, one line per distillation T
    (``convergence_by_epoch.csv``), log scale: lines that fall are students still moving toward the limit."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.4))
    for name, g in by_epoch[by_epoch.temperature != LOGIT_MATCHING].groupby("temperature", sort=False):
        ax.plot(g.epoch, 1 - g.logit_corr, "o-", label=f"T = {name}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("1 − logit correlation with logit matching")
    ax.set_xticks(sorted(by_epoch.epoch.unique()))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def t_squared_figure(rows, hard_weight: float):
    """§2's T² factor: left the soft/hard gradient-norm ratio against T (the claim's figure), right the soft
    term's share of the two norms at the lab's hard weight; with T² (solid) and without (dashed), mean over
    subsets and seeds, shaded from the lowest to the highest; log axes for T (and for the ratio)."""
    import matplotlib.pyplot as plt
    import pandas as pd

    table = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    styles = {True: ("tab:blue", "-", "with T²"), False: ("tab:red", "--", "without T²")}
    for ax, figure in zip(axes, ("relative", "share")):
        for t_squared, (color, line, label) in styles.items():
            g = table[table["t_squared"] == t_squared].groupby("temperature")[figure]
            ts = np.asarray(g.mean().index, dtype=float)
            ax.plot(ts, g.mean().to_numpy(), line, marker="o", color=color, label=label)
            ax.fill_between(ts, g.min().to_numpy(), g.max().to_numpy(), color=color, alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("temperature T")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("‖∇ soft term‖ / ‖∇ hard term‖")
    axes[0].set_title("relative contribution of the soft targets (judged)", fontsize=10)
    axes[1].set_ylabel("soft term's share of the norms")
    axes[1].set_ylim(0, 1.05)
    axes[1].set_title(f"share at the lab's hard weight {hard_weight:g}", fontsize=10)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def hard_weight_sweep_figure(rows, n_val: int):
    """Held-out errors against the hard weight (log axes), one line per T; left with the T² factor, right
    without; the best weight of each line is marked with a star."""
    import matplotlib.pyplot as plt
    import pandas as pd

    table = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
    for ax, (t_squared, title) in zip(axes, ((True, "with T²"), (False, "without T²"))):
        part = table[table["t_squared"] == t_squared]
        for color, (T, g) in zip(COLORS, part.groupby("temperature")):
            g = g.sort_values("hard_weight")
            ax.plot(g["hard_weight"], g["val_errors"], marker="o", color=color, label=f"T = {T:g}")
            best = g.loc[g["val_errors"].idxmin()]
            ax.plot([best["hard_weight"]], [best["val_errors"]], marker="*", markersize=14, color=color)
        ax.set_xscale("log")
        ax.set_yscale("log")  # without T² a nearly silent soft term costs thousands of errors; with it, tens
        ax.set_xlabel("hard weight w")
        ax.set_title(title, fontsize=10)
    axes[0].set_ylabel(f"errors on {n_val:,} held-out training cases")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
