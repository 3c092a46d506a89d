"""Notebook 03's figures (kdlab.figures.distillation) drawn from small synthetic inputs of the lesson's shapes."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from kdlab.figures import distillation as figs  # noqa: E402

RNG = np.random.default_rng(0)


def _bars(ax):
    return [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]


@pytest.fixture(autouse=True)
def _close_all():
    yield
    plt.close("all")


def test_jitter_figure_has_one_panel_per_image():
    fig = figs.jitter_figure(torch.rand(6, 784))
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes][:2] == ["original", "jitter 1"]
    assert all(len(ax.images) == 1 for ax in fig.axes)


def test_soft_targets_figure_draws_ten_bars_per_temperature():
    probs = {1.0: RNG.dirichlet(np.ones(10)), 20.0: RNG.dirichlet(np.ones(10))}
    fig = figs.soft_targets_figure(torch.rand(784), 2, 1, probs)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert [len(_bars(ax)) for ax in fig.axes[1:]] == [10, 10]
    assert fig.axes[1].get_yscale() == "log" and "T = 20" in fig.axes[2].get_title()


def test_per_class_figure_has_a_bar_per_model_and_class():
    rows = [{"model": m, "class": c, "errors": int(RNG.integers(0, 50))} for m in ("t", "b", "d") for c in range(10)]
    fig = figs.per_class_figure(pd.DataFrame(rows), ["t", "b", "d"], "quick")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert len(_bars(fig.axes[0])) == 30
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["t", "b", "d"]


def test_sweep_figure_has_one_panel_per_width_widest_first():
    temps = (1.0, 4.0, 20.0)
    rows = [
        {"width": w, "temperature": t, "seed": s, "test_errors": int(RNG.integers(50, 300))}
        for w in (30, 800) for t in temps for s in (0, 1)
    ]  # fmt: skip
    sweep = pd.DataFrame(rows)
    summary = sweep.groupby(["width", "temperature"])["test_errors"].agg(["mean", "min", "max"]).reset_index()
    fig = figs.sweep_figure(sweep, summary, temps, 74, "sweep")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["800 units per layer", "30 units per layer"]
    wide, narrow = fig.axes
    assert len(wide.collections) > len(narrow.collections)  # the paper's star is on the 800-unit panel only
    assert fig._suptitle.get_text() == "sweep"


def test_compare_figure_draws_teacher_and_student_bars():
    p, q = RNG.dirichlet(np.ones(10)), RNG.dirichlet(np.ones(10))
    fig = figs.compare_figure(torch.rand(784), 7, 3, p, q, 4.0)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(_bars(fig.axes[1])) == 20 and "T = 4" in fig.axes[1].get_title()
