"""Missing-class transfer sets and the bias-shift correction (kdlab.bias, notebook 04), on small synthetic data."""

import numpy as np
import pandas as pd
import pytest
import torch

from kdlab.bias import (
    choose_shift,
    class_mask,
    confusion_matrix,
    errors_at,
    keep_classes,
    omit_classes,
    shift_output_bias,
    shift_scan,
    shifted_logits,
    validation_split,
)
from kdlab.models import MLP
from kdlab.train import predict_logits


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
