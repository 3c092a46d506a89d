"""kdlab.lessons.logit_matching (§2.1, eq. 2–4) against autograd and hand-written formulas, in float64; and the
notebook's study steps around it (kdlab.lessons.logit_matching_study)."""

import numpy as np
import pandas as pd
import pytest
import torch

from kdlab.core.losses import distillation_loss, logit_matching_loss, soft_cross_entropy
from kdlab.lessons import logit_matching_study as study
from kdlab.lessons.logit_matching import (
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


# ------------------------------------------------------------------------------------------- the notebook's steps


def test_fixed_logits_are_the_notebooks_seeded_draws():
    v, z, offsets = study.fixed_logits(0)
    rng = np.random.default_rng(0)  # the order of draws notebook 02 always used: v, then the noise, then offsets
    v_ref = rng.standard_normal((256, 10)) * 4.0
    z_ref = v_ref + rng.standard_normal((256, 10))
    off_ref = rng.standard_normal((256, 2)) * 3.0
    assert v.dtype == z.dtype == offsets.dtype == torch.float64
    assert np.array_equal(v.numpy(), v_ref) and np.array_equal(z.numpy(), z_ref)
    assert np.array_equal(offsets.numpy(), off_ref)


def test_eq2_checks_and_fixed_logit_facts():
    v, z, offsets = study.fixed_logits(0)
    checks = study.eq2_checks(z, v, offsets, T=3.0)
    assert list(checks) == [
        "eq. 2 equals autograd of soft_cross_entropy (max |diff| < 1e-15)",
        "eq. 2 unchanged by per-case constants (max |diff| < 1e-15)",
    ]
    assert all(checks.values())
    ts = [1.0, 10.0, 100.0, 1000.0, 10000.0]
    zm = gradient_errors(z, v, ts, zero_meaned=True)
    dm = gradient_errors(z + offsets[:, :1], v + offsets[:, 1:], ts, zero_meaned=False)
    facts = study.fixed_logit_facts(zm, dm)
    assert len(facts) == 3 and all(facts.values())
    swapped = study.fixed_logit_facts(dm, zm)  # tables swapped: eq. 3 ≠ eq. 4, and eq. 4 converges after all
    assert list(swapped.values()) == [False, True, False]  # eq. 3 falls like 1/T with or without zero means


def test_error_table_layout():
    rows = [{"temperature": 10.0, "rel_error_eq3": 0.31, "rel_error_logit_matching": 0.31}]
    other = [{"temperature": 10.0, "rel_error_eq3": 1.3, "rel_error_logit_matching": 3.1}]
    lines = study.error_table(rows, other).split("\n")
    assert lines[0] == "      T | zero-meaned: eq.3    eq.4 | different means: eq.3    eq.4"
    assert lines[1] == "     10 |              0.31    0.31 |                   1.3     3.1"


def test_hard_label_student_is_seeded():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 12, generator=g), torch.randint(0, 10, (64,), generator=g)
    a = study.hard_label_student(x, y, (8,), seed=3, device=torch.device("cpu"), progress=False)
    b = study.hard_label_student(x, y, (8,), seed=3, device=torch.device("cpu"), progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert a(x.to(next(a.parameters()).device)).shape == (64, 10)


def test_describe_logits_and_shift_invariance():
    z, v = _pair(n=32, offset=1.0)
    text = study.describe_logits(v, z)
    assert text.startswith("per-case mean logit: teacher ") and f"student {z.mean(-1).mean():+.2f}" in text
    assert f"teacher {zero_mean(v).std():.2f}" in text
    assert study.shift_invariance(z, v, 5.0, [1.0, 10.0, 1000.0]) < 1e-14


def test_eq4_reach_is_within_level_on_the_notebooks_tables():
    """``eq4_reach`` (one teacher's two crossings for 02's limit claim) equals ``within_level`` on the tables the
    notebook builds with ``gradient_errors``: zero-meaned reaches eq. 4, a shifted teacher never does."""
    g = torch.Generator().manual_seed(0)
    z, v = (
        torch.randn(50, 10, generator=g, dtype=torch.float64),
        3 * torch.randn(50, 10, generator=g, dtype=torch.float64),
    )
    ts = [float(t) for t in np.logspace(0, 4, 17)]
    zero = pd.DataFrame(gradient_errors(z, v, ts, zero_meaned=True))
    shifted = pd.DataFrame(gradient_errors(z, v + 5.0, ts, zero_meaned=False))
    reach = study.eq4_reach(z, v, ts, 5.0, 0.1)
    assert reach == {"t_zero_mean": study.within_level(zero, 0.1)[1], "t_shifted": study.within_level(shifted, 0.1)[1]}
    assert reach["t_zero_mean"] is not None and reach["t_shifted"] is None


def test_within_level_lines_and_gradient_metrics():
    zero = {
        "temperature": [1.0, 100.0, 1000.0],
        "rel_error_eq3": [2.0, 0.05, 0.005],
        "rel_error_logit_matching": [2.0, 0.05, 0.005],
    }
    raw = {
        "temperature": [1.0, 100.0, 1000.0],
        "rel_error_eq3": [2.0, 0.2, 0.02],
        "rel_error_logit_matching": [2.0, 0.2, 0.04],
    }
    shifted = {
        "temperature": [1.0, 100.0, 1000.0],
        "rel_error_eq3": [9.0, 2.0, 0.5],
        "rel_error_logit_matching": [9.0, 2.0, 1.6],
    }
    assert study.within_level(zero, 0.1) == (100.0, 100.0)
    assert study.within_level(raw, 0.1) == (1000.0, 1000.0)
    assert study.within_level(shifted, 0.1) == (None, None)
    assert study.within_level_line("zero-meaned", zero, 0.1) == (
        " zero-meaned: eq. 3 within 10% of eq. 2 from T = 100; eq. 4 from T = 100"
    )
    assert study.within_level_line("shifted", shifted, 0.1) == (
        "     shifted: eq. 3 within 10% of eq. 2 never; eq. 4 never (error at T = 1000: 1.60)"
    )
    m = study.gradient_metrics(zero, raw, shifted, {"zero-meaned": 100.0, "shifted": None})
    assert m == {
        "max_rel_error_eq3": 0.05,
        "rel_error_eq4_zero_mean_at_max_t": 0.005,
        "rel_error_eq4_raw_at_max_t": 0.04,
        "rel_error_eq4_shifted_at_max_t": 1.6,
        "t_eq4_within_level": {"zero-meaned": 100.0, "shifted": None},
    }


def test_deepest_logits_and_verdict():
    v = torch.tensor([[12.0, 0.0, 1.0, -3.0, -7.0, -15.0, 2.0, -1.0, 4.0, 7.0]], dtype=torch.float64)
    ts = [float(t) for t in np.logspace(0, 3, 13)]
    rows = logit_weight_by_depth(v, ts)
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    deep = study.deepest_logits(columns)
    assert deep["group"] == "more than 10 below the mean"
    assert deep["weight"][1.0] == pytest.approx(float(logit_weight(v, 1.0)[0, 5]))
    assert deep["weight"][1000.0] == pytest.approx(float(logit_weight(v, 1000.0)[0, 5]))
    assert deep["t_half"] is not None and float(logit_weight(v, deep["t_half"])[0, 5]) >= 0.5
    verdict = study.deep_logit_verdict(deep)
    assert verdict.startswith("At T = 1 distillation all but ignores them") and f"T ≈ {deep['t_half']:.3g}" in verdict
    flat = {"group": "g", "weight": {1.0: 0.5}, "t_half": None}
    assert study.deep_logit_verdict(flat).endswith("at no T of the grid.") and "unlike" in study.deep_logit_verdict(
        flat
    )


def test_convergence_readouts():
    conv = {
        "temperature": ["1", "5", "100", "logit_matching"],
        "test_errors": [1800, 990, 1300, 1380],
        "agreement_with_logit_matching": [0.84, 0.93, 0.99, 1.0],
        "logit_corr": [0.73, 0.98, 0.9996, 1.0],
    }
    assert study.distilled_curves(conv) == ([1.0, 5.0, 100.0], [0.84, 0.93, 0.99], [0.73, 0.98, 0.9996])
    m = study.convergence_metrics(conv)
    assert m["agreement_t1"] == 0.84 and m["agreement_high_t"] == 0.99 and m["logit_corr_high_t"] == 0.9996
    assert m["monotone_agreement"] is True and m["monotone_logit_corr"] is True
    assert m["test_errors"] == {"1": 1800, "5": 990, "100": 1300, "logit_matching": 1380}
    assert study.fewest_errors(conv) == ("5", 990, 1380)


def test_run_profile_is_run_limit_experiment_with_the_profiles_settings():
    from kdlab.lessons.logit_matching import LimitProfile

    g = torch.Generator().manual_seed(1)
    x, w = torch.rand(128, 20, generator=g), torch.randn(20, 10, generator=g) * 3
    x_test = torch.rand(32, 20, generator=g)
    cfg = LimitProfile(n_grad_cases=8, n_transfer=128, student_hidden=(8,), epochs=1, batch_size=64,
                       temperatures=(1.0, 50.0))  # fmt: skip
    cpu = torch.device("cpu")
    res = study.run_profile(cfg, x, x @ w, x_test, (x_test @ w).argmax(-1), x_test @ w, 0, cpu, progress=False)
    ref = run_limit_experiment(x, x @ w, x_test, (x_test @ w).argmax(-1), x_test @ w, cfg.temperatures, (8,), 1,
                               cfg.lr, 64, 0, cpu, progress=False)  # fmt: skip
    assert res.labels == ["1", "50", "logit_matching"] and res.table == ref.table
    assert torch.equal(res.test_logits, ref.test_logits)


def test_more_seed_ends_train_only_the_claims_students_and_match_the_full_experiment():
    """A further seed's three students (lowest T, highest T, logit matching) start and step exactly as the same
    members of the whole experiment with that seed, so their ends agree; another seed gives other ends."""
    from kdlab.lessons.logit_matching import LimitProfile

    g = torch.Generator().manual_seed(2)
    x, w = torch.rand(256, 20, generator=g), torch.randn(20, 10, generator=g) * 3
    x_test = torch.rand(64, 20, generator=g)
    cfg = LimitProfile(n_grad_cases=8, n_transfer=256, student_hidden=(16,), epochs=2, batch_size=64,
                       temperatures=(1.0, 5.0, 50.0))  # fmt: skip
    cpu, y_test = torch.device("cpu"), (x_test @ w).argmax(-1)
    whole = study.run_profile(cfg, x, x @ w, x_test, y_test, x_test @ w, 3, cpu, progress=False)
    conv = {key: [row[key] for row in whole.table] for key in whole.table[0]}
    (agree, corr), *rest = study.more_seed_ends(cfg, x, x @ w, x_test, y_test, x_test @ w, [3, 4], cpu)
    assert agree == pytest.approx(study.ends_of(conv)[0], abs=1 / 64 + 1e-9)  # at most one case flips
    assert corr == pytest.approx(study.ends_of(conv)[1], abs=1e-4)
    assert len(rest) == 1 and rest[0] != (agree, corr)
