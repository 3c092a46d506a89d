"""The hard-weight sweep of notebook 02 (kdlab.lessons.logit_matching_hard_weight): members, best weights, the sentence."""

import pytest
import torch

from kdlab.lessons import logit_matching_hard_weight as hws


def _rows(errors):
    """errors[(t_squared, T)] = errors per weight of (0.01, 0.1, 1.0)."""
    return [{"temperature": t, "hard_weight": w, "t_squared": k, "val_errors": e}
            for (k, t), es in errors.items() for w, e in zip((0.01, 0.1, 1.0), es)]  # fmt: skip


def test_best_weight_is_the_fewest_held_out_errors_and_the_smaller_on_a_tie():
    rows = _rows({(True, 2.0): [50, 40, 65], (True, 20.0): [45, 40, 40], (False, 2.0): [50, 40, 65],
                  (False, 20.0): [90, 70, 41]})  # fmt: skip
    best = hws.best_weights(rows)
    assert best == {(True, 2.0): 0.1, (True, 20.0): 0.1, (False, 2.0): 0.1, (False, 20.0): 1.0}
    assert hws.moves(best, True) == pytest.approx(0.0)
    assert hws.moves(best, False) == pytest.approx(1.0)
    assert hws.within_noise(rows)[(True, 2.0)] == [0.01, 0.1]  # 50 − 40 ≤ 2√90; 65 − 40 > 2√105
    assert hws.within_noise(rows)[(False, 20.0)] == [1.0]  # 70 − 41 > 2√111
    text = hws.sweep_sentence(rows)
    assert "with T² the best hard weight is 0.1 at T = 2 (0.01–0.1 within noise), 0.1 at T = 20 (0.01–1 within" in text
    assert "it moves 0.0 decades, and the weights within noise overlap across T" in text
    assert "1 at T = 20 (1 within noise, the edge of the grid): it moves 1.0 decades, and no weight is within" in text


def test_members_cover_the_grid_with_and_without_t_squared():
    spec = hws.SweepSpec(temperatures=(2.0, 20.0), hard_weights=(0.1, 1.0))
    members = spec.members()
    assert len(members) == 8 and len(set(members)) == 8
    assert {k for _, _, k in members} == {True, False}


def test_sweep_trains_each_member_and_refuses_a_zero_weight():
    torch.manual_seed(0)
    x, v = torch.rand(64, 12), 4 * torch.randn(64, 10)
    y = v.argmax(1)
    spec = hws.SweepSpec(temperatures=(2.0, 20.0), hard_weights=(0.1, 1.0), epochs=1, lr=0.05)
    rows = hws.run_sweep(spec, x, y, v, x[:20], y[:20], (8,), seed=0, device="cpu")
    assert [(r["temperature"], r["hard_weight"], r["t_squared"]) for r in rows] == spec.members()
    assert all(0 <= r["val_errors"] <= 20 for r in rows)
    with pytest.raises(ValueError, match="hard weights > 0"):
        hws.run_sweep(hws.SweepSpec(hard_weights=(0.0, 1.0)), x, y, v, x, y, (8,), seed=0, device="cpu")
