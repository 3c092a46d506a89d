"""Notebook 03's figures (paper §3): the jittered inputs, soft targets at two temperatures, errors per class and the
temperature sweep per student width.

Why here: the lesson (``kdlab.lessons.distillation``) computes logits, error counts and the sweep table; these functions only
draw what it computed, so the notebook's cells stay about distillation and a figure can be tested without training.
Each returns a matplotlib ``Figure`` and neither shows nor saves it (``kdlab.lab.Lab.figure`` does both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from kdlab import paper


def _digit(ax, image, title: str) -> None:
    ax.imshow(np.asarray(image).reshape(28, 28), cmap="gray_r")
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def jitter_figure(images):
    """One training digit (first row of ``images``, flattened 784-vectors) and its jittered copies (the rest): the
    teacher's input augmentation, "jittered by up to two pixels in any direction" (§3)."""
    images = np.asarray(images)
    fig, axes = plt.subplots(1, len(images), figsize=(1.5 * len(images), 1.8))
    for i, ax in enumerate(np.atleast_1d(axes)):
        _digit(ax, images[i], "original" if i == 0 else f"jitter {i}")
    return fig


def soft_targets_figure(image, label: int, index: int, probs: Mapping[float, np.ndarray]):
    """A test digit and the teacher's soft targets softmax(v / T) (eq. 1) at each temperature in ``probs``, on a log
    scale so the tiny probabilities of the wrong classes show."""
    fig, axes = plt.subplots(
        1, 1 + len(probs), figsize=(1 + 5 * len(probs), 2.4), gridspec_kw={"width_ratios": [1] + [3] * len(probs)}
    )
    _digit(axes[0], image, f"test #{index} (a {label})")
    for ax, (T, p) in zip(axes[1:], probs.items()):
        ax.bar(range(len(p)), np.asarray(p), color="tab:blue")
        ax.set_yscale("log")
        ax.set_ylim(1e-12, 2)
        ax.set_xticks(range(len(p)))
        ax.set_title(f"teacher's soft targets at T = {T:g}", fontsize=9)
    return fig


def per_class_figure(per_class: pd.DataFrame, models: Sequence[str], profile: str):
    """Test errors per true class (``model, class, errors`` rows), one bar per model, in the order of ``models``."""
    fig, ax = plt.subplots(figsize=(8, 3))
    table = per_class.pivot(index="class", columns="model", values="errors")[list(models)]
    table.plot.bar(ax=ax, width=0.8)
    ax.set_ylabel("test errors")
    ax.set_xlabel("true class")
    ax.set_title(f"errors per class ({profile})")
    return fig


def _paper_band(ax, width: int, top: float) -> None:
    if width >= paper.WIDE:
        label = f"paper: T > {paper.HIGH_T:g} all similar (≥ {paper.WIDE} units)"
        ax.axvspan(paper.HIGH_T, top, color="tab:green", alpha=0.12, label=label)
    else:
        lo, hi = paper.NARROW_BAND
        ax.axvspan(
            lo, hi, color="tab:orange", alpha=0.2, label=f"paper: best at T = {lo:g}–{hi:g} ({paper.NARROW} units)"
        )


def sweep_figure(
    sweep: pd.DataFrame, summary: pd.DataFrame, temperatures: Sequence[float], paper_errors: int, title: str
):
    """Test errors against temperature, one panel per student width (widest first): every seed as a grey dot, the
    mean with its min–max range, the band where §3 says the best temperatures lie, and for the 800-unit student the
    paper's 74 errors at T = 20 (``paper_errors``)."""
    widths = sorted(summary.width.unique(), reverse=True)
    fig, axes = plt.subplots(1, len(widths), figsize=(4.2 * len(widths), 3.4))
    for ax, width in zip(np.atleast_1d(axes), widths):
        s = summary[summary.width == width].sort_values("temperature")
        pts = sweep[sweep.width == width]
        ax.scatter(pts.temperature, pts.test_errors, s=12, color="gray", alpha=0.6, label="each seed")
        ax.errorbar(
            s.temperature,
            s["mean"],
            yerr=[s["mean"] - s["min"], s["max"] - s["mean"]],
            marker="o",
            capsize=3,
            label="mean (min–max over seeds)",
        )
        _paper_band(ax, int(width), max(temperatures) * 1.15)
        if width == 800:
            ax.scatter(
                [paper.MNIST_T],
                [paper_errors],
                marker="*",
                s=150,
                color="tab:red",
                zorder=5,
                label=f"paper: {paper_errors} errors at T = {paper.MNIST_T:g}",
            )
        ax.set_xscale("log")
        ax.set_xticks(list(temperatures), [f"{t:g}" for t in temperatures])
        ax.minorticks_off()
        ax.set(xlabel="temperature T", ylabel="test errors", title=f"{width} units per layer")
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_figure(image, label: int, index: int, teacher: np.ndarray, student: np.ndarray, temperature: float):
    """A test digit with the teacher's and the distilled student's soft targets side by side at one temperature."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 2.4), gridspec_kw={"width_ratios": [1, 4]})
    _digit(axes[0], image, "")
    k = np.arange(len(teacher))
    axes[1].bar(k - 0.2, np.asarray(teacher), 0.4, label="teacher")
    axes[1].bar(k + 0.2, np.asarray(student), 0.4, label="distilled")
    axes[1].set_yscale("log")
    axes[1].set_ylim(1e-10, 2)
    axes[1].set_xticks(k)
    axes[1].legend(fontsize=8)
    axes[1].set_title(f"test #{index} (label {label}) at T = {temperature:g}", fontsize=9)
    return fig
