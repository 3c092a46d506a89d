"""§2's gradient variance between training cases (kdlab.lessons.temperature_gradient_noise) and its claim."""

import pytest
import torch

from kdlab.claim_record import Claims
from kdlab.core.losses import distillation_loss
from kdlab.core.models import MLP
from kdlab.lessons import temperature_gradient_noise as gn
from kdlab.lessons.claims.temperature import gradient_noise_claim

T = 20.0


def _net_and_cases(n=12, seed=0):
    torch.manual_seed(seed)
    model = MLP(6, (5, 4), 3)
    x = torch.randn(n, 6)
    y = torch.randint(0, 3, (n,))
    teacher = 4 * torch.randn(n, 3)
    return model, x, y, teacher


def _per_case_loop(model, loss, x, y, teacher):
    """Each case's gradient by plain autograd, one case at a time: what vmap must reproduce."""
    out = []
    for i in range(x.shape[0]):
        model.zero_grad()
        loss(model(x[i : i + 1]), y[i : i + 1], teacher[i : i + 1], T).backward()
        out.append(torch.cat([p.grad.flatten() for p in model.parameters()]).double())
    return torch.stack(out)


@pytest.mark.parametrize("name", ["hard", "soft"])
def test_vmap_moments_equal_a_per_case_autograd_loop(name):
    model, x, y, teacher = _net_and_cases()
    loss = gn.LOSSES[name]
    g = _per_case_loop(model, loss, x, y, teacher)
    total, sq = gn.gradient_moments(model, loss, x, y, teacher, T, chunk=5)  # chunks of 5, 5, 2
    assert torch.allclose(total, g.sum(0), atol=1e-6)
    assert sq == pytest.approx(float((g * g).sum()), rel=1e-6)
    figures = gn.noise_figures(total, sq, len(x))
    mean = g.mean(0)
    want = float(((g - mean) ** 2).sum(1).sum() / (len(x) - 1))
    assert figures["trace_variance"] == pytest.approx(want, rel=1e-5)
    assert figures["noise_ratio"] == pytest.approx(want / float((mean * mean).sum()), rel=1e-5)


def test_soft_loss_is_eq2_with_the_t_squared_factor():
    _, _, _, teacher = _net_and_cases()
    z = torch.randn_like(teacher)
    p = torch.softmax(teacher / T, -1)
    manual = T**2 * -(p * torch.log_softmax(z / T, -1)).sum(-1).mean()
    assert gn.soft_loss(z, None, teacher, T) == pytest.approx(float(manual), rel=1e-6)
    assert gn.soft_loss(z, None, teacher, T) == pytest.approx(float(distillation_loss(z, None, teacher, T)))


def test_the_noise_ratio_ignores_scale_and_the_raw_variance_does_not():
    g = torch.randn(50, 7, dtype=torch.float64) + 0.5
    a = gn.noise_figures(g.sum(0), float((g * g).sum()), 50)
    b = gn.noise_figures((10 * g).sum(0), float((10 * g * 10 * g).sum()), 50)
    assert b["noise_ratio"] == pytest.approx(a["noise_ratio"])
    assert b["trace_variance"] == pytest.approx(100 * a["trace_variance"])
    with pytest.raises(ValueError, match="at least 2 cases"):
        gn.noise_figures(g[:1].sum(0), 1.0, 1)


def test_subsets_are_disjoint_and_too_many_is_a_clear_error():
    subsets = gn.disjoint_subsets(100, 4, 20, seed=3)
    flat = torch.cat(subsets)
    assert len(flat) == 80 and len(set(flat.tolist())) == 80
    with pytest.raises(ValueError, match="need 120 cases"):
        gn.disjoint_subsets(100, 4, 30, seed=3)


def _rows(values, state=gn.INIT):
    """Constructed rows: per (seed, subset) a hard and a soft noise ratio whose quotient is the given value."""
    rows = []
    for seed, per_subset in values.items():
        for k, v in enumerate(per_subset):
            for loss, ratio in (("hard", 10.0 * v), ("soft", 10.0)):
                rows.append({"state": state, "seed": seed, "subset": k, "loss": loss, "noise_ratio": ratio,
                             "trace_variance": 1.0})  # fmt: skip
    return rows


