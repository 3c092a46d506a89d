"""kdlab.lessons.specialists: eq. 5 (combine), covariance K-means, dustbin training — small and fast."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from kdlab.core.models import MLP
from kdlab.lessons import specialists as sp
from kdlab.lessons.specialists import layout


def rand_probs(*shape, scale=3.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(*shape, generator=g) * scale, -1)


def test_full_distributions_give_the_arithmetic_mean():
    """§5.4: with only full-distribution models, the minimizer of Σ KL(p, q) is the arithmetic mean of the p's."""
    N, C = 64, 12
    pg = rand_probs(N, C, seed=1)
    ps = rand_probs(2, N, C, seed=2)
    q = sp.combine(pg, ps, [np.arange(C)] * 2, active=torch.ones(2, N, dtype=torch.bool), steps=400, full_softmax=True)
    torch.testing.assert_close(q, (pg + ps.sum(0)) / 3, atol=2e-4, rtol=0)


def test_confident_specialist_moves_q_toward_its_class():
    N, C = 32, 10
    pg = rand_probs(N, C, seed=3)
    classes = [np.array([2, 5, 7])]
    p = torch.tensor([0.02, 0.95, 0.0, 0.03]).expand(1, N, 4).clone()  # confident about class 5; col 2 is padding
    q = sp.combine(pg, p, classes, active=torch.ones(1, N, dtype=torch.bool))
    unsure = pg[:, 5] < 0.45  # where the generalist was not already sure of class 5, q moves toward it
    assert unsure.sum() > 20 and (q[unsure, 5] > pg[unsure, 5] + 0.1).all()
    assert (q[:, 5] > 0.45).all()  # and q gives class 5 about the average of the two models' belief, or more
    torch.testing.assert_close(q.sum(-1), torch.ones(N))


def test_agreeing_specialist_leaves_generalist_unchanged():
    """If p^m is exactly p^g seen through m's classes + dustbin, q = p^g minimizes both KL terms."""
    N, C = 16, 8
    pg = rand_probs(N, C, seed=4)
    cl = np.array([1, 3, 4])
    rest = np.setdiff1d(np.arange(C), cl)
    p = torch.cat([pg[:, cl], pg[:, rest].sum(-1, keepdim=True)], -1).unsqueeze(0)
    q = sp.combine(pg, p, [cl], active=torch.ones(1, N, dtype=torch.bool), steps=300)
    torch.testing.assert_close(q, pg, atol=5e-4, rtol=0)


def test_eq5_objective_matches_direct_kl():
    N, C = 5, 6
    z = torch.randn(N, C, dtype=torch.float64)
    pg = rand_probs(N, C, seed=5).double()
    classes = [np.array([0, 2]), np.array([1, 2, 5])]
    width = 4
    ps = torch.zeros(2, N, width, dtype=torch.float64)
    ps[0][:, [0, 1, 3]] = rand_probs(N, 3, seed=6).double()  # 2 classes, 1 padding column, dustbin
    ps[1][:, [0, 1, 2, 3]] = rand_probs(N, 4, seed=7).double()
    active = torch.tensor([[1, 0, 1, 1, 0], [1, 1, 0, 1, 0]], dtype=torch.bool)
    got = sp.eq5_objective(z, pg, ps, sp.eq5_layout(classes, C, width), active)
    q = torch.softmax(z, -1).numpy()
    expect = []
    for n in range(N):
        total = float(np.sum(pg[n].numpy() * np.log(pg[n].numpy() / q[n])))
        for m, cl in enumerate(classes):
            if not active[m, n]:
                continue
            qm = np.concatenate([q[n, cl], np.zeros(width - 1 - len(cl)), [q[n, np.setdiff1d(np.arange(C), cl)].sum()]])
            p = ps[m, n].numpy()
            nz = p > 0
            total += float(np.sum(p[nz] * np.log(p[nz] / qm[nz])))
        expect.append(total)
    torch.testing.assert_close(got, torch.tensor(expect, dtype=torch.float64), atol=1e-10, rtol=1e-10)


