"""Figures the lesson notebooks draw from what a lesson computed (matplotlib). Kept out of ``kdlab.lessons`` so a
recipe can run where nothing draws (a benchmark, ``kdlab train``, a test)."""

from __future__ import annotations

import numpy as np


def cluster_grid_figure(
    images: np.ndarray, clusters: list, scores: list[float] | None = None, max_clusters: int = 8, per_row: int = 8
):
    """Table 2 analog: one row of example images per cluster (its classes), labelled with the class numbers."""
    import matplotlib.pyplot as plt

    shown = clusters[:max_clusters]
    cols = min(per_row, max(len(c) for c in shown))
    fig, axes = plt.subplots(len(shown), cols, figsize=(1.25 * cols, 0.75 * len(shown) + 0.4), squeeze=False)
    for r, cl in enumerate(shown):
        for k in range(cols):
            ax = axes[r, k]
            ax.axis("off")
            if k < len(cl):
                ax.imshow(images[cl[k]], cmap="gray_r", interpolation="nearest")
                ax.set_title(f"{int(cl[k]):02d}", fontsize=8, pad=1)
        label = f"S{r}" + (f" ({scores[r]:.1e})" if scores is not None else "")
        axes[r, 0].text(-4, 14, label, ha="right", va="center", fontsize=8)
        if len(cl) > cols:
            axes[r, -1].text(60, 14, f"+{len(cl) - cols}", va="center", fontsize=8)
    fig.suptitle("Clusters of classes the generalist predicts together (Table 2 analog)", fontsize=10)
    fig.tight_layout()
    return fig


def covariance_figure(cov: np.ndarray, order: np.ndarray, assignment: np.ndarray):
    """The covariance of the generalist's predictions, classes ordered by cluster, cluster blocks outlined."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    c = np.asarray(cov)[np.ix_(order, order)]
    lim = float(np.quantile(np.abs(c), 0.99)) or 1.0
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    im = ax.imshow(c, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    sorted_assign = np.asarray(assignment)[order]
    start = 0
    for k in range(1, len(order) + 1):
        if k == len(order) or sorted_assign[k] != sorted_assign[start]:
            ax.add_patch(Rectangle((start - 0.5, start - 0.5), k - start, k - start, fill=False, ec="black", lw=0.8))
            start = k
    ticks = np.arange(0, len(order), 5)
    ax.set_xticks(ticks, [f"{int(order[t]):02d}" for t in ticks], fontsize=6, rotation=90)
    ax.set_yticks(ticks, [f"{int(order[t]):02d}" for t in ticks], fontsize=6)
    ax.set_title(
        "Covariance of the generalist's predicted probabilities,\nclasses ordered by K-means cluster", fontsize=10
    )
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def curves_figure(curves, title: str):
    """§6.1: mean conditional accuracy / NLL of the specialists on train and test vs training step, per kind."""
    import matplotlib.pyplot as plt

    mean = curves.groupby(["kind", "split", "step"], as_index=False)[["cond_acc", "cond_nll"]].mean()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    styles = {"dustbin": "tab:red", "soft": "tab:blue"}
    for (kind, split), g in mean.groupby(["kind", "split"]):
        ls = "-" if split == "test" else "--"
        for ax, col in zip(axes, ["cond_acc", "cond_nll"]):
            ax.plot(g["step"], g[col], ls, color=styles.get(kind, "k"), label=f"{kind}, {split}")
    axes[0].set_ylabel("conditional accuracy (own classes)")
    axes[1].set_ylabel("conditional NLL (own classes)")
    for ax in axes:
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def gain_kept_figure(table, paper: dict, profile: str):
    """Table 1 at a glance: frame accuracy of baseline, ensemble and the distilled model (chosen on validation) on
    seen and unseen speakers with the share of the ensemble's gain the distilled model keeps, the paper's three
    numbers beside them; and the phone error rate of all three (the paper reports word error rate)."""
    import matplotlib.pyplot as plt

    t = table.set_index("model")
    chosen = table[table.chosen_on_val].model.iloc[0]
    names, labels = ["baseline", "10x ensemble", chosen], ["baseline", "10× ensemble", f"distilled ({chosen[10:]})"]
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    groups = [("seen speakers", "frame_acc_seen"), ("unseen speakers", "frame_acc_unseen")]
    colors = ["tab:gray", "tab:blue", "tab:orange"]
    for g, (title, col) in enumerate(groups):
        accs = [float(t.loc[n, col]) for n in names]
        for k, a in enumerate(accs):
            axes[0].bar(g * 4 + k, a, color=colors[k], label=labels[k] if g == 0 else None)
        kept = (accs[2] - accs[0]) / (accs[1] - accs[0]) if accs[1] != accs[0] else float("nan")
        axes[0].text(g * 4 + 1, max(accs) + 0.6, f"{title}\nkeeps {kept:.0%} of the gain", ha="center", fontsize=8)
    paper_acc = [paper[k][0] for k in ("baseline", "10x ensemble", "distilled")]
    for k, a in enumerate(paper_acc):
        axes[0].bar(8 + k, a, color=colors[k], alpha=0.45, hatch="//")
    kept_p = (paper_acc[2] - paper_acc[0]) / (paper_acc[1] - paper_acc[0])
    axes[0].text(9, max(paper_acc) + 0.6, f"paper (Table 1)\nkeeps {kept_p:.0%}", ha="center", fontsize=8)
    lo = min(min(float(t.loc[n, c]) for n in names for _, c in groups), min(paper_acc))
    hi = max(max(float(t.loc[n, c]) for n in names for _, c in groups), max(paper_acc))
    axes[0].set_ylim(lo - 4, hi + 4)
    axes[0].set_xticks([1, 5, 9], ["ours, seen", "ours, unseen", "paper"])
    axes[0].set_ylabel("test frame accuracy (%)")
    axes[0].legend(fontsize=8, loc="lower right")
    axes[0].set_title(f"Table 1 analog ({profile}): how much of the ensemble's gain one model keeps", fontsize=10)
    for k, n in enumerate(names):
        axes[1].bar(
            k - 0.2, float(t.loc[n, "phone_error_rate"]), 0.4, color=colors[k], label="seen" if k == 0 else None
        )
        axes[1].bar(k + 0.2, float(t.loc[n, "phone_error_rate_unseen"]), 0.4, color=colors[k], alpha=0.55,
                    label="unseen" if k == 0 else None)  # fmt: skip
    axes[1].set_xticks(range(3), labels, fontsize=8)
    axes[1].set_ylabel("phone error rate (%)")
    wer = ", ".join(f"{paper[k][1]:g}" for k in ("baseline", "10x ensemble", "distilled"))
    axes[1].set_title(f"phone error rate (paper's word error rate: {wer} %)", fontsize=10)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig
