"""§2's T² factor (kdlab.lessons.logit_matching_t_squared) and its claim 02.t_squared_keeps_scale."""

import math

import pytest
import torch
import torch.nn.functional as F

from kdlab.claim_record import Claims
from kdlab.core.models import MLP
from kdlab.lessons import logit_matching_t_squared as tsq
from kdlab.lessons.claims.logit_matching import t_squared_claim

TEMPS = (1.0, 2.0, 5.0, 20.0)


def _setup(seed=0, n=30):
    torch.manual_seed(seed)
    model = MLP(6, (5,), 4)
    return model, torch.randn(n, 6), torch.randint(0, 4, (n,)), 5 * torch.randn(n, 4)


def _norm(loss, model):
    grads = torch.autograd.grad(loss, list(model.parameters()))
    return float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))


def test_term_norms_are_the_gradient_norms_of_each_term_with_and_without_t_squared():
    model, x, y, v = _setup()
    rows = tsq.term_norms(model, x, y, v, TEMPS, hard_weight=0.1)
    hard = _norm(0.1 * F.cross_entropy(model(x), y), model)
    for T in TEMPS:
        p = torch.softmax(v / T, -1)
        soft = _norm(-(p * torch.log_softmax(model(x) / T, -1)).sum(-1).mean(), model)  # C_soft without T²
        with_, without = (next(r for r in rows if r["temperature"] == T and r["t_squared"] is b) for b in (True, False))
        assert with_["soft_norm"] == pytest.approx(T**2 * soft, rel=1e-5)
        assert without["soft_norm"] == pytest.approx(soft, rel=1e-5)
        for r in (with_, without):
            assert r["hard_norm"] == pytest.approx(hard, rel=1e-6)
            assert r["relative"] == pytest.approx(r["soft_norm"] / hard)
            assert r["share"] == pytest.approx(r["soft_norm"] / (r["soft_norm"] + hard))


def test_without_t_squared_the_relative_contribution_falls_like_one_over_t_squared_at_high_t():
    model, x, y, v = _setup()
    rows = tsq.term_norms(model, x, y, v, (100.0, 1000.0), hard_weight=1.0)
    rel = {(r["temperature"], r["t_squared"]): r["relative"] for r in rows}
    assert rel[1000.0, True] / rel[100.0, True] == pytest.approx(1.0, rel=0.02)  # eq. 4: T²·grad → (z − v)/N
    assert rel[1000.0, False] / rel[100.0, False] == pytest.approx(0.01, rel=0.02)


def test_bad_hard_weight_is_a_clear_error():
    model, x, y, v = _setup()
    with pytest.raises(ValueError, match="hard_weight > 0"):
        tsq.term_norms(model, x, y, v, TEMPS, hard_weight=0.0)


def _rows(relatives, seed=0, subset=0, t_squared=True):
    return [{"seed": seed, "subset": subset, "temperature": T, "t_squared": t_squared, "relative": r}
            for T, r in zip(TEMPS, relatives)]  # fmt: skip


def test_relative_spread_and_its_pooled_subset_spread():
    assert tsq.relative_spread(_rows([2.0, 3.0, 8.0, 4.0])) == pytest.approx(2.0)  # log₂(8/2)
    rows = _rows([1, 1, 2, 2]) + _rows([1, 1, 1, 8], subset=1) + _rows([1, 4, 1, 1], seed=1)
    rows += _rows([1, 1, 1, 4], seed=1, subset=1) + _rows([1, 1, 1, 1e-3], t_squared=False)
    per_seed, sd = tsq.spread_by_seed(rows)
    assert per_seed == pytest.approx([2.0, 2.0])  # (1 + 3)/2 and (2 + 2)/2
    assert sd == pytest.approx(1.0)  # deviations ±1, 0, 0 over 2 dof: √(2/2)
    with pytest.raises(ValueError, match="at least 2 subsets"):
        tsq.spread_by_seed(_rows([1, 2, 3, 4]))


def test_scale_study_uses_disjoint_subsets_and_refuses_too_many():
    model, x, y, v = _setup(n=40)
    rows = tsq.scale_study([model, model], x, y, v, TEMPS, 0.1, n_subsets=2, subset_size=20, seed=7)
    assert {(r["seed"], r["subset"]) for r in rows} == {(7, 0), (7, 1), (8, 0), (8, 1)}
    assert len(rows) == 2 * 2 * len(TEMPS) * 2
    with pytest.raises(ValueError, match="need 60 cases"):
        tsq.scale_study([model], x, y, v, TEMPS, 0.1, n_subsets=3, subset_size=20, seed=7)


def _claim(spread_with, sd, spread_without=(8.0,)):
    claims = Claims("02_logit_matching_limit")
    t_squared_claim(claims, spread_with=list(spread_with), spread_without=list(spread_without), subset_sd=sd,
                    temperatures=list(TEMPS), n_subsets=4, subset_size=1000)  # fmt: skip
    return claims["02.t_squared_keeps_scale"]


def test_the_t_squared_rule_gives_each_verdict_it_can():
    held = _claim([0.2], 0.1)  # a factor of 2^0.2 ≈ 1.15 across T, well inside the band of 2
    assert held.verdict == "holds" and held.margin == pytest.approx(1 - 0.2 - 2 * 0.1)
    assert _claim([4.1], 0.2).verdict == "does not hold"  # a factor of 17: outside the band
    assert _claim([0.8], 0.2).verdict == "does not hold"  # inside the band, but not by 2 × noise
    seeds = _claim([0.1, 0.2, 0.9], 0.05)  # the seed spread decides
    assert seeds.noise_source == "seed spread" and seeds.verdict == "does not hold"
    assert held.paper_figure is None and math.isclose(held.ours, 0.2)
    assert "factor of 1.15" in held.result and "256 without" in held.result


def test_the_t_squared_check_can_fail():
    """A rule without the noise would pass 0.8 ± 0.2 inside the band; the test above would catch it."""
    assert _claim([0.8], 0.0).verdict == "holds"
    assert _claim([0.8], 0.2).verdict == "does not hold"
