"""kdlab.figures.speech: each of notebook 05's figures drawn from small synthetic inputs of the lesson's shapes."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from kdlab.figures import speech as figs
from kdlab.lessons.speech import MATCHED_CONTROL

matplotlib.use("Agg")  # no display: the figures are only built and counted

PAPER = {"baseline": (58.9, 10.9), "10x ensemble": (61.1, 10.7), "distilled": (60.8, 10.7)}


@pytest.fixture
def table1() -> pd.DataFrame:
    """run_table1's table: baseline, ensemble, the chosen student first, then the other one (not decoded)."""
    return pd.DataFrame({
        "model": ["baseline", "10x ensemble", "distilled T=2", "distilled T=1"],
        "temperature": [np.nan, np.nan, 2.0, 1.0],
        "frame_acc_val": [50.0, 54.0, 53.0, 52.0],
        "frame_acc_seen": [51.0, 55.0, 54.0, 53.0],
        "frame_acc_unseen": [41.0, 44.0, 43.0, 42.0],
        "chosen_on_val": [False, False, True, False],
        "phone_error_rate": [30.0, 27.0, 28.0, np.nan],
        "phone_error_rate_unseen": [40.0, 37.0, 38.0, np.nan],
    })  # fmt: skip


def _check(fig, axes: int) -> list:
    assert isinstance(fig, Figure)
    assert len(fig.axes) == axes
    return fig.axes


def test_spectrogram_marks_every_phone_change():
    phones = ["sil"] * 5 + ["a"] * 10 + ["b"] * 5 + ["a"] * 10  # 4 segments
    fig = figs.spectrogram_figure(np.random.default_rng(0).normal(size=(30, 40)), phones, "en+m1")
    (ax,) = _check(fig, 1)
    assert len(ax.images) == 1 and ax.images[0].get_array().shape == (40, 30)  # bins up, frames across
    assert len(ax.lines) == 4 and [t.get_text() for t in ax.texts] == ["sil", "a", "b", "a"]
    plt.close(fig)


def test_table1_figure(table1):
    temps = pd.DataFrame({"temperature": [1.0, 2.0], "val_frame_acc": [52.0, 53.0]})
    fig = figs.table1_figure(table1, temps, "quick")
    bars, sweep = _check(fig, 2)
    assert len(bars.patches) == 2 * len(table1)  # seen and unseen, per system
    assert len(sweep.lines) == 3  # the students by T, the baseline and the ensemble
    plt.close(fig)


def test_gain_kept_figure(table1):
    fig = figs.gain_kept_figure(table1, PAPER, "quick")
    acc, per = _check(fig, 2)
    assert len(acc.patches) == 3 * 3  # three systems: seen, unseen, the paper
    assert len(per.patches) == 3 * 2  # three systems: seen, unseen
    assert "keeps 75% of the gain" in " ".join(t.get_text() for t in acc.texts)  # (54 − 51) / (55 − 51)
    plt.close(fig)


def test_gain_kept_figure_puts_the_matched_control_beside_the_models_it_controls(table1):
    control = pd.DataFrame({"model": [MATCHED_CONTROL], "frame_acc_val": [52.5], "frame_acc_seen": [53.5],
                            "frame_acc_unseen": [42.5], "chosen_on_val": [False]})  # fmt: skip
    fig = figs.gain_kept_figure(pd.concat([table1, control], ignore_index=True), PAPER, "quick")
    acc, per = _check(fig, 2)
    assert len(acc.patches) == 4 * 2 + 3  # four systems, seen and unseen; the paper's three
    labels = [t.get_text() for t in acc.get_legend().get_texts()]
    assert labels[-1].startswith("matched control (hard labels")
    assert [p.get_height() for p in acc.patches[3:8:4]] == [53.5, 42.5]  # the control's bar, next to the student's
    assert len(per.patches) == 3 * 2  # the phone error rate: the three decoded systems only
    plt.close(fig)


def test_gain_by_t_figure_one_pair_of_bars_per_temperature():
    gt = pd.DataFrame({"temperature": [1.0, 2.0, 5.0, 10.0], "gain_kept_vs_baseline": [120.0, 90.0, 40.0, 10.0],
                       "gain_kept_vs_control": [80.0, 30.0, None, -20.0], "chosen_on_val": [True, False, False, False]})  # fmt: skip
    (ax,) = _check(figs.gain_by_t_figure(gt, 80.0), 1)
    assert len(ax.patches) == 8 and [t.get_text() for t in ax.get_xticklabels()][0] == "T = 1 (chosen)"
    assert [line.get_ydata()[0] for line in ax.lines[:2]] == [100, 80.0]  # the whole gain, the paper's 80 %
    plt.close("all")


def test_posteriors_figure_shows_three_systems():
    frames, classes = 50, 9
    p = np.random.default_rng(0).dirichlet(np.ones(classes), size=frames)
    post = {"teacher": p, "distilled": p, "baseline": p, "labels": np.arange(frames) % classes,
            "utt_bounds": np.array([0, 30, 50]), "phones": np.array([f"p{i}" for i in range(classes)])}  # fmt: skip
    axes = _check(figs.posteriors_figure(post, frames=200), 3)
    for ax in axes:
        assert len(ax.images) == 1 and ax.images[0].get_array().shape == (classes, 30)  # the first utterance only
        assert len(ax.lines) == 1
    plt.close("all")


def test_table5_curves_one_panel_per_setting():
    rows = [{"setting": s, "epoch": e, "train_acc": 50 + e, "val_acc": 40.0, "test_acc": 39.0}
            for s in ("baseline (3% of training set)", "soft targets (3% of training set)") for e in (1, 2, 3)]  # fmt: skip
    axes = _check(figs.table5_curves_figure(pd.DataFrame(rows), 45.0), 2)
    assert [len(ax.lines) for ax in axes] == [4, 4]  # train, validation, test, the full-data baseline
    assert axes[0].get_title().startswith("baseline (3%")
    several = pd.DataFrame([r | {"member": m} for r in rows for m in (0, 1, 2)])  # three initializations
    axes = _check(figs.table5_curves_figure(several, 45.0), 2)
    assert [len(ax.lines[0].get_xdata()) for ax in axes] == [3, 3]  # the first initialization's curve, not all
    plt.close("all")


def test_per_phone_figure_has_a_bar_per_phone_and_model():
    by_phone = pd.DataFrame({"baseline": [0.5, 0.6, 0.7], "10x ensemble": [0.6, 0.6, 0.8]}, index=["a", "b", "c"])
    (ax,) = _check(figs.per_phone_figure(by_phone), 1)
    assert len(ax.patches) == 6 and "3 most frequent phones" in ax.get_title()
    plt.close("all")
