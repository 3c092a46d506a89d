"""Notebook 06's figures: MNIST-100's classes, the clusters of Table 2 and the covariance they come from (§5.3),
Table 4's gain by coverage (§5.5), §6.1's training curves, and one specialist's classes for the explorer widget.

Each function takes what the lesson computed (images, clusters, tables) and returns a matplotlib ``Figure``; the
notebook saves and shows it with ``Lab.figure`` — nothing here shows or saves, so a test can draw every figure.
"""

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
    """§6.1: mean conditional accuracy / NLL of the specialists vs training step, per kind, on their training slice
    (dashed), the held-out training cases the claim is judged on (dotted, when recorded) and the test set (solid)."""
    import matplotlib.pyplot as plt

    mean = curves.groupby(["kind", "split", "step"], as_index=False)[["cond_acc", "cond_nll"]].mean()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    styles = {"dustbin": "tab:red", "soft": "tab:blue"}
    for (kind, split), g in mean.groupby(["kind", "split"]):
        ls = {"test": "-", "val": ":"}.get(split, "--")
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


def class_examples_figure(images: np.ndarray, classes: list[int], per_row: int = 8):
    """One test image for each of ``classes`` (MNIST-100: two digits side by side), titled with its class number."""
    import matplotlib.pyplot as plt

    rows = -(-len(classes) // per_row)
    fig, axes = plt.subplots(rows, per_row, figsize=(1.5 * per_row, 1.1 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, c in zip(axes.flat, classes):
        ax.imshow(images[c], cmap="gray_r", interpolation="nearest")
        ax.set_title(f"class {int(c):02d}", fontsize=8)
    fig.suptitle("MNIST-100: one test image per class (two-digit families that a digit confusion links)", fontsize=10)
    fig.tight_layout()
    return fig


def table4_figure(table4):
    """Table 4 analog: relative accuracy change by the number of specialists covering the correct class, one bar
    per bucket labelled with its number of test images (few images: a noisy bar)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    labels = [f"{k}\n(n={n})" for k, n in zip(table4.n_specialists, table4.n_test_examples)]
    ax.bar(labels, 100 * table4.relative_improvement)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("# specialists covering the correct class")
    ax.set_ylabel("relative accuracy change (%)")
    ax.set_title("Table 4 analog", fontsize=10)
    fig.tight_layout()
    return fig


def specialist_figure(images: np.ndarray, classes, before: float, after: float, index: int = 0):
    """One specialist's special subset S^m as a row of example images, titled with its conditional test accuracy
    before (the generalist) and after (the specialist)."""
    import matplotlib.pyplot as plt

    classes = list(classes)
    fig, axes = plt.subplots(1, len(classes), figsize=(1.3 * len(classes), 1.2), squeeze=False)
    for ax, c in zip(axes[0], classes):
        ax.imshow(images[c], cmap="gray_r", interpolation="nearest")
        ax.set_title(f"{int(c):02d}", fontsize=8)
        ax.axis("off")
    fig.suptitle(f"specialist {index}: conditional test accuracy {before:.1%} (generalist) → {after:.1%}", fontsize=9)
    return fig
