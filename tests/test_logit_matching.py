"""kdlab.logit_matching (§2.1, eq. 2–4) against autograd and hand-written formulas, in float64."""

import numpy as np
import pytest
import torch

from kdlab.logit_matching import (
    agreement,
    crossing_temperature,
    depth_groups,
    distillation_gradient,
    gradient_errors,
    high_temperature_gradient,
    limit_loss,
    logit_correlation,
    logit_matching_gradient,
    logit_weight,
    logit_weight_by_depth,
    relative_error,
    run_limit_experiment,
    zero_mean,
)
from kdlab.losses import distillation_loss, logit_matching_loss, soft_cross_entropy


def _pair(n=16, c=10, scale=4.0, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    z = torch.from_numpy(rng.standard_normal((n, c)) * scale + offset)
    v = torch.from_numpy(rng.standard_normal((n, c)) * scale - offset)
    return z, v


@pytest.mark.parametrize("T", [0.5, 1.0, 4.0, 50.0])
def test_eq2_is_autograd_of_soft_cross_entropy(T):
    z, v = _pair()
    zz = z.clone().requires_grad_(True)
    p = torch.softmax(v / T, -1)
    (grad,) = torch.autograd.grad(soft_cross_entropy(zz, p, T) * z.shape[0], zz)  # per case, not batch mean
    torch.testing.assert_close(distillation_gradient(z, v, T), grad, rtol=0, atol=1e-14)


@pytest.mark.parametrize("T", [1.0, 7.0, 300.0])
def test_eq3_matches_a_hand_written_loop(T):
    z, v = _pair(n=3, c=5, offset=1.5)
    out = high_temperature_gradient(z, v, T)
    for b in range(3):
        N = 5
        for i in range(N):
            q = (1 + z[b, i].item() / T) / (N + sum(z[b, j].item() / T for j in range(N)))
            p = (1 + v[b, i].item() / T) / (N + sum(v[b, j].item() / T for j in range(N)))
            assert out[b, i].item() == pytest.approx((q - p) / T, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("T", [1.0, 10.0])
def test_eq4_is_autograd_of_logit_matching_over_n_t2(T):
    z, v = _pair()
    zz = z.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(logit_matching_loss(zz, v) * z.shape[0], zz)
    torch.testing.assert_close(logit_matching_gradient(z, v, T), grad / (10 * T**2), rtol=0, atol=1e-15)


def test_eq3_equals_eq4_for_zero_meaned_logits():
    z, v = _pair(offset=2.0)
    z, v = zero_mean(z), zero_mean(v)
    for T in (1.0, 3.0, 100.0):
        torch.testing.assert_close(
            high_temperature_gradient(z, v, T), logit_matching_gradient(z, v, T), rtol=1e-12, atol=1e-18
        )


def test_relative_errors_vs_temperature():
    """Zero-meaned: both approximations → 0 like 1/T. Not zero-meaned: eq. 3 still → 0, eq. 4 does not."""
    z, v = _pair(offset=3.0)
    ts = [10.0, 100.0, 1000.0, 10000.0]
    zm = gradient_errors(z, v, ts, zero_meaned=True)
    raw = gradient_errors(z, v, ts, zero_meaned=False)
    for rows in (zm, raw):
        eq3 = [r["rel_error_eq3"] for r in rows]
        assert all(a > b for a, b in zip(eq3, eq3[1:]))
        assert eq3[-1] < 1e-2
        ratio = eq3[-2] / eq3[-1]
        assert 8 < ratio < 12  # first-order approximation: error ∝ 1/T
    assert [r["rel_error_logit_matching"] for r in zm] == pytest.approx([r["rel_error_eq3"] for r in zm], rel=1e-9)
    assert min(r["rel_error_logit_matching"] for r in raw) > 0.5  # the mean difference never goes away
    assert all(r["zero_mean"] is True for r in zm) and all(r["zero_mean"] is False for r in raw)
    assert set(zm[0]) == {"temperature", "zero_mean", "rel_error_eq3", "rel_error_logit_matching"}


def test_relative_error_and_crossing():
    a = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    e = torch.tensor([[2.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    r = relative_error(a, e)
    assert r[0].item() == 0.5 and torch.isnan(r[1])
    assert crossing_temperature([1, 2, 5, 10], [0.9, 0.05, 0.2, 0.01], 0.1) == 10.0
    assert crossing_temperature([1, 2], [0.9, 0.5], 0.1) is None


@pytest.mark.parametrize("T", [1.0, 2.5, 40.0])
def test_logit_weight_is_curvature_of_t2_scaled_loss(T):
    _, v = _pair(n=2, c=6)
    N = 6
    p = torch.softmax(v / T, -1)
    for b in range(2):
        H = torch.autograd.functional.hessian(
            lambda z, pb=p[b : b + 1]: T**2 * soft_cross_entropy(z[None], pb, T), v[b]
        )
        expected = torch.diagonal(H) / ((1 / N) * (1 - 1 / N))
        torch.testing.assert_close(logit_weight(v[b : b + 1], T)[0], expected, rtol=1e-10, atol=1e-14)


def test_logit_weight_limits_and_depth_groups():
    v = torch.tensor([[12.0, 0.0, 1.0, -3.0, -7.0, -15.0, 2.0, -1.0, 4.0, 7.0]], dtype=torch.float64)
    assert torch.allclose(logit_weight(v, 1e6), torch.ones_like(v), atol=1e-5)
    assert logit_weight(v, 1.0)[0, 5] < 1e-10
    group, names = depth_groups(v)
    assert names[0] == "top class" and len(names) == 5
    depth = v - v.mean()
    assert group[0, 0] == 0
    assert group[0, 5] == 4 and depth[0, 5] < -10
    rows = logit_weight_by_depth(v, [1.0, 1e6])
    assert {r["group"] for r in rows} <= set(names)
    assert sum(r["n_logits"] for r in rows if r["temperature"] == 1.0) == 10


def test_agreement_and_logit_correlation():
    a, b = _pair(n=50)
    assert agreement(a, a + 3.0) == 1.0
    assert logit_correlation(a, a + torch.randn(50, 1, dtype=torch.float64)) == pytest.approx(1.0, abs=1e-12)
    x, y = zero_mean(a).flatten(), zero_mean(b).flatten()
    assert logit_correlation(a, b) == pytest.approx(np.corrcoef(x.numpy(), y.numpy())[0, 1], abs=1e-12)


def test_limit_loss_members_and_high_t_member_matches_logit_matching():
    z, v = _pair(n=8, scale=1.0)
    temps = [2.0, 1000.0]
    outputs = torch.stack([z, z, z]).clone().requires_grad_(True)  # (M=3, B, C)
    (grad,) = torch.autograd.grad(limit_loss(temps)(outputs, None, v), outputs)
    for m, T in enumerate(temps):
        zz = z.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(distillation_loss(zz, None, v, T), zz)
        torch.testing.assert_close(grad[m], g, rtol=1e-12, atol=1e-15)
    zz = z.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(logit_matching_loss(zero_mean(zz), zero_mean(v)) / 10, zz)
    torch.testing.assert_close(grad[2], g, rtol=1e-12, atol=1e-15)
    d = zero_mean(z) - zero_mean(v)
    torch.testing.assert_close(g, d / (10 * 8), rtol=1e-12, atol=1e-15)  # projected (z − v)/N, batch mean over 8
    # eq. 4 × T²: the T=1000 member's gradient ≈ the logit-matching member's
    torch.testing.assert_close(grad[1], g, rtol=1e-2, atol=1e-5)


def test_run_limit_experiment_small():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(256, 20, generator=g)
    w = torch.randn(20, 10, generator=g) * 3
    teacher = x @ w
    x_test = torch.rand(64, 20, generator=g)
    t_test = x_test @ w
    y_test = t_test.argmax(-1)
    res = run_limit_experiment(
        x,
        teacher,
        x_test,
        y_test,
        t_test,
        [1.0, 100.0],
        hidden=(16,),
        epochs=2,
        lr=0.05,
        batch_size=64,
        seed=0,
        device=torch.device("cpu"),
        progress=False,
    )
    assert res.labels == ["1", "100", "logit_matching"]
    assert [r["temperature"] for r in res.table] == res.labels
    lm = res.table[-1]
    assert lm["agreement_with_logit_matching"] == 1.0 and lm["logit_corr"] == pytest.approx(1.0)
    assert res.test_logits.shape == (3, 64, 10)
    assert len(res.by_epoch) == 2 * 3
    assert res.table[1]["logit_corr"] > res.table[0]["logit_corr"]  # T=100 follows logit matching more closely
