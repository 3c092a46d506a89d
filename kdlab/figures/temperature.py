"""Notebook 01's figures: a trained net's soft targets at several temperatures (§1, §2 eq. 1).

Why these pictures: §1's argument is about probabilities "so close to zero" that a linear axis shows nothing, so
every soft-target plot here uses a log axis, marks the true class (red) and the two look-alike classes (orange),
and titles each panel with the soft targets' entropy at that T. The curves over T (entropy, the tiny classes'
weight and gradient) are drawn from the tables that ``kdlab.lessons.temperature`` computes; nothing is computed
here beyond eq. 1 itself for the bars.
"""

from __future__ import annotations

import numpy as np
import torch

from kdlab.core.losses import softmax_t
from kdlab.lessons.temperature import soft_target_entropy

TRUE_COLOR, LOOK_ALIKE_COLOR, OTHER_COLOR = "tab:red", "tab:orange", "tab:blue"


def _bars(ax, logits, label: int, T: float, highlight=()) -> None:
    """Soft targets softmax(z/T) (eq. 1) of one image as bars on a log axis; true class red, look-alikes orange."""
    z = torch.as_tensor(logits, dtype=torch.float64)
    p = softmax_t(z, T).numpy()
    colors = [TRUE_COLOR if c == label else LOOK_ALIKE_COLOR if c in highlight else OTHER_COLOR for c in range(len(p))]
    ax.bar(range(len(p)), p, color=colors)
    ax.set_yscale("log")
    ax.set_ylim(max(p.min() / 5, 1e-18), 2)
    ax.set_xticks(range(len(p)))
    ax.set_title(f"T = {T:g}:  entropy {soft_target_entropy(z[None], T).item():.2f} bits", fontsize=10)


def _image(ax, image, title: str) -> None:
    ax.imshow(np.asarray(image).reshape(28, 28), cmap="gray_r")
    ax.set_title(title, fontsize=10)
    ax.axis("off")


def _caption(index: int, label: int) -> str:
    return f"test #{index}, label {int(label)}"


def look_alikes_figure(images, logits, labels, indices, digit: int, look_alikes: tuple[int, int], high_t: float):
    """§1's example on real images: one row per test image in ``indices`` — the image, its soft targets at T = 1
    and at ``high_t`` (log scale), the true class red and the two ``look_alikes`` orange. ``images``, ``logits``
    and ``labels`` are the whole test set's, indexed by ``indices``."""
    import matplotlib.pyplot as plt

    a, b = look_alikes
    rows = max(len(indices), 1)
    fig, axes = plt.subplots(rows, 3, figsize=(11, 2.9 * rows), gridspec_kw={"width_ratios": [1, 3, 3]}, squeeze=False)
    for row, i in zip(axes, indices):
        _image(row[0], images[i], _caption(i, labels[i]))
        for ax, T in zip(row[1:], (1.0, high_t)):
            _bars(ax, logits[i], digit, T, highlight=look_alikes)
        row[1].set_ylabel("probability (log scale)")
    if not len(indices):
        for ax in axes[0]:
            ax.axis("off")
        axes[0, 1].text(0.5, 0.5, f"no correctly classified {digit} ranks {a} and {b} next", ha="center")
    fig.suptitle(f"Two {digit}s: which looks like a {a} and which like a {b}", y=1.0)
    fig.tight_layout()
    return fig


