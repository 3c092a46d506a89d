"""Notebook 03's controls and §2 experiments: per-member hard weights, seeds repeated as members, early stopping on
validation, the matched-baseline choice and the two §2 claims (each verdict on constructed numbers)."""

from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch

from kdlab.claim_record import Claims
from kdlab.core.config import TrainConfig, seed_everything
from kdlab.core.early_stopping import BestEpoch
from kdlab.core.losses import distillation_loss, per_member_distillation_loss
from kdlab.core.models import MLP
from kdlab.core.seeds import fit_seeds
from kdlab.core.train import fit
from kdlab.lessons.claims.distillation import mnist_distillation_claims
from kdlab.lessons.claims.distillation_controls import (
    learning_rate_sentence,
    low_hard_weight_claim,
    soft_less_data_claim,
)
from kdlab.lessons.distillation import PROFILES
from kdlab.lessons.distillation_controls import (
    Grid,
    best_by_validation,
    run_hard_weight_sweep,
    run_small_transfer,
    train_matched_baseline,
)
from kdlab.paper import MNIST_ERRORS


def _data(n=200, d=784, classes=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.rand(classes, d, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return (centers[y] + 0.3 * torch.rand(n, d, generator=g)).clamp(0, 1), y


# --- the loss and the members -------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_member_labels", [False, True])
def test_per_member_hard_weights_equal_separate_distillation_losses(per_member_labels):
    g = torch.Generator().manual_seed(0)
    weights = (0.0, 0.1, 1.0)
    z = torch.randn(3, 16, 10, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(16, 10, generator=g, dtype=torch.float64) * 5
    y = torch.randint(0, 10, (3, 16) if per_member_labels else (16,), generator=g)
    per_member_distillation_loss((20.0,) * 3, weights)(z, y, v).backward()
    for m, w in enumerate(weights):
        zm = z[m].detach().clone().requires_grad_(True)
        distillation_loss(zm, y[m] if per_member_labels else y, v, 20.0, w).backward()
        torch.testing.assert_close(z.grad[m], zm.grad, rtol=1e-12, atol=1e-12)
    # the check can fail: one weight for all is not these losses
    assert not torch.allclose(
        torch.autograd.grad(per_member_distillation_loss((20.0,) * 3, 0.1)(z, y, v), z)[0][2], z.grad[2]
    )
    with pytest.raises(ValueError, match="2 hard weights but 3"):
        per_member_distillation_loss((20.0,) * 3, (0.1, 0.2))
    with pytest.raises(ValueError, match="≥ 0"):
        per_member_distillation_loss((20.0,), (-0.1,))


def test_repeated_seeds_are_paired_members_that_equal_separate_runs():
    x, y = _data(n=96, d=20)
    teacher = torch.randn(96, 10) * 3
    make = partial(MLP, 20, (8, 8), 10)
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.05, temperature=20.0, grad_clip=5.0, progress=False,
                      precision="fp32")  # fmt: skip
    weights, seeds = (0.0, 1.0), (3, 7)
    loss = per_member_distillation_loss((20.0,) * 4, weights * 2)
    stack, _ = fit_seeds(make, x, y, seeds, config=cfg, teacher_logits=teacher, device="cpu", repeat=2, loss_fn=loss)
    for m, (s, w) in enumerate([(s, w) for s in seeds for w in weights]):
        seed_everything(s)
        alone = make()
        fit(alone, x, y, config=replace(cfg, seed=s, hard_weight=w), teacher_logits=teacher, device="cpu")
        for a, b in zip(stack.member(m).parameters(), alone.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="repeat"):
        fit_seeds(make, x, y, seeds, config=cfg, repeat=0)


# --- early stopping -----------------------------------------------------------------------------------------------


class _Scripted(torch.nn.Module):
    """A 'net' whose validation errors follow a script, one value per epoch."""

    def __init__(self, script):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.script = script

    def forward(self, x):
        wrong = int(self.script[int(self.w.item())])
        out = torch.zeros(len(x), 2)
        out[:, 0] = 1.0
        out[:wrong, 0] = -1.0  # the first `wrong` cases predict class 1 (labels are 0)
        return out


def test_best_epoch_keeps_the_fewest_validation_errors_and_restores_them():
    net = _Scripted([5, 3, 4, 3, 6])
    best = BestEpoch(torch.zeros(10, 1), torch.zeros(10, dtype=torch.long))
    for epoch in range(5):
        with torch.no_grad():
            net.w.fill_(epoch)
        assert best(epoch, net) == {"val_errors": net.script[epoch]}
    assert best.errors == [5, 3, 4, 3, 6] and best.best_epoch == 2 and best.best_errors == 3  # ties: the earlier
    assert best.restore(net).w.item() == 1.0
    with pytest.raises(ValueError, match="non-empty"):
        BestEpoch(torch.zeros(0, 1), torch.zeros(0))
    with pytest.raises(ValueError, match="no epoch"):
        BestEpoch(torch.zeros(2, 1), torch.zeros(2)).restore(net)


def _tiny(**kw):
    small = TrainConfig(epochs=3, batch_size=32, lr=0.05, progress=False, precision="fp32")
    return replace(PROFILES["quick"], student_hidden=(6, 6), baseline=small, sweep=replace(small, hard_weight=0.1),
                   distilled=replace(small, epochs=4, temperature=20.0, hard_weight=0.1, grad_clip=5.0), **kw)  # fmt: skip


def test_matched_baseline_gets_the_distilled_epochs_and_its_best_validation_epoch():
    x, y = _data()
    model, best, seconds = train_matched_baseline(_tiny(), x[:150], y[:150], x[150:], y[150:], device="cpu",
                                                  progress=False)  # fmt: skip
    assert len(best.errors) == 4 and best.best_errors == min(best.errors) and seconds > 0
    assert int((model(x[150:]).argmax(-1) != y[150:]).sum()) == best.best_errors


def test_hard_weight_sweep_and_small_transfer_grids_have_a_row_per_run():
    x, y = _data()
    teacher = torch.randn(len(x), 10) * 3
    prof = _tiny(hard_weights=(0.0, 1.0), claim_seeds=(0, 1), small_lrs=(0.01, 0.1), small_epochs=2)
    args = (x[:100], y[:100], teacher[:100], x[100:150], y[100:150], x[150:], y[150:])
    weights = run_hard_weight_sweep(prof, *args, seed=5, device="cpu", progress=False)
    assert (
        len(weights.table) == 4
        and set(weights.table.seed) == {5, 6}
        and set(weights.wrong) == {(w, s) for w in (0.0, 1.0) for s in (5, 6)}
    )
    assert (weights.table.test_errors == [int(weights.wrong[k].sum()) for k in weights.wrong]).all()
    lrs = run_small_transfer(prof, *args, device="cpu", progress=False)
    assert len(lrs.table) == 2 * 2 * 2 and set(lrs.table.targets) == {"soft", "hard"}
    assert lrs.table.val_errors.between(0, 50).all() and lrs.table.test_errors.between(0, 50).all()


def test_best_by_validation_never_looks_at_test_errors_and_skips_diverged_runs():
    t = pd.DataFrame({"lr": [0.1, 0.3, 1.0], "seed": 0, "val_errors": [50, 40, None], "test_errors": [10, 90, 1]})
    assert best_by_validation(t, "lr") == 0.3
    with pytest.raises(ValueError, match="no run"):
        best_by_validation(t[t.lr == 1.0], "lr")


# --- the claims: each verdict on constructed numbers ----------------------------------------------------------------


def _wrong(n_wrong, offset=0, n=10_000):
    w = np.zeros(n, dtype=bool)
    w[offset : offset + n_wrong] = True
    return w


def _weights(val, test, offsets=None, seeds=(0,)):
    """A hard-weight grid: val/test errors per weight (one seed, or + 5·seed per extra seed)."""
    offsets = offsets or {}
    rows, wrong = [], {}
    for s in seeds:
        for w in val:
            rows.append({"hard_weight": w, "seed": s, "val_errors": val[w], "test_errors": test[w] + 5 * s})
            wrong[(w, s)] = _wrong(test[w] + 5 * s, offsets.get(w, 0))
    return Grid(pd.DataFrame(rows), wrong, 0.0)


def test_low_hard_weight_claim_holds_fails_and_refuses_equal_weight():
    def verdict(grid):
        claims = Claims("03_mnist_distillation")
        low_hard_weight_claim(claims, grid, 20.0)
        return claims["03.low_hard_weight_best"]

    val = {0.0: 300, 0.1: 250, 1.0: 320}
    holds = verdict(_weights(val, {0.0: 310, 0.1: 240, 1.0: 330}))  # 90 apart on nested cases: noise √90
    assert holds.verdict == "holds" and holds.ours == 90 and holds.control["value"] == 330
    close = verdict(_weights(val, {0.0: 310, 0.1: 300, 1.0: 330}, {1.0: 400}))  # 30 apart, noise √630
    assert close.verdict == "does not hold"
    # validation chose equal weight: no effect, whatever the test set says (it is never used for choosing)
    equal = verdict(_weights({0.0: 300, 0.1: 250, 1.0: 200}, {0.0: 100, 0.1: 100, 1.0: 400}))
    assert equal.verdict == "does not hold" and equal.ours == 0 and "not a weight below equal" in equal.result
    assert equal.noise_source.startswith("none: validation chose equal weight")
    seeds = verdict(_weights(val, {0.0: 310, 0.1: 240, 1.0: 330}, seeds=(0, 1, 2)))
    assert seeds.seeds == 3 and seeds.spread == (90.0, 90.0)
    claims = Claims("03_mnist_distillation")
    low_hard_weight_claim(claims, _weights({0.0: 1, 0.1: 2}, {0.0: 1, 0.1: 2}), 20.0)  # no equal weight: no claim
    assert len(claims) == 0


def _lrs(val, test, offsets=None):
    rows, wrong = [], {}
    for (targets, lr), v in val.items():
        rows.append({"targets": targets, "lr": lr, "seed": 0, "val_errors": v, "test_errors": test[(targets, lr)]})
        if v is not None:
            wrong[(targets, lr, 0)] = _wrong(test[(targets, lr)], (offsets or {}).get(targets, 0))
    return Grid(pd.DataFrame(rows), wrong, 0.0)


def test_soft_less_data_claim_holds_and_fails_and_the_learning_rates_are_reported():
    val = {("soft", 0.03): 900, ("soft", 0.3): 800, ("hard", 0.03): 1000, ("hard", 0.3): None}
    test = {("soft", 0.03): 950, ("soft", 0.3): 820, ("hard", 0.03): 1100, ("hard", 0.3): None}
    claims = Claims("03_mnist_distillation")
    soft_less_data_claim(claims, _lrs(val, test), 600, 60_000)
    c = claims["03.soft_targets_less_data"]
    assert c.verdict == "holds" and c.ours == 280 and c.control["value"] == 1100 and "1 %" in c.statement
    assert "lr 0.3 for soft and 0.03 for hard" in c.result
    assert "10 times the hard targets' — higher" in learning_rate_sentence(_lrs(val, test).table)
    # test errors that favour an unchosen lr change nothing; a difference inside noise does not hold
    close = {**test, ("soft", 0.3): 1080, ("soft", 0.03): 10}
    claims = Claims("03_mnist_distillation")
    soft_less_data_claim(claims, _lrs(val, close, {"hard": 2000}), 600, 60_000)
    assert claims["03.soft_targets_less_data"].verdict == "does not hold"
    same = {**val, ("hard", 0.3): 500, ("soft", 0.03): 100}
    assert "lower than the hard targets'" in learning_rate_sentence(_lrs(same, {**test, ("hard", 0.3): 5}).table)


def test_distilled_beats_the_baseline_chosen_on_validation_with_the_other_as_control():
    errors = {"teacher": 130, "baseline": 600, "distilled": 240, "matched": 520}
    wrong = {k: _wrong(v) for k, v in errors.items()}

    def judged(val):
        claims = Claims("03_mnist_distillation")
        mnist_distillation_claims(claims, errors, wrong, MNIST_ERRORS, validation=val)
        return claims["03.distilled_beats_baseline"]

    matched = judged({"baseline": 700, "matched": 610})
    assert matched.ours == 280 and "matched" in matched.result and matched.control["value"] == 600
    plain = judged({"baseline": 600, "matched": 610})  # the test set would favour the matched: not used to choose
    assert plain.ours == 360 and plain.control["value"] == 520 and plain.control["validation_errors"]["matched"] == 610
    assert plain.verdict == "holds"
    errors["matched"], wrong["matched"] = 290, _wrong(290)  # 50 better on nested cases: beyond noise, short of 72
    assert judged({"baseline": 700, "matched": 610}).verdict == "weaker"
    errors["matched"], wrong["matched"] = 250, _wrong(250, offset=5000)  # as good as the distilled net
    assert judged({"baseline": 700, "matched": 610}).verdict == "does not hold"
    with pytest.raises(ValueError, match="validation errors"):
        judged(None)
