"""kdlab.figures.logit_matching: each figure of notebook 02 drawn from small synthetic tables of the right shape."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kdlab.figures.logit_matching import (
    convergence_by_epoch_figure,
    convergence_figure,
    gradient_error_figure,
    logit_weight_figure,
)

matplotlib.use("Agg")  # no window; the figure functions import pyplot only when called

TEMPS = ["1", "2", "5", "20", "100"]


def _gradient_table(scale, floor=0.0):
    ts = np.logspace(0, 4, 9)
    return pd.DataFrame(
        {
            "temperature": ts,
            "zero_mean": True,
            "rel_error_eq3": scale / ts,
            "rel_error_logit_matching": scale / ts + floor,
        }
    )


def _convergence():
    labels = [*TEMPS, "logit_matching"]
    rise = np.linspace(0.8, 1.0, len(labels))
    return pd.DataFrame(
        {
            "temperature": labels,
            "test_errors": [1800, 1200, 1000, 1150, 1300, 1380],
            "agreement_with_logit_matching": rise,
            "logit_corr": rise,
            "agreement_with_teacher": rise - 0.05,
            "logit_corr_with_teacher": rise - 0.1,
        }
    )


def test_gradient_error_figure():
    curves = {"zero-meaned": _gradient_table(5.0), "raw": _gradient_table(5.0, 0.04), "shifted": _gradient_table(9, 1)}
    fig = gradient_error_figure(curves, level=0.1, n_cases=2000)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.lines) == 2 * 3 + 2  # eq. 3 and eq. 4 per logit set, the 1/T guide, the error level
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "2000 test cases" in ax.get_title()
    guide = ax.lines[6].get_ydata()
    assert guide[-1] == curves["zero-meaned"].rel_error_eq3.iloc[-1]  # through the first set's eq. 3 at the top T
    plt.close(fig)


def test_logit_weight_figure():
    rows = [
        {"temperature": t, "group": g, "mean_weight": w * t / (1 + t), "n_logits": n}
        for t in (1.0, 10.0, 100.0)
        for g, w, n in (("top class", 1.2, 10), ("0 to 5 below the mean", 0.5, 40), ("more than 10 below", 1e-6, 5))
    ]
    fig = logit_weight_figure(pd.DataFrame(rows), high_t=20.0)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.lines) == 3 + 2  # one per depth group, logit matching at 1, the HIGH_T marker
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "top class (10 logits)"
    plt.close(fig)


def test_convergence_figure():
    fig = convergence_figure(_convergence(), (64, 64), epochs=3, n_transfer=10000, profile="quick")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert [len(ax.lines) for ax in fig.axes] == [2, 2, 2]  # vs logit matching and teacher; errors and its line
    assert len(fig.axes[0].lines[0].get_xdata()) == len(TEMPS)  # the logit-matching row is not a point
    assert "784-64-64-10" in fig._suptitle.get_text()
    plt.close(fig)


def test_convergence_by_epoch_figure():
    rows = [
        {"epoch": e, "temperature": t, "agreement_with_logit_matching": 0.9, "logit_corr": 1 - 0.1 / (e * (k + 1))}
        for e in (1, 2, 3)
        for k, t in enumerate([*TEMPS, "logit_matching"])
    ]
    fig = convergence_by_epoch_figure(pd.DataFrame(rows))
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.lines) == len(TEMPS)  # one per distillation temperature; logit matching is the reference
    assert list(ax.get_xticks()) == [1, 2, 3] and ax.get_yscale() == "log"
    plt.close(fig)


def test_t_squared_figure_draws_both_factors_on_log_axes():
    from kdlab.figures.logit_matching import t_squared_figure

    rows = [{"seed": 0, "subset": k, "temperature": t, "t_squared": keep, "relative": r, "share": r / (1 + r)}
            for k in range(2) for t in (1.0, 5.0, 20.0) for keep in (True, False)
            for r in [(10.0 + t + k) / (1 if keep else t * t)]]  # fmt: skip
    fig = t_squared_figure(rows, 0.1)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    left, right = fig.axes
    assert left.get_xscale() == "log" and left.get_yscale() == "log"
    assert {line.get_label() for line in left.get_lines()} == {"with T²", "without T²"}
    assert "0.1" in right.get_title()
    plt.close(fig)


def test_hard_weight_sweep_figure_stars_the_best_weight_per_temperature():
    from kdlab.figures.logit_matching import hard_weight_sweep_figure

    rows = [{"temperature": t, "hard_weight": w, "t_squared": keep, "val_errors": int(100 + 10 * abs(i - (1 if keep else 3)))}
            for t in (2.0, 20.0) for keep in (True, False) for i, w in enumerate((0.001, 0.01, 0.1, 1.0))]  # fmt: skip
    fig = hard_weight_sweep_figure(rows, 10000)
    left, right = fig.axes
    stars = [line for line in left.get_lines() if line.get_marker() == "*"]
    assert [float(s.get_xdata()[0]) for s in stars] == [0.01, 0.01]
    assert [float(s.get_xdata()[0]) for s in right.get_lines() if s.get_marker() == "*"] == [1.0, 1.0]
    assert "10,000" in left.get_ylabel()
    plt.close(fig)
