"""Notebook 06's references and measures (issue 26): the early-stopped generalist, the compute-matched control,
Table 4's slope with its bootstrap noise, and §6.1's held-out NLL per specialist."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from kdlab.lessons.specialists import controls, coverage_gain, overfitting
from kdlab.paper import TABLE4


def _task(n=400, D=12, C=4):
    torch.manual_seed(0)
    centers = torch.randn(C, D) * 2
    y = torch.randint(0, C, (n,))
    return centers[y] + torch.randn(n, D), y


def test_converged_generalist_stops_on_validation_and_keeps_its_best_epoch():
    x, y = _task()
    out = controls.train_converged_generalist(x[:300], y[:300], x[300:], y[300:], hidden=16, max_epochs=40,
                                              patience=2, progress=False)  # fmt: skip
    assert out.stopped_early and out.epochs_run < 40  # a separable task converges well before the cap
    assert out.val_accuracy[out.best_epoch - 1] == max(out.val_accuracy)
    assert out.epochs_run - out.best_epoch == 2  # stopped exactly `patience` epochs after the best
    kept = (out.model(x[300:]).argmax(-1) == y[300:]).float().mean().item()
    assert kept == pytest.approx(max(out.val_accuracy))  # the best epoch's weights, not the last ones
    with pytest.raises(ValueError, match="held-out"):
        controls.train_converged_generalist(x, y, x[:0], y[:0], hidden=8, max_epochs=2, patience=1, progress=False)


def test_compute_matched_control_takes_exactly_the_given_steps_and_leaves_the_generalist_alone(monkeypatch):
    x, y = _task()
    gen = controls.train_converged_generalist(x[:300], y[:300], x[300:], y[300:], hidden=8, max_epochs=2,
                                              patience=1, progress=False).model  # fmt: skip
    before = [p.detach().clone() for p in gen.parameters()]
    seen = []
    from kdlab.core.train import fit as original

    def counting_fit(*args, config, **kw):
        seen.append(config.epochs * config.steps_per_epoch * config.batch_size)
        return original(*args, config=config, **kw)

    monkeypatch.setattr("kdlab.lessons.specialists.controls.fit", counting_fit)  # the loop it calls, counted
    control = controls.compute_matched_control(gen, x, y, steps=7, batch_size=16, lr=0.02, progress=False)
    assert seen == [7 * 16]  # 7 steps of 16 examples: the specialists' Σ steps × batch
    assert all(torch.equal(a, b) for a, b in zip(before, gen.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before, control.parameters()))
    with pytest.raises(ValueError, match="steps"):
        controls.compute_matched_control(gen, x, y, steps=0, batch_size=16, lr=0.02)


def test_pick_reference_chooses_on_validation():
    assert controls.pick_reference({"generalist": 0.90, "control": 0.91}) == "control"
    assert controls.pick_reference({"generalist": 0.91, "control": 0.91}) == "generalist"  # a tie: the first
    with pytest.raises(ValueError):
        controls.pick_reference({})


def test_slope_and_the_papers_slope():
    assert coverage_gain.slope(np.array([1, 2, 3]), np.array([1.0, 3.0, 5.0])) == pytest.approx(2.0)
    assert math.isnan(coverage_gain.slope(np.array([1]), np.array([1.0])))
    gains = TABLE4["relative_accuracy_change"][1:]  # the paper's trend rises: about +1 % per specialist
    assert 0.5 < coverage_gain.paper_slope() < (max(gains) - min(gains))


def _predictions(fixed_by_bucket, n_per_class=200, C=4):
    """Cases of classes 0..3, covered by 0..3 specialists (class c by c of them); the generalist gets half of each
    class right, and the specialists fix ``fixed_by_bucket[c]`` more cases of class c."""
    classes = [np.array([1, 2, 3]), np.array([2, 3]), np.array([3])]
    y = torch.arange(C).repeat_interleave(n_per_class)
    before = torch.zeros(len(y), C)
    before[torch.arange(len(y)), (y + (torch.arange(len(y)) % 2)) % C] = 1.0  # every second case wrong
    after = before.clone()
    for c, k in enumerate(fixed_by_bucket):
        wrong = torch.nonzero((y == c) & (before.argmax(-1) != y)).flatten()[:k]
        after[wrong] = torch.nn.functional.one_hot(y[wrong], C).float()
    return before, after, y, classes


def test_coverage_gain_trend_rises_and_its_noise():
    before, after, y, classes = _predictions([0, 5, 10, 15])
    t = coverage_gain.coverage_gain_trend(before, after, y, classes, 4, n_boot=50)
    assert t["buckets"] == [1, 2, 3] and t["cases"] == [200, 200, 200]
    assert t["gain"] == pytest.approx([5.0, 10.0, 15.0]) and t["slope"] == pytest.approx(5.0)
    assert 0 < t["se"] < 5.0
    flat = coverage_gain.coverage_gain_trend(*_predictions([0, 10, 10, 10]), 4, n_boot=50)
    assert flat["slope"] == pytest.approx(0.0)
    few = coverage_gain.coverage_gain_trend(before, after, y, classes, 4, min_cases=201)
    assert few["buckets"] == [] and few["dropped"] == [1, 2, 3] and math.isnan(few["slope"])


def _curves(dust_path, soft_path, n_spec=3):
    rows = []
    for kind, path in (("dustbin", dust_path), ("soft", soft_path)):
        for m in range(n_spec):
            for step, nll in enumerate(path):
                rows.append({"kind": kind, "specialist": m, "split": "val", "step": 10 * step,
                             "cond_nll": nll + 0.01 * m, "cond_acc": 0.5})  # fmt: skip
    return pd.DataFrame(rows)


def test_overfit_summary_on_held_out_cases():
    per = overfitting.own_class_nll(_curves([1.0, 0.6, 0.9], [1.0, 0.7, 0.7]))
    row = per[(per.kind == "dustbin") & (per.specialist == 0)].iloc[0]
    assert row.improvement == pytest.approx(0.1) and row.rise == pytest.approx(0.3)
    s = overfitting.overfit_summary(per)
    assert s["rise_gap"] == pytest.approx(0.3) and s["soft_improvement"] == pytest.approx(0.3)
    assert s["n_specialists"] == 3 and s["rise_gap_se"] == pytest.approx(0.0, abs=1e-9)
    lazy = overfitting.overfit_summary(overfitting.own_class_nll(_curves([1.0, 0.6, 0.9], [1.0, 1.0, 1.0])))
    assert lazy["soft_improvement"] == pytest.approx(0.0) and lazy["soft_rise"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="held-out"):
        overfitting.own_class_nll(_curves([1.0], [1.0]).assign(split="test"))


def test_replicate_returns_what_the_claims_take():
    """One seed end to end on a tiny task: the numbers ``specialist_claims`` reads, in the shapes it reads them."""
    from kdlab.claim_record import Claims
    from kdlab.lessons.claims.specialists import specialist_claims
    from kdlab.lessons.specialists import replicates
    from kdlab.lessons.specialists.experiments import SpecialistProfile

    x, y = _task(n=600, C=6)
    split = dict(x_train=x[:400], y_train=y[:400], x_val=x[400:500], y_val=y[400:500], x_test=x[500:], y_test=y[500:])
    profile = SpecialistProfile(
        n_train_per_class=1, n_test_per_class=1, hidden=8, val_fraction=0.2, generalist_max_epochs=2,
        generalist_patience=1, n_clusters=3, overlap=0.0, specialist_steps=4, specialist_batch=8,
        soft_data_fraction=0.5, soft_specialists=2, soft_steps=4, eval_every=2, distill_epochs=1, combine_steps=5,
    )  # fmt: skip
    run = replicates.replicate(split, profile, replicates.Knobs(4.0, 2, 1, 0.02, 2.0), seed=1)
    assert set(run["references"]) == {"converged generalist", "compute-matched control"}
    assert run["reference"] in run["references"] and 0 <= run["spec_acc"] <= 1
    claims = Claims("06_specialists")
    specialist_claims(claims, [run, run], n_test=100, paper_slope=coverage_gain.paper_slope())
    assert [c.id for c in claims] == [
        "06.specialists_beat_generalist",
        "06.gain_grows_with_specialists",
        "06.soft_specialists_overfit_less",
    ]
    assert all(c.seeds == 2 for c in claims)