def test_cases_without_active_specialists_keep_the_generalist():
    pg = rand_probs(4, 5)
    q = sp.combine(pg, rand_probs(1, 4, 3), [np.array([0, 1])], active=torch.zeros(1, 4, dtype=torch.bool))
    assert torch.equal(q, pg)


def test_active_specialists_from_top1():
    pg = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    act = sp.active_specialists(pg, [np.array([0, 1]), np.array([1, 2]), np.array([0, 2])], top_n=1)
    assert act.tolist() == [[True, False], [False, True], [True, True]]


def test_kmeans_finds_planted_blocks():
    rng = np.random.default_rng(0)
    blocks = [np.arange(0, 5), np.arange(5, 9), np.arange(9, 15), np.arange(15, 20)]
    perm = rng.permutation(20)
    cov = rng.normal(0, 0.01, (20, 20))
    for b in blocks:
        cov[np.ix_(perm[b], perm[b])] += 0.3
    cov = (cov + cov.T) / 2
    result = sp.kmeans_columns(cov, 4, seed=1)
    found = sorted(sorted(c.tolist()) for c in result.clusters)
    assert found == sorted(sorted(perm[b].tolist()) for b in blocks)
    assert sorted(result.order.tolist()) == list(range(20))


def test_covariance_clusters_from_predictions_with_planted_confusions():
    """Classes that a fake generalist confuses with each other (groups of 3) come out as clusters."""
    rng = np.random.default_rng(1)
    C, groups = 12, [np.arange(k, k + 3) for k in range(0, 12, 3)]
    probs = []
    for _ in range(3000):
        g = groups[rng.integers(4)]
        p = np.full(C, 0.01)
        p[g] += rng.dirichlet(np.ones(3)) * 0.9
        probs.append(p / p.sum())
    clusters = sp.covariance_clusters(np.array(probs), 4, seed=0)
    assert sorted(sorted(c.tolist()) for c in clusters) == [g.tolist() for g in groups]
    over = sp.covariance_clusters(np.array(probs), 4, seed=0, overlap=0.3, details=True)
    assert all(len(c) == 4 for c in over.clusters) and over.coverage.sum() == 16
    assert sorted(over.assignment.tolist()) == sorted([0, 1, 2, 3] * 3)  # the disjoint partition underneath


def test_oversampling_shift_restores_the_prior():
    f, s = 0.1, 0.5
    assert sp.oversampling_shift(f, s) == pytest.approx(math.log(9.0))
    # Bayes: a model trained at odds s:(1-s) that outputs P(special) = s for an uninformative input must output f
    # after the dustbin logit is raised by the shift.
    logit_special, logit_dust = math.log(s), math.log(1 - s)
    p = 1 / (1 + math.exp(logit_dust + sp.oversampling_shift(f, s) - logit_special))
    assert p == pytest.approx(f)


def test_half_half_batches_come_from_each_specialists_own_pool():
    labels = torch.arange(40) % 10
    classes = [np.array([1, 2]), np.array([7])]
    _, special = sp.class_maps(classes, 10, "dustbin")
    pools = layout._pools(labels, special)
    g = torch.Generator().manual_seed(0)
    idx = layout._sample(pools[0], pools[1], 50, g)
    assert set(labels[idx[0]].tolist()) <= {1, 2} and set(labels[idx[1]].tolist()) == {7}
    other = layout._sample(pools[2], pools[3], 50, g)
    assert not set(labels[other[0]].tolist()) & {1, 2} and 7 not in labels[other[1]].tolist()


