"""kdlab.figures.specialists: each of notebook 06's figures drawn from small synthetic inputs of the lesson's shapes."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from kdlab.figures import specialists as figs

matplotlib.use("Agg")  # no display: the figures are only built and counted

C = 12  # classes of the synthetic task


@pytest.fixture
def images() -> np.ndarray:
    """One (28, 56) uint8 image per class, like ``MNIST100.class_examples``."""
    return np.random.default_rng(0).integers(0, 256, size=(C, 28, 56), dtype=np.uint8)


def _check(fig, axes: int) -> list:
    assert isinstance(fig, Figure)
    assert len(fig.axes) == axes
    return fig.axes


def test_class_examples_figure_shows_one_titled_image_per_class(images):
    classes = [0, 3, 5, 7, 11]
    fig = figs.class_examples_figure(images, classes, per_row=4)  # 2 rows of 4 panels, 3 left empty
    axes = _check(fig, 8)
    shown = [ax for ax in axes if ax.images]
    assert len(shown) == 5 and [ax.get_title() for ax in shown] == [f"class {c:02d}" for c in classes]
    plt.close(fig)


def test_cluster_grid_figure_one_row_per_cluster(images):
    clusters = [np.array([0, 1, 2]), np.array([3, 4]), np.array([5, 6, 7, 8, 9, 10])]
    fig = figs.cluster_grid_figure(images, clusters, [0.3, 0.2, 0.1], max_clusters=2, per_row=4)
    axes = _check(fig, 2 * 3)  # two clusters shown, as wide as the larger one (3 classes)
    assert sum(len(ax.images) for ax in axes) == 5
    plt.close(fig)


def test_covariance_figure_outlines_each_cluster():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(C), size=50)
    cov = np.cov(p, rowvar=False)
    assignment = np.arange(C) % 3
    order = np.argsort(assignment, kind="stable")
    fig = figs.covariance_figure(cov, order, assignment)
    heat, _colorbar = _check(fig, 2)
    assert heat.images[0].get_array().shape == (C, C)
    assert len(heat.patches) == 3  # one outlined block per cluster
    plt.close(fig)


def test_table4_figure_one_bar_per_coverage_bucket():
    table4 = pd.DataFrame({
        "n_specialists": [0, 1, 2, 3],
        "n_test_examples": [100, 500, 300, 50],
        "n_changed_correct": [0, 12, 9, -1],
        "relative_improvement": [0.0, 0.03, 0.04, -0.02],
    })  # fmt: skip
    (ax,) = _check(figs.table4_figure(table4), 1)
    assert len(ax.patches) == 4 and len(ax.lines) == 1  # the bars and the zero line
    assert [round(p.get_height(), 6) for p in ax.patches] == [0.0, 3.0, 4.0, -2.0]  # in percent
    assert ax.get_xticklabels()[1].get_text() == "1\n(n=500)"
    plt.close(ax.figure)


def test_curves_figure_one_line_per_kind_and_split():
    rows = [
        {"step": s, "specialist": m, "split": split, "cond_acc": 0.9, "cond_nll": 0.3, "kind": kind}
        for kind in ("dustbin", "soft")
        for split in ("train", "test")
        for m in range(2)
        for s in (0, 50, 100)
    ]
    acc, nll = _check(figs.curves_figure(pd.DataFrame(rows), "§6.1"), 2)
    assert len(acc.lines) == len(nll.lines) == 4  # (dustbin, soft) × (train, test), averaged over specialists
    assert all(len(line.get_xdata()) == 3 for line in acc.lines)
    plt.close(acc.figure)


def test_specialist_figure_shows_its_classes(images):
    fig = figs.specialist_figure(images, np.array([2, 4, 6]), 0.8, 0.85, index=3)
    axes = _check(fig, 3)
    assert [ax.get_title() for ax in axes] == ["02", "04", "06"]
    assert "specialist 3" in fig._suptitle.get_text() and "80.0%" in fig._suptitle.get_text()
    plt.close(fig)
