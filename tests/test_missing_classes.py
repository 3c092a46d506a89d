"""Missing-class transfer sets and the bias-shift correction (kdlab.lessons.missing_classes, notebook 04), on small synthetic data."""

import numpy as np
import pandas as pd
import pytest
import torch

from kdlab.core.evaluate import predict_logits
from kdlab.core.models import MLP
from kdlab.lessons.common import validation_split
from kdlab.lessons.missing_classes import (
    choose_shift,
    class_mask,
    confusion_matrix,
    errors_at,
    keep_classes,
    omit_classes,
    shift_output_bias,
    shift_scan,
    shifted_logits,
)


def test_transfer_sets_omit_and_keep_exactly_the_named_classes():
    labels = torch.tensor([0, 3, 7, 8, 3, 1, 8, 3])
    no3 = omit_classes(labels, [3])
    assert no3.tolist() == [0, 2, 3, 5, 6]
    assert not (labels[no3] == 3).any()
    only78 = keep_classes(labels, [7, 8])
    assert only78.tolist() == [2, 3, 6]
    assert class_mask(labels, [3]).sum() == 3
    # together the two complementary transfer sets cover every case once
    assert sorted(omit_classes(labels, [7, 8]).tolist() + only78.tolist()) == list(range(len(labels)))


def test_validation_split_is_disjoint_complete_and_seeded():
    train, val = validation_split(100, 20, seed=3)
    assert len(val) == 20 and len(train) == 80
    assert set(train.tolist()).isdisjoint(val.tolist())
    assert sorted(train.tolist() + val.tolist()) == list(range(100))
    assert torch.equal(val, validation_split(100, 20, seed=3)[1])
    assert not torch.equal(val, validation_split(100, 20, seed=4)[1])
    with pytest.raises(ValueError):
        validation_split(10, 10)


def _brute_force(logits, labels, classes, shifts):
    rows = []
    for s in shifts:
        pred = shifted_logits(logits, classes, s).argmax(-1)
        wrong = pred != labels
        in_c = torch.isin(labels, torch.tensor(classes))
        rows.append((int(wrong.sum()), int((wrong & in_c).sum())))
    return rows


@pytest.mark.parametrize("classes", [[3], [7, 8]])
def test_shift_scan_matches_a_loop_over_shifts(classes):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(500, 10, generator=g) * 3
    labels = torch.randint(0, 10, (500,), generator=g)
    shifts = np.round(np.arange(-4, 4.01, 0.5), 2)
    scan = shift_scan(logits, labels, classes, shifts)
    assert list(scan.columns) == ["shift", "total_errors", "error_rate", "errors_on_classes"]
    expected = _brute_force(logits, labels, classes, shifts)
    assert scan["total_errors"].tolist() == [e[0] for e in expected]
    assert scan["errors_on_classes"].tolist() == [e[1] for e in expected]
    np.testing.assert_allclose(scan["error_rate"], scan["total_errors"] / 500 * 100)


def test_scan_recovers_a_bias_that_is_too_low():
    # a perfect classifier whose logit for class 3 was pushed down by 2.5: the scan must find a shift that undoes it
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 10, (2000,), generator=g)
    logits = torch.randn(2000, 10, generator=g) * 0.3
    logits[torch.arange(2000), labels] += 2.0  # margin 2 ± noise
    logits[:, 3] -= 2.5
    before = errors_at(logits, labels, [3], 0.0)
    assert before["errors_on_classes"] > 0.9 * int((labels == 3).sum())  # almost every 3 is lost
    scan = shift_scan(logits, labels, [3], np.round(np.arange(0, 6.01, 0.1), 2))
    best = choose_shift(scan)
    assert 1.5 <= best <= 4.0
    after = errors_at(logits, labels, [3], best)
    assert after["total_errors"] < 0.05 * before["total_errors"]


def test_choose_shift_prefers_the_smallest_change_on_ties():
    scan = pd.DataFrame({"shift": [-2.0, -1.0, 0.5, 1.0, 3.0], "total_errors": [5, 3, 3, 3, 4]})
    assert choose_shift(scan) == 0.5
    assert choose_shift(scan.assign(other=[0, 9, 9, 9, 9]), column="other") == -2.0


def test_shifting_the_model_bias_equals_shifting_the_logits():
    torch.manual_seed(0)
    model = MLP(12, (6, 6), 10)
    x = torch.randn(64, 12)
    base = predict_logits(model, x)
    shift_output_bias(model, [7, 8], -1.7)
    torch.testing.assert_close(predict_logits(model, x), shifted_logits(base, [7, 8], -1.7), rtol=0, atol=1e-6)
    shift_output_bias(model, [7, 8], 1.7)
    torch.testing.assert_close(predict_logits(model, x), base, rtol=0, atol=1e-6)


