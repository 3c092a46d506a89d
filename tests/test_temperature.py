"""kdlab.lessons.temperature against independent numpy formulas and autograd, in float64 (notebook 01's numbers)."""

import math

import numpy as np
import pytest
import torch

from kdlab.core.losses import soft_cross_entropy
from kdlab.lab import teacher_for
from kdlab.lessons.temperature import (
    PROFILES,
    TeacherSpec,
    entropy_bits,
    entropy_vs_temperature,
    mlp_from_state,
    pick_examples,
    pick_look_alikes,
    soft_target_artifact,
    soft_target_entropy,
    soft_target_grid,
    tail_weight,
    tiny_mask,
    tiny_shares,
)


def _np_softmax(z: np.ndarray, T: float) -> np.ndarray:
    e = np.exp((z - z.max(-1, keepdims=True)) / T)
    return e / e.sum(-1, keepdims=True)


def _logits(n=64, c=10, scale=8.0, seed=0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((n, c)) * scale)


def test_entropy_bits_known_values():
    assert entropy_bits(torch.full((1, 10), 0.1, dtype=torch.float64)).item() == pytest.approx(math.log2(10), abs=1e-14)
    assert entropy_bits(torch.eye(10, dtype=torch.float64)[:1]).item() == 0.0
    assert entropy_bits(torch.tensor([[0.5, 0.5, 0.0]], dtype=torch.float64)).item() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("T", [0.5, 1.0, 3.0, 20.0, 1000.0])
