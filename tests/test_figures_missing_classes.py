"""Notebook 04's figures (kdlab.figures.missing_classes) drawn from small synthetic scans and confusion matrices."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from kdlab.figures import missing_classes as figs  # noqa: E402
from kdlab.lessons.missing_classes import confusion_matrix, shift_scan  # noqa: E402
from kdlab.paper import OMIT3, ONLY78  # noqa: E402


@pytest.fixture(autouse=True)
def _close_all():
    yield
    plt.close("all")


def _scan(classes, shifts, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits, labels = torch.randn(300, 10, generator=g), torch.randint(0, 10, (300,), generator=g)
    return shift_scan(logits, labels, classes, shifts)


def test_soft_mass_figure_has_a_bar_per_class_and_the_uniform_line():
    mass = pd.Series({c: 0.01 * (c + 1) for c in range(10) if c != 3}, name="mean p(3) at T=20")
    fig = figs.soft_mass_figure(mass)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.patches) == 9 and len(ax.lines) == 1 and "never-seen 3" in ax.get_title()


def test_omit_scan_figure_draws_both_protocols():
    shifts = np.round(np.arange(-2, 4.01, 0.5), 2)
    fig = figs.omit_scan_figure(_scan([3], shifts), _scan([3], shifts, 1), 1.5, 2.0, OMIT3, n_val=300)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    left, right = fig.axes
    assert len(left.lines) == 4  # all errors, errors on 3s, two chosen shifts
    assert len(left.collections) == 1 and len(left.collections[0].get_offsets()) == 4  # the paper's four stars
    assert len(right.lines) == 2 and "validation (300 cases)" in [t.get_text() for t in right.get_legend().get_texts()]


def test_confusion_figure_shows_only_the_errors():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (200,), generator=g)
    before = confusion_matrix(torch.randn(200, 10, generator=g), labels)
    after = before.copy()
    fig = figs.confusion_figure(before, after, 2.5)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    off = int((before - np.diag(np.diag(before))).sum())
    assert fig.axes[0].get_title().endswith(f"{off} errors") and "+2.5" in fig.axes[1].get_title()
    assert len(fig.axes[0].texts) == int(np.count_nonzero(before - np.diag(np.diag(before))))


def test_keep_scan_figure_draws_test_validation_and_the_paper():
    shifts = np.round(np.arange(-8, 1.01, 0.5), 2)
    fig = figs.keep_scan_figure(_scan([7, 8], shifts), _scan([7, 8], shifts, 1), -7.0, -6.5, ONLY78)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.lines) == 4 and len(ax.collections[0].get_offsets()) == 2
    assert ax.get_title() == "7-and-8 student: error rate vs bias shift"