@pytest.mark.parametrize("kind", ["dustbin", "soft"])
def test_train_specialists_smoke(kind):
    torch.manual_seed(0)
    C, D = 6, 20
    x = torch.randn(300, D)
    y = torch.randint(0, C, (300,))
    gen = MLP(D, [16], C)
    classes = [np.array([0, 1]), np.array([2, 3, 4])]
    cfg = sp.SpecialistConfig(kind=kind, steps=6, batch_size=8, eval_every=3, progress=False)
    out = sp.train_specialists(gen, classes, x, y, cfg, x_eval=x[:50], y_eval=y[:50])
    probs = out.probs(x[:10])
    width = 4 if kind == "dustbin" else C
    assert probs.shape == (2, 10, width)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2, 10))
    if kind == "dustbin":
        assert probs[0, :, 2].max() == 0  # specialist 0 has 2 classes: column 2 is padding
        f0 = float((y == 0).float().mean() + (y == 1).float().mean())
        assert out.logit_shift[0, -1].item() == pytest.approx(sp.oversampling_shift(f0), rel=1e-5)
    assert {c["step"] for c in out.curves} == {0, 3, 6}
    q = sp.combine(torch.softmax(gen(x[:10]), -1).detach(), probs, classes, full_softmax=(kind == "soft"), steps=20)
    assert q.shape == (10, C)


def test_dustbin_init_copies_the_generalist():
    torch.manual_seed(0)
    gen = MLP(5, [7], 6)
    classes = [np.array([1, 4]), np.array([0, 2, 3])]
    stack = sp.init_from_generalist(gen, classes)
    x = torch.randn(3, 5)
    z = gen(x)
    out = stack(x)  # (2, 3, 4)
    torch.testing.assert_close(out[0, :, :2], z[:, [1, 4]])
    torch.testing.assert_close(out[1, :, :3], z[:, [0, 2, 3]])


def test_conditional_accuracy_and_table4():
    labels = torch.tensor([0, 1, 2, 3])
    classes = [np.array([0, 1]), np.array([1, 2])]
    before = torch.tensor([[0.1, 0.5, 0.0, 0.4], [0.6, 0.3, 0.0, 0.1], [0.0, 0.2, 0.5, 0.3], [0.0, 0.0, 0.0, 1.0]])
    # case 0: covered by S0 → allowed {0,1} → predicts 1 (wrong); case 1: S0 ∪ S1 → 0 (wrong); case 2: S1 → 2 (right)
    assert sp.conditional_accuracy(before, labels, classes) == pytest.approx(1 / 3)
    after = before.clone()
    after[0] = torch.tensor([0.9, 0.1, 0.0, 0.0])
    t4 = sp.improvement_by_coverage(before, after, labels, classes, 4)
    assert t4.n_specialists.tolist() == [0, 1, 2]
    assert t4.n_test_examples.tolist() == [1, 2, 1]
    assert t4.n_changed_correct.tolist() == [0, 1, 0]


@pytest.mark.parametrize("full_softmax", [False, True])
def test_batched_eq5_equals_the_plain_per_case_form(full_softmax):
    """``combine`` (every case at once, padded layouts, masks) = ``combine_plain`` (one case, as §5.4 states it)."""
    torch.manual_seed(0)
    N, C = 6, 9
    classes = [np.array([0, 1, 2]), np.array([3, 4]), np.array([2, 5, 6, 7])]
    pg = torch.softmax(torch.randn(N, C) * 2, -1)
    width = C if full_softmax else max(len(c) for c in classes) + 1
    ps = torch.zeros(len(classes), N, width)
    for m, cl in enumerate(classes):
        if full_softmax:
            ps[m] = torch.softmax(torch.randn(N, C) * 2, -1)
        else:
            p = torch.softmax(torch.randn(N, len(cl) + 1) * 2, -1)
            ps[m, :, : len(cl)], ps[m, :, -1] = p[:, :-1], p[:, -1]
    active = torch.rand(len(classes), N) < 0.6
    batched = sp.combine(pg, ps, classes, active=active, steps=150, full_softmax=full_softmax)
    for n in range(N):
        mine = [
            (cl, ps[m, n] if full_softmax else torch.cat([ps[m, n, : len(cl)], ps[m, n, -1:]]))
            for m, cl in enumerate(classes)
            if active[m, n]
        ]
        plain = sp.combine_plain(pg[n], mine, steps=150, full_softmax=full_softmax)
        torch.testing.assert_close(batched[n], plain, atol=2e-5, rtol=1e-4)
    assert not torch.allclose(batched, pg)  # the specialists moved some cases: the comparison is not vacuous