def test_reduction_by_seed_means_per_seed_and_pools_the_subset_spread():
    rows = _rows({0: [3.0, 5.0], 1: [4.0, 6.0]}) + _rows({0: [100.0, 100.0]}, state="after hard-label training")
    per_seed, sd = gn.reduction_by_seed(rows)
    assert per_seed == pytest.approx([4.0, 5.0])
    assert sd == pytest.approx(2**0.5)  # each pair deviates ±1 from its mean: (1+1+1+1)/2 dof
    assert gn.reduction_by_seed(rows, figure="trace_variance")[0] == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="at least 2 subsets"):
        gn.reduction_by_seed(_rows({0: [3.0]}))


def test_summary_lines_say_each_state():
    lines = gn.summary_lines(_rows({0: [3.0, 5.0]}) + _rows({0: [2.0, 2.0]}, state="after hard-label training"))
    assert lines[0].startswith("initialization:") and "4.00× less with soft targets" in lines[0]
    assert lines[1].startswith("after hard-label training:") and "2.00× less" in lines[1]


def test_noise_study_refuses_a_bad_temperature_before_training():
    spec = gn.NoiseSpec(student_hidden=(4,), n_seeds=1, n_subsets=2, subset_size=3, n_train=10)
    _, x, y, teacher = _net_and_cases(n=10)
    with pytest.raises(ValueError, match="T must be > 0"):
        gn.noise_study(spec, x, y, teacher, 0.0, seed=0, device="cpu")


def test_noise_study_rows_on_a_tiny_student():
    spec = gn.NoiseSpec(student_hidden=(4, 4), n_seeds=2, n_subsets=2, subset_size=8, n_train=32)
    torch.manual_seed(0)
    x, y, teacher = torch.randn(40, 6), torch.randint(0, 3, (40,)), 3 * torch.randn(40, 3)
    rows = gn.noise_study(spec, x, y, teacher, T, seed=5, device="cpu")
    states = list(dict.fromkeys(r["state"] for r in rows))
    assert states == [gn.INIT, "after hard-label training", "after soft-target training"]
    assert {r["seed"] for r in rows} == {5, 6} and len(rows) == 2 * 3 * 2 * 2
    assert all(r["noise_ratio"] > 0 and r["trace_variance"] > 0 for r in rows)


def _claim(reduction, sd, raw=(0.2,)):
    claims = Claims("01_softmax_temperature")
    gradient_noise_claim(claims, reduction=list(reduction), subset_sd=sd, raw_reduction=list(raw), T=T,
                         n_subsets=4, subset_size=500, student="784-64-64-10")  # fmt: skip
    return claims["01.soft_targets_lower_gradient_variance"]


def test_the_gradient_noise_rule_gives_each_verdict_it_can():
    assert _claim([3.8], 0.4).verdict == "holds"  # 2.8 beyond 1, noise 0.4
    assert _claim([1.5], 0.4).verdict == "does not hold"  # within 2 × noise of no reduction
    assert _claim([0.5], 0.1).verdict == "does not hold"  # the other way: soft targets noisier
    seeds = _claim([3.0, 1.0, 5.0], 0.1)  # the seed spread (SD 2) decides: 2.0 is not beyond 4.0
    assert (seeds.verdict, seeds.noise_source, seeds.seeds) == ("does not hold", "seed spread", 3)
    assert "more* raw variance" in _claim([3.8], 0.4).result  # the raw figure is reported, whichever way it goes
    assert _claim([3.8], 0.4).paper_figure is None  # a direction only: "weaker" cannot arise


def test_the_gradient_noise_check_can_fail():
    """A rule that ignored the noise would call 1.5 ± 0.4 a reduction: the test above would catch it."""
    assert _claim([1.5], 0.0).verdict == "holds"
    assert _claim([1.5], 0.4).verdict != _claim([1.5], 0.0).verdict
