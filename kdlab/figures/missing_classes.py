"""Notebook 04's figures (paper §3, the missing-class experiments): what the soft targets say about a class the
transfer set lacks, the errors against the bias shift, and where the errors go before and after it.

Why here: ``kdlab.lessons.missing_classes`` computes the scans and confusion matrices from logits alone; these functions only
draw them, so the notebook's cells stay about the bias correction and each figure is tested on synthetic numbers.
Each returns a matplotlib ``Figure`` and neither shows nor saves it (``kdlab.lab.Lab.figure`` does both).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def soft_mass_figure(mass: pd.Series, cls: int = 3):
    """Mean soft-target probability of the missing class per true class of the transfer cases (``mass``, as
    ``kdlab.lessons.missing_classes.soft_mass_on`` returns it), against the uniform 1 / 10."""
    fig, ax = plt.subplots(figsize=(7, 2.6))
    mass.plot.bar(ax=ax, color="tab:purple")
    ax.axhline(0.1, color="gray", ls=":", label="uniform (0.1)")
    ax.set_xlabel("true class of the transfer case")
    ax.set_ylabel(f"teacher's p({cls})")
    ax.legend(fontsize=8)
    ax.set_title(f"what the soft targets say about the never-seen {cls}")
    return fig


def _chosen(ax, shift_test: float, shift_val: float) -> None:
    ax.axvline(shift_test, color="tab:blue", ls="--", lw=1, label=f"chosen on test: {shift_test:+.1f}")
    ax.axvline(shift_val, color="tab:green", ls="--", lw=1, label=f"chosen on validation: {shift_val:+.1f}")


def omit_scan_figure(
    scan_test: pd.DataFrame,
    scan_val: pd.DataFrame,
    shift_test: float,
    shift_val: float,
    paper: Mapping,
    cls: int = 3,
    n_val: int | None = None,
):
    """Left: the no-``cls`` student's test errors (all, and on ``cls``) against the shift of the bias of ``cls``, the
    shifts chosen on test and on validation, and the paper's figures (``kdlab.paper.OMIT3``) as red stars. Right: the
    error rate on the validation split (``n_val`` cases) and on the test set, the two curves the two protocols minimize."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    ax = axes[0]
    ax.plot(scan_test["shift"], scan_test["total_errors"], label="test: all errors")
    ax.plot(scan_test["shift"], scan_test["errors_on_classes"], label=f"test: errors on {cls}s")
    _chosen(ax, shift_test, shift_val)
    b_all, b_cls, s = paper["errors"], paper["errors_on_3"], paper["shift"]
    a_all, a_cls = paper["errors_after"], paper["errors_on_3_after"]
    ax.scatter(
        [0, s, 0, s],
        [b_all, a_all, b_cls, a_cls],
        marker="*",
        s=120,
        color="tab:red",
        zorder=5,
        label=f"paper: {b_all}/{b_cls} → {a_all}/{a_cls} at {s:+g}",
    )
    ax.set_yscale("log")
    ax.set(xlabel=f"shift of the bias of class {cls}", ylabel="test errors (of 10,000)")
    ax.legend(fontsize=7)
    ax.set_title(f"no-{cls} student: errors vs bias shift")
    ax = axes[1]
    ax.plot(
        scan_val["shift"],
        scan_val["error_rate"],
        color="tab:green",
        label=f"validation ({n_val:,} cases)" if n_val else "validation",
    )
    ax.plot(scan_test["shift"], scan_test["error_rate"], color="tab:blue", alpha=0.6, label="test (10,000 cases)")
    ax.set(xlabel=f"shift of the bias of class {cls}", ylabel="error rate (%)")
    ax.legend(fontsize=8)
    ax.set_title("the two protocols see the same curve, with noise")
    fig.tight_layout()
    return fig


def confusion_figure(before: np.ndarray, after: np.ndarray, shift: float, student: str = "no-3 student"):
    """Two confusion matrices (row = true class, column = prediction) with the diagonal left out, so only the errors
    show, on one colour scale: before the bias shift and after it."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    vmax = max((before - np.diag(np.diag(before))).max(), 1)
    for ax, conf, title in zip(axes, (before, after), ("before (shift 0)", f"after (shift {shift:+.1f})")):
        off = conf - np.diag(np.diag(conf))
        ax.imshow(off, cmap="Reds", vmin=0, vmax=vmax)
        for i, j in zip(*np.nonzero(off)):
            ax.text(j, i, off[i, j], ha="center", va="center", fontsize=7)
        ax.set_xticks(range(len(conf)))
        ax.set_yticks(range(len(conf)))
        ax.set(xlabel="predicted", ylabel="true")
        ax.set_title(f"{student}, {title}: {int(off.sum())} errors", fontsize=9)
    fig.tight_layout()
    return fig


def keep_scan_figure(
    scan_test: pd.DataFrame,
    scan_val: pd.DataFrame,
    shift_test: float,
    shift_val: float,
    paper: Mapping,
    classes: str = "7 and 8",
):
    """The error rate of the student that saw only ``classes`` against the shift of their biases, on test and on
    validation, with the two chosen shifts and the paper's figures (``kdlab.paper.ONLY78``) as red stars."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(scan_test["shift"], scan_test["error_rate"], label="test")
    ax.plot(scan_val["shift"], scan_val["error_rate"], color="tab:green", alpha=0.7, label="validation")
    _chosen(ax, shift_test, shift_val)
    b, a, s = paper["error_rate"], paper["error_rate_after"], paper["shift"]
    ax.scatter(
        [0, s], [b, a], marker="*", s=120, color="tab:red", zorder=5, label=f"paper: {b:g} % → {a:g} % at {s:+g}"
    )
    ax.set(xlabel=f"shift of the biases of {classes}", ylabel="test error rate (%)")
    ax.legend(fontsize=7)
    ax.set_title(f"{classes.replace(' and ', '-and-')} student: error rate vs bias shift")
    return fig