def test_confusion_matrix_rows_are_true_classes():
    logits = torch.eye(4)[[0, 1, 2, 2, 3]]  # predictions 0 1 2 2 3
    labels = torch.tensor([0, 1, 2, 3, 3])  # one true 3 predicted as 2
    conf = confusion_matrix(logits, labels, num_classes=4)
    assert conf.sum() == 5
    assert conf[3, 2] == 1 and conf[2, 3] == 0
    assert np.trace(conf) == 4


# ------------------------------------------------------------------------------------- notebook 04's read-outs
def test_soft_mass_on_averages_the_missing_class_per_true_class():
    from kdlab.lessons.missing_classes import soft_mass_on

    logits = torch.zeros(4, 10)
    logits[0, 3] = 2.0  # a 5 that looks like a 3
    labels = torch.tensor([5, 5, 8, 1])
    mass = soft_mass_on(logits, labels, 3, 1.0)
    assert list(mass.index) == [1, 5, 8] and mass.name == "mean p(3) at T=1"
    p = float(torch.softmax(logits[0], -1)[3])
    assert mass[5] == pytest.approx((p + 0.1) / 2) and mass[8] == pytest.approx(0.1)
    assert soft_mass_on(logits, labels, 3, 20.0)[5] < mass[5]  # a high temperature flattens the targets


def test_logit_rank_counts_the_classes_above_the_true_one():
    from kdlab.lessons.missing_classes import logit_rank

    logits = torch.tensor([[0.0, 0, 0, 5, 0], [0.0, 9, 0, 5, 0], [7.0, 9, 0, 5, 0], [9.0, 0, 0, 0, 0]])
    labels = torch.tensor([3, 3, 3, 0])
    assert logit_rank(logits, labels, 3).tolist() == [0, 1, 2]


def test_steps_matched_scales_the_epochs_by_the_size_ratio_never_down():
    from kdlab.core.config import TrainConfig
    from kdlab.lessons.missing_classes import steps_matched

    cfg = TrainConfig(epochs=20, lr=0.05)
    assert steps_matched(cfg, 4463, 978).epochs == 92  # ceil(20 × 4.563…)
    assert steps_matched(cfg, 100, 400).epochs == 20
    assert steps_matched(cfg, 100, 100).lr == 0.05


def test_errors_at_shifts_tables_and_metrics():
    from kdlab.lessons.missing_classes import (
        errors_at_shifts,
        keep_table,
        missing_class_metrics,
        omit_table,
        scan_artifact,
    )

    g = torch.Generator().manual_seed(1)
    logits, labels = torch.randn(200, 10, generator=g), torch.randint(0, 10, (200,), generator=g)
    shifts = {"before": 0.0, "test": 1.0, "validation": 1.5, "paper": 3.5}
    omit3 = errors_at_shifts(logits, labels, [3], shifts)
    assert list(omit3) == list(shifts) and omit3["test"] == errors_at(logits, labels, [3], 1.0)
    n3 = int((labels == 3).sum())
    table = omit_table(omit3, ["—", "test", "validation", "paper"], 3, n3, ["a", "b", "c", "d"])
    assert list(table.columns) == ["student", "chosen on", "total_errors", "error_rate", "errors_on_3",
                                   "3s right (%)", "paper"]  # fmt: skip
    assert table["3s right (%)"][0] == round(100 * (1 - omit3["before"]["errors_on_classes"] / n3), 1)
    at78 = errors_at_shifts(logits, labels, [7, 8], {"before": 0.0, "test": -1.0, "validation": -2.0, "paper": -7.6})
    table78 = keep_table(at78, ["a", "b", "c", "d"])
    assert list(table78.columns) == ["chosen on", "shift", "total_errors", "error_rate", "paper"]
    scan = scan_artifact(shift_scan(logits, labels, [3], [0.0, 1.0]), 3)
    assert list(scan.columns) == ["shift", "total_errors", "errors_on_3"]
    metrics = missing_class_metrics(omit3, at78)
    assert metrics["omit3_errors"] == omit3["before"]["total_errors"] and metrics["omit3_val_shift"] == 1.5
    assert (
        metrics["only78_test_shift"] == -1.0 and metrics["only78_paper_shift_error_rate"] == at78["paper"]["error_rate"]
    )
    assert len(metrics) == 15


def test_top_confusions_and_misread_read_a_confusion_matrix():
    from kdlab.lessons.missing_classes import misread, top_confusions

    conf = np.zeros((10, 10), dtype=int)
    conf[3, 3], conf[3, 5], conf[3, 8], conf[3, 9], conf[3, 2] = 50, 7, 3, 3, 1
    conf[5, 3], conf[8, 3] = 2, 1
    assert top_confusions(conf, 3) == [(5, 7), (9, 3), (8, 3)]  # ties: the larger class first
    assert misread(conf, 3) == (14, 3)
