"""kdlab.figures.temperature (notebook 01's figures) on small synthetic inputs of the notebook's shapes."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from kdlab.figures import temperature as figs
from kdlab.lessons.temperature import entropy_vs_temperature, tail_weight_vs_temperature

matplotlib.use("Agg")  # no window; the figure functions import pyplot only when called

TS = [1.0, 2.0, 5.0, 20.0, 100.0]


@pytest.fixture
def test_set():
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (12, 28, 28), dtype=np.uint8))
    logits = torch.from_numpy(rng.standard_normal((12, 10)) * 8.0)
    labels = logits.argmax(-1)
    return images, logits, labels


def _bars(ax) -> int:
    return len(ax.patches)


def test_look_alikes_figure_one_row_per_image(test_set):
    images, logits, labels = test_set
    fig = figs.look_alikes_figure(images, logits, labels, [3, 7], 2, (3, 7), 20.0)
    try:
        assert isinstance(fig, Figure)
        assert len(fig.axes) == 6  # 2 rows × (image, T = 1, T = 20)
        assert [_bars(ax) for ax in fig.axes] == [0, 10, 10] * 2
        assert fig.axes[1].get_yscale() == "log" and fig.axes[2].get_title().startswith("T = 20:")
        colors = [tuple(p.get_facecolor()) for p in fig.axes[1].patches]
        assert colors[2] == matplotlib.colors.to_rgba(figs.TRUE_COLOR)
        assert colors[3] == colors[7] == matplotlib.colors.to_rgba(figs.LOOK_ALIKE_COLOR)
    finally:
        plt.close(fig)


def test_look_alikes_figure_without_any_image(test_set):
    fig = figs.look_alikes_figure(*test_set, [], 2, (3, 7), 20.0)
    try:
        assert isinstance(fig, Figure) and len(fig.axes) == 3
        assert sum(_bars(ax) for ax in fig.axes) == 0
    finally:
        plt.close(fig)


def test_explorer_figure_image_and_bars(test_set):
    images, logits, labels = test_set
    fig = figs.explorer_figure(images, logits, labels, 5, 3.0)
    try:
        assert isinstance(fig, Figure) and len(fig.axes) == 2
        assert _bars(fig.axes[1]) == 10 and len(fig.axes[0].images) == 1
        assert fig.axes[0].get_title() == f"test #5, label {int(labels[5])}"
        heights = [p.get_height() for p in fig.axes[1].patches]
        np.testing.assert_allclose(heights, torch.softmax(logits[5] / 3.0, -1).numpy(), rtol=1e-12)
    finally:
        plt.close(fig)


def test_strip_figure_one_panel_per_temperature(test_set):
    fig = figs.strip_figure(*test_set, 0, TS, 2, (3, 7))
    try:
        assert isinstance(fig, Figure) and len(fig.axes) == 1 + len(TS)
        assert [_bars(ax) for ax in fig.axes[1:]] == [10] * len(TS)
        assert [ax.get_title().split(":")[0] for ax in fig.axes[1:]] == [f"T = {t:g}" for t in TS]
    finally:
        plt.close(fig)


def test_entropy_figure_curves_and_markers(test_set):
    _, logits, _ = test_set
    fig = figs.entropy_figure(pd.DataFrame(entropy_vs_temperature(logits, TS)), 20.0)
    try:
        assert isinstance(fig, Figure) and len(fig.axes) == 1
        ax = fig.axes[0]
        assert len(ax.lines) == 4  # mean, median, uniform maximum, T = 20
        assert ax.get_xscale() == "log"
        assert ax.lines[2].get_ydata()[0] == pytest.approx(np.log2(10))
    finally:
        plt.close(fig)


def test_tail_weight_figure_curves_and_limit(test_set):
    _, logits, _ = test_set
    table = pd.DataFrame(tail_weight_vs_temperature(logits, TS, 1e-3))
    fig = figs.tail_weight_figure(table, 0.9, 20.0, 1e-3, 7.5)
    try:
        assert isinstance(fig, Figure) and len(fig.axes) == 1
        ax = fig.axes[0]
        assert len(ax.lines) == 4  # weight, gradient, T → ∞ limit, T = 20
        assert ax.get_xscale() == ax.get_yscale() == "log"
        assert "7.5 per image" in ax.get_title()
        np.testing.assert_allclose(ax.lines[1].get_ydata(), table.tail_gradient)
    finally:
        plt.close(fig)


def test_gradient_noise_figure_puts_both_losses_per_state_on_log_axes():
    rows = [{"state": s, "seed": 0, "subset": k, "loss": loss, "noise_ratio": r * (k + 1), "trace_variance": v}
            for s in ("initialization", "after hard-label training") for k in range(2)
            for loss, r, v in (("hard", 100.0, 4.0), ("soft", 30.0, 20.0))]  # fmt: skip
    fig = figs.gradient_noise_figure(rows, 20.0, "initialization")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    left, right = fig.axes
    assert left.get_yscale() == "log" and "judged" in left.get_title()
    heights = sorted(round(p.get_height(), 6) for p in left.patches)
    assert heights == [45.0, 45.0, 150.0, 150.0]  # means over the two subsets, per state and loss
    assert [t.get_text() for t in left.get_xticklabels()][0] == "initialization (claim)"
    plt.close(fig)