def explorer_figure(images, logits, labels, index: int, T: float):
    """One test image and its soft targets at one temperature (true class red): what the notebook's slider
    redraws each time it moves."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 2.8), gridspec_kw={"width_ratios": [1, 3]})
    _image(left, images[index], _caption(index, labels[index]))
    _bars(right, logits[index], int(labels[index]), T)
    return fig


def strip_figure(images, logits, labels, index: int, temperatures, digit: int, highlight=()):
    """The slider, frozen: test image ``index`` and its soft targets at each of ``temperatures`` side by side (log
    scale), class ``digit`` red and ``highlight`` orange."""
    import matplotlib.pyplot as plt

    ts = list(temperatures)
    fig, axes = plt.subplots(1, len(ts) + 1, figsize=(16, 2.6), gridspec_kw={"width_ratios": [1] + [2] * len(ts)})
    _image(axes[0], images[index], _caption(index, labels[index]))
    for ax, T in zip(axes[1:], ts):
        _bars(ax, logits[index], digit, T, highlight=highlight)
    fig.tight_layout()
    return fig


def entropy_figure(table, high_t: float, n_classes: int = 10):
    """Mean and median entropy of the soft targets against T (log axis), with the uniform maximum log₂ C and the
    paper's MNIST temperature marked. ``table``: ``entropy_vs_temperature`` as a DataFrame."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(table.temperature, table.mean_entropy_bits, "o-", label="mean over the 10,000 test images")
    ax.plot(table.temperature, table.median_entropy_bits, "s--", ms=4, label="median")
    ax.axhline(np.log2(n_classes), color="grey", ls=":", label=f"uniform: log₂ {n_classes} bits")
    ax.axvline(high_t, color=TRUE_COLOR, lw=1, alpha=0.5, label=f"T = {high_t:g} (paper's MNIST)")
    ax.set_xscale("log")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("entropy of soft targets (bits)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def tail_weight_figure(table, limit: float, high_t: float, threshold: float, tiny_per_image: float):
    """The tiny classes' weight in the cost and the gradient on their logits against T (log-log), with the
    T → ∞ logit-matching gradient (eq. 4) as a dashed line. ``table``: ``tail_weight_vs_temperature`` as a
    DataFrame; ``tiny_per_image``: the mean number of tiny classes per image, for the title."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(table.temperature, table.tail_mass, "o-", label="weight in the cost: Σ_tiny p_i(T)")
    ax.plot(table.temperature, table.tail_gradient, "s-", label="gradient on the tiny logits, ‖T·(q − p)‖")
    ax.axhline(limit, color="grey", ls="--", label="gradient at T → ∞ (logit matching, eq. 4)")
    ax.axvline(high_t, color=TRUE_COLOR, lw=1, alpha=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("temperature T")
    ax.set_title(f"Classes with p < {threshold:g} at T = 1 ({tiny_per_image:.1f} per image on average)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def gradient_noise_figure(rows, T: float, judged_state: str):
    """§2's gradient variance: per student state, the hard and the soft loss side by side — left the scale-free
    noise tr Var / ‖mean‖² (the claim's figure), right the raw tr Var; bars are means over subsets (and seeds),
    whiskers the min–max over them; log axes, since the two losses differ by factors."""
    import matplotlib.pyplot as plt
    import pandas as pd

    table = pd.DataFrame(rows)
    states = list(dict.fromkeys(table["state"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    colors = {"hard": "tab:blue", "soft": "tab:orange"}
    names = {"hard": "hard labels (T = 1)", "soft": f"soft targets (T = {T:g}, × T²)"}
    for ax, figure, title in zip(axes, ("noise_ratio", "trace_variance"), ("tr Var / ‖mean‖² (judged)", "tr Var")):
        for k, loss in enumerate(("hard", "soft")):
            g = table[table["loss"] == loss].groupby("state", sort=False)[figure]
            mean, lo, hi = (g.agg(f).reindex(states).to_numpy() for f in ("mean", "min", "max"))
            xs = np.arange(len(states)) + (k - 0.5) * 0.38
            ax.bar(xs, mean, width=0.38, color=colors[loss], label=names[loss])
            ax.errorbar(xs, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor="black", capsize=3)
        ax.set_yscale("log")
        ax.set_xticks(range(len(states)))
        ax.set_xticklabels([s.replace(" training", "\ntraining") + (" (claim)" if s == judged_state else "") for s in states],
                           fontsize=9)  # fmt: skip
        ax.set_title(title, fontsize=10)
    axes[0].set_ylabel("gradient variance between cases")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
