"""Notebook 06's helpers: choosing the special subsets, per-specialist scores, the §6.1 experiment, the verdicts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from kdlab.core.models import MLP
from kdlab.lessons import specialists as sp
from kdlab.lessons.specialists import experiments as ex
from kdlab.lessons.specialists import verdicts


def test_rank_by_confusability_drops_singletons_and_sorts_most_confusable_first():
    cov = np.zeros((6, 6))
    cov[0, 1] = cov[1, 0] = 0.1  # {0, 1} a little confusable
    cov[2, 3] = cov[3, 2] = cov[2, 4] = cov[4, 2] = cov[3, 4] = cov[4, 3] = 0.5  # {2, 3, 4} very
    clusters = [np.array([0, 1]), np.array([2, 3, 4]), np.array([5])]
    classes, scores = sp.rank_by_confusability(clusters, cov, min_size=2)
    assert [c.tolist() for c in classes] == [[2, 3, 4], [0, 1]]
    assert scores == pytest.approx([0.5, 0.1])
    assert sp.rank_by_confusability(clusters, cov, min_size=3)[0][0].tolist() == [2, 3, 4]
    every = [np.arange(6), np.array([0, 1])]  # a cluster of every class has no dustbin: not a special subset
    assert [c.tolist() for c in sp.rank_by_confusability(every, cov)[0]] == [[0, 1]]


def test_overlap_never_grows_a_cluster_to_every_class():
    """A degenerate K-means (one big cluster) with overlap 0.5 would otherwise take every class (full 06, seed 1)."""
    cov = np.full((6, 6), 0.2)
    cov[5] = cov[:, 5] = 0.0
    cov[5, 5] = 1.0  # class 5 apart, classes 0–4 one block: clusters {0..4} and {5}
    result = sp.kmeans_columns(cov, 2, seed=0, overlap=0.5)
    assert max(len(c) for c in result.clusters) == 5  # ⌈0.5 · 5⌉ = 3 extra would have covered all 6
    assert all(len(c) < 6 for c in result.clusters)


def test_partition_of_and_errors_inside():
    parts = sp.partition_of(np.array([1, 0, 1, 2, 0]))
    assert [p.tolist() for p in parts] == [[1, 4], [0, 2], [3]]
    true = np.array([0, 0, 1, 3, 2, 4])
    pred = np.array([2, 0, 4, 0, 2, 1])  # errors: 0→2 and 1→4 and 4→1 inside a cluster, 3→0 across two
    assert sp.errors_inside(parts, true, pred, 5) == pytest.approx(3 / 4)
    assert math.isnan(sp.errors_inside(parts, true, true, 5))  # no errors: nothing to share


def _tiny_task(C=6, D=20, n=300):
    torch.manual_seed(0)
    x, y = torch.randn(n, D), torch.randint(0, C, (n,))
    return x, y, MLP(D, [16], C)


def test_per_specialist_table_matches_the_scores():
    x, y, gen = _tiny_task()
    classes = [np.array([0, 1]), np.array([2, 3, 4])]
    cfg = sp.SpecialistConfig(steps=4, batch_size=8, eval_every=2, progress=False)
    trained = sp.train_specialists(gen, classes, x, y, cfg)
    table = sp.per_specialist_table(trained, classes, x[:100], y[:100], gen(x[:100]).detach())
    assert table.classes.tolist() == ["00 01", "02 03 04"] and table.n_classes.tolist() == [2, 3]
    own = sp.specialist_scores(trained.logits(x[:100]), y[:100], classes, "dustbin")
    np.testing.assert_allclose(table.specialist_cond_acc, own["cond_acc"])
    np.testing.assert_allclose(table.dustbin_shift, trained.logit_shift[:, -1].numpy())


def test_clusters_record_and_table3():
    cfg = ex.PROFILES["quick"]
    rec = ex.clusters_record([np.array([1, 2])], [0.5], [np.array([0]), np.array([1, 2])], [np.array([0, 1, 2])],
                             temperature=4.0, profile=cfg)  # fmt: skip
    assert rec["clusters"] == [[1, 2]] and rec["method"] == "covariance" and rec["n_clusters"] == cfg.n_clusters
    table = ex.table3([("generalist (baseline)", 0.8, 0.85), ("+ 2 specialist models", 0.81, 0.86)])
    assert list(table.columns) == ["system", "test_accuracy", "conditional_accuracy"] and len(table) == 2


def test_soft_target_experiment_runs_both_kinds_on_the_small_slice():
    x, y, gen = _tiny_task(n=400)
    profile = ex.SpecialistProfile(
        n_train_per_class=1, n_test_per_class=1, hidden=16, val_fraction=0.1, generalist_max_epochs=1,
        generalist_patience=1, n_clusters=2, overlap=0.0,
        specialist_steps=4, specialist_batch=8, soft_data_fraction=0.5, soft_specialists=1, soft_steps=4,
        eval_every=2, distill_epochs=1, combine_steps=5,
    )  # fmt: skip
    p_test = torch.softmax(gen(x[:50]), -1).detach()
    out = ex.soft_target_experiment(gen, [np.array([0, 1]), np.array([2, 3])], x, y, x[:50], y[:50], p_test,
                                    profile, x_val=x[350:], y_val=y[350:], lr=0.02, temperature=2.0, top_n=1,
                                    seed=0)  # fmt: skip
    assert out.n_small == 200 and [c.tolist() for c in out.chosen] == [[0, 1]]
    assert out.table.kind.tolist() == ["dustbin", "soft"]
    assert math.isnan(out.table.own_full_test_accuracy[0]) and 0 <= out.table.own_full_test_accuracy[1] <= 1
    assert set(out.curves.kind) == {"dustbin", "soft"} and set(out.curves.step) == {0, 2, 4}
    assert set(out.curves.split) == {"train", "test", "val"}  # the held-out cases the §6.1 claim is judged on
    assert (out.table.val_cond_nll_min <= out.table.val_cond_nll_start).all()


def _table4(improvements):
    k = len(improvements)
    return pd.DataFrame({
        "n_specialists": range(k),
        "n_test_examples": [100] * k,
        "n_changed_correct": [0] + [5] * (k - 1),
        "relative_improvement": improvements,
    })  # fmt: skip


def test_table4_verdict_and_trend():
    change = {"significant": True, "net": 10, "se": 3.0, "fixed": 12, "broken": 2}
    rising = _table4([0.0, 0.01, 0.02, 0.03])
    trend = {"buckets": [1, 2, 3], "slope": 1.0, "se": 0.2}
    text = verdicts.table4_verdict(rising, change, 1000, trend, paper_slope=1.2)
    assert text.startswith("Net change: +15 correct test images of 1000 — a gain beyond noise")
    assert "slope +1.00 ± 0.20 % per specialist (bootstrap s.e.) — the paper's direction, beyond noise" in text
    falling = verdicts.table4_verdict(rising, change, 1000, {**trend, "slope": -1.0}, paper_slope=1.2)
    assert "the opposite direction, beyond noise" in falling
    assert "within noise" in verdicts.table4_verdict(rising, change, 1000, {**trend, "se": 0.6}, paper_slope=1.2)
    few = verdicts.table4_verdict(rising, {**change, "significant": False}, 1000,
                                  {"buckets": [1], "slope": float("nan"), "se": float("nan")}, paper_slope=1.2)  # fmt: skip
    assert "too few to see Table 4's trend" in few


def test_finding_explains_the_verdict_from_the_numbers():
    args = dict(reference="converged generalist", epochs=(18, 21), train_acc=1.0, inside=0.87, n_classes=100,
                extra_steps=4000)  # fmt: skip
    lost = verdicts.finding(verdict="does not hold", acc={"generalist": 0.879, "matched": 0.881, "specialists": 0.8775},
                            **args)  # fmt: skip
    assert "compute-matched control 88.10% > converged generalist 87.90% > specialists 87.75%" in lost
    assert "did as well or better when spent on the generalist itself" in lost and "15,000 classes" in lost
    assert "after epoch 18 (of 21 run" in lost and "87% of the generalist's test errors" in lost
    short = verdicts.finding(verdict="weaker", acc={"generalist": 0.879, "matched": 0.880, "specialists": 0.884},
                             **args)  # fmt: skip
    assert "did better as specialists than on the generalist" in short
    won = verdicts.finding(verdict="holds", acc={"generalist": 0.8, "matched": 0.81, "specialists": 0.85}, **args)
    assert "bought more accuracy than the same extra compute" in won and "15,000" not in won


def test_soft_and_distill_verdicts_and_summary():
    table61 = pd.DataFrame({
        "kind": ["dustbin", "soft"],
        "test_cond_acc_final": [0.88, 0.90],
        "test_cond_nll_final": [0.37, 0.29],
        "test_cond_nll_min": [0.28, 0.28],
        "combined_test_accuracy": [0.79, 0.80],
        "own_full_test_accuracy": [float("nan"), 0.79],
    })  # fmt: skip
    overfit = {"n_specialists": 6, "soft_rise": 0.01, "dustbin_rise": 0.09, "soft_improvement": 0.1,
               "soft_improvement_se": 0.02, "dustbin_improvement": 0.02, "dustbin_improvement_se": 0.03}  # fmt: skip
    assert "improved on the generalist by +0.100 ± 0.020 (soft)" in verdicts.overfit_verdict(overfit)
    assert "it kept most of the generalist's knowledge" in verdicts.soft_verdict(table61, 0.80, 100)
    assert "it lost much" in verdicts.soft_verdict(table61, 0.95, 100)
    beyond = {"significant": True}
    assert "distillation beats extra training alone" in verdicts.distill_verdict(0.80, 0.81, 0.807, 0.805, 0.7, beyond)
    assert "not evidence" in verdicts.distill_verdict(0.80, 0.81, 0.805, 0.807, 0.5, beyond)
    assert "not beyond noise" in verdicts.distill_verdict(0.80, 0.81, 0.805, 0.807, 0.5, {"significant": False})
    acc = {"generalist": 0.80, "specialists": 0.84, "matched": 0.83, "distilled": 0.82, "control": 0.807}
    no_trend = {"slope": float("nan"), "se": float("nan")}
    summary = verdicts.summary_table(
        "quick", 5, acc, (0.84, 0.86), change=beyond, trend=no_trend, overfit=overfit, kept=0.5
    )
    assert list(summary.columns) == ["quantity", "paper", "this run"] and len(summary) == 6
    assert summary["this run"][0] == "+5.0% (5 specialists, quick profile; beyond noise)"
    assert summary["this run"][1] == "83.0% (specialists 84.0%)"
    assert summary["this run"][3] == "too few buckets" and summary["this run"][5] == "50% of the gain kept"