def test_soft_target_entropy_matches_numpy(T):
    z = _logits()
    p = _np_softmax(z.numpy(), T)
    expected = -(p * np.log2(np.where(p > 0, p, 1.0))).sum(-1)
    np.testing.assert_allclose(soft_target_entropy(z, T).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_entropy_rises_with_temperature_towards_log2_n():
    z = _logits(scale=15.0)
    ts = [1, 2, 5, 10, 100, 1e5]
    table = entropy_vs_temperature(z, ts)
    assert np.all(np.diff(table["mean_entropy_bits"]) > 0)
    assert table["mean_entropy_bits"][-1] == pytest.approx(math.log2(10), abs=1e-6)
    np.testing.assert_array_equal(table["temperature"], np.asarray(ts, dtype=float))


def test_soft_target_grid_is_eq1_per_temperature():
    z = _logits(n=5)
    ts = [1.0, 4.0, 20.0]
    grid = soft_target_grid(z, ts)
    assert grid.shape == (5, 3, 10)
    for k, T in enumerate(ts):
        np.testing.assert_allclose(grid[:, k].numpy(), _np_softmax(z.numpy(), T), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("T", [1.0, 3.0, 20.0])
def test_tail_gradient_is_autograd_of_t2_scaled_soft_loss(T):
    v = _logits(n=6, scale=10.0, seed=1)
    mask = tiny_mask(v, 1e-3)
    assert mask.any(-1).all()
    out = tail_weight(v, T, mask)
    # independent: build the flattened student by hand and differentiate T²·C (batch-mean, so × B per case)
    z = v.clone()
    for b in range(v.shape[0]):
        z[b, mask[b]] = v[b, mask[b]].mean()
    z.requires_grad_(True)
    p = torch.softmax(v / T, -1)
    loss = T**2 * soft_cross_entropy(z, p, T) * v.shape[0]
    (grad,) = torch.autograd.grad(loss, z)
    expected_grad = (grad * mask).norm(dim=-1).mean().item()
    expected_mass = (p * mask).sum(-1).mean().item()
    assert out["tail_gradient"] == pytest.approx(expected_grad, rel=1e-10, abs=1e-300)
    assert out["tail_mass"] == pytest.approx(expected_mass, rel=1e-10, abs=1e-300)


def test_tail_weight_high_temperature_limit_is_logit_matching():
    v = _logits(n=6, scale=10.0, seed=2)
    mask = tiny_mask(v)
    out = tail_weight(v, 1e5, mask)
    z = v.clone()
    for b in range(v.shape[0]):
        z[b, mask[b]] = v[b, mask[b]].mean()
    d = z - v
    limit = ((d - d.mean(-1, keepdim=True)) / 10 * mask).norm(dim=-1).mean().item()  # eq. 4 × T², zero-meaned
    assert out["tail_gradient"] == pytest.approx(limit, rel=1e-3)
    assert out["tail_mass"] == pytest.approx((mask.sum(-1) / 10.0).mean().item(), rel=1e-3)
    assert tail_weight(v, 1.0, mask)["tail_mass"] < 1e-3


def test_tiny_shares_are_the_notebooks_ratios_and_the_full_profile_judges_three_teachers():
    """``tiny_shares`` is notebook 01's g1/limit and gh/limit (the tiny-class claim's figure) for one teacher."""
    v = _logits(n=6, scale=10.0, seed=2)
    mask = tiny_mask(v, 1e-3)
    limit = tail_weight(v, 1e4, mask)["tail_gradient"]
    out = tiny_shares(v, 20.0, 1e-3)
    assert out["share_t1_pct"] == pytest.approx(100 * tail_weight(v, 1.0, mask)["tail_gradient"] / limit)
    assert out["share_high_t_pct"] == pytest.approx(100 * tail_weight(v, 20.0, mask)["tail_gradient"] / limit)
    assert out["share_t1_pct"] < out["share_high_t_pct"] <= 100 + 1e-6
    assert PROFILES["quick"].teacher_seeds == 1 and PROFILES["full"].teacher_seeds >= 3


def test_pick_look_alikes_finds_both_orders():
    base = torch.full((4, 10), -10.0, dtype=torch.float64)
    base[:, 2] = 10.0
    base[0, 3], base[0, 7] = -1.0, -3.0  # 2 > 3 > 7, ratio e^2
    base[1, 3], base[1, 7] = -1.0, -6.0  # 2 > 3 > 7, ratio e^5 (the one to pick)
    base[2, 7], base[2, 3] = -2.0, -4.0  # 2 > 7 > 3
    base[3, 5], base[3, 3] = -1.0, -2.0  # 2 > 5 > 3: neither
    labels = torch.tensor([2, 2, 2, 2])
    picks = pick_look_alikes(base, labels, digit=2, alternatives=(3, 7))
    assert picks == {(3, 7): 1, (7, 3): 2}
    assert pick_look_alikes(base[:2], labels[:2])[(7, 3)] is None


def test_pick_examples_per_class():
    z = _logits(n=200, scale=5.0, seed=3)
    y = z.argmax(-1)
    chosen = pick_examples(z, y, n_per_class=2)
    assert len(chosen) == len(set(chosen)) == 2 * len(set(y.tolist()))
    for c in set(y.tolist()):
        rows = [i for i in chosen if y[i] == c]
        assert len(rows) == 2
        best = max((i for i in range(200) if y[i] == c), key=lambda i: _np_softmax(z[i].numpy(), 1)[c])
        assert rows[0] == best


def test_soft_target_artifact_follows_the_contract():
    z = _logits(n=30).float()
    images = np.random.default_rng(0).integers(0, 256, (30, 784), dtype=np.uint8)
    labels = z.argmax(-1)
    art = soft_target_artifact(images, labels, [4, 0, 17], z, [1.0, 5.0])
    assert set(art) >= {"images", "labels", "indices", "teacher_logits", "temperatures"}
    assert art["images"].shape == (3, 28, 28) and art["images"].dtype == np.uint8
    np.testing.assert_array_equal(art["images"][0].reshape(-1), images[4])
    np.testing.assert_array_equal(art["indices"], [4, 0, 17])
    assert art["teacher_logits"].dtype == np.float32 and art["teacher_logits"].shape == (3, 10)
    assert art["soft_targets"].shape == (3, 2, 10)
    np.testing.assert_allclose(
        art["soft_targets"][:, 1], _np_softmax(art["teacher_logits"].astype(float), 5.0), rtol=1e-5, atol=1e-7
    )


def test_profiles_are_consistent():
    assert set(PROFILES) == {"quick", "full", "paper"}
    for prof in PROFILES.values():
        assert prof.temperatures[0] == 1.0 and list(prof.temperatures) == sorted(prof.temperatures)


def test_mlp_from_state_round_trip_and_teacher_reuse(tmp_path, monkeypatch):
    from dataclasses import asdict

    from kdlab.store.runs import start_run

    monkeypatch.setenv("KDLAB_RUNS", str(tmp_path))
    monkeypatch.delenv("KDLAB_RUN_DIR", raising=False)
    spec = TeacherSpec(
        hidden=(7, 5), epochs=1, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5, jitter=2
    )  # full-profile path
    x = torch.rand(64, 784)
    y = torch.randint(0, 10, (64,))
    model, source = teacher_for(spec, x, y, profile="quick", seed=3, device=torch.device("cpu"), progress=False)
    assert source == "trained"
    rebuilt = mlp_from_state(model.state_dict())
    torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)
    run = start_run("01_softmax_temperature", {"PROFILE": "quick", "SEED": 3, "teacher_spec": asdict(spec)})
    run.save_model("teacher", model)
    run.finish()
    again, source = teacher_for(spec, x, y, profile="quick", seed=3, device=torch.device("cpu"))
    assert source != "trained"
    torch.testing.assert_close(again(x), model(x), rtol=0, atol=0)
    _, other = teacher_for(spec, x, y, profile="quick", seed=4, device=torch.device("cpu"), progress=False)
    assert other == "trained"  # a different seed is not compatible


def test_pick_look_alikes_prefers_confident_images():
    z = torch.full((2, 10), -10.0, dtype=torch.float64)
    z[:, 2] = 10.0
    z[0, 3], z[0, 7] = -1.0, -3.0  # p(2) ≈ 1: ratio e^2
    z[1, 2], z[1, 3], z[1, 7] = 1.0, 0.5, -6.0  # p(2) ≈ 0.6: ratio e^6.5, but not confident
    assert pick_look_alikes(z, torch.tensor([2, 2]))[(3, 7)] == 0
    assert pick_look_alikes(z[1:], torch.tensor([2]))[(3, 7)] == 0  # falls back to any correct image


def test_orders_from_paper_counts_decades_from_the_paper_example():
    from kdlab.lessons.temperature import orders_from_paper
    from kdlab.paper import LOOK_ALIKE_2

    assert (LOOK_ALIKE_2["p3"], LOOK_ALIKE_2["p7"]) == (1e-6, 1e-9)
    assert orders_from_paper(1e-6, 1e-9) == pytest.approx((0.0, 0.0), abs=1e-12)
    assert orders_from_paper(1e-4, 1e-10) == pytest.approx((2.0, -1.0), abs=1e-12)
    da, db = orders_from_paper(7.2e-5, 1.9e-7)
    assert da == pytest.approx(math.log10(72), abs=1e-12) and db == pytest.approx(math.log10(190), abs=1e-12)
    assert orders_from_paper(1e-3, 1e-3, paper=(1e-3, 1e-3)) == pytest.approx((0.0, 0.0), abs=1e-12)
