"""§3 recipes and profiles (kdlab.lessons.distillation, notebook 03): small synthetic checks, no MNIST needed."""

import json
from dataclasses import FrozenInstanceError, replace

import pandas as pd
import pytest
import torch

from kdlab.core.config import TrainConfig
from kdlab.core.losses import distillation_loss, per_member_distillation_loss
from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.train import fit
from kdlab.lab import load_or_train_teacher
from kdlab.lessons.distillation import (
    PAPER_TEMPERATURES,
    PROFILES,
    get_profile,
    make_teacher,
    train_distilled,
    training_subset,
)
from kdlab.lessons.distillation_sweep import run_sweep, summarize_sweep, sweep_claims
from kdlab.store.runs import start_run


def test_profiles_follow_the_paper_architectures():
    assert set(PROFILES) == {"quick", "full", "paper"}
    for p in PROFILES.values():
        assert p.teacher_hidden == (1200, 1200) and p.student_hidden == (800, 800)
        assert p.teacher.jitter == 2 and p.teacher_max_norm and p.teacher_dropout_hidden > 0
        assert p.baseline.jitter == 0 and p.distilled.jitter == 0 and p.sweep.jitter == 0
        assert p.distilled.temperature == 20.0
        assert 0 < p.distilled.hard_weight < 1  # "a considerably lower weight" on the hard term
        assert set(p.sweep_widths) == {800, 300, 30}
        assert set(p.sweep_temperatures) <= set(PAPER_TEMPERATURES)
    for name in ("full", "paper"):
        assert PROFILES[name].train_size is None
        assert PROFILES[name].sweep_temperatures == PAPER_TEMPERATURES
        # every figure a full-profile claim uses comes from at least 3 seeds (issue 25, item 2)
        p = PROFILES[name]
        assert min(len(p.sweep_seeds), len(p.headline_seeds), len(p.claim_seeds)) >= 3
    assert PROFILES["quick"].transfer_size < 60_000  # quick distils through a small transfer set
    for name in ("full", "paper"):
        assert PROFILES[name].transfer_size is None  # the paper's students see all 60k cases
    assert PROFILES["quick"].teacher.epochs < PROFILES["full"].teacher.epochs < PROFILES["paper"].teacher.epochs
    with pytest.raises(FrozenInstanceError):
        PROFILES["quick"].train_size = 1
    with pytest.raises(ValueError, match="valid profiles"):
        get_profile("huge")


def test_teacher_is_784_1200_1200_10_with_dropout_and_max_norm():
    t = make_teacher(PROFILES["quick"])
    assert t.widths == (784, 1200, 1200, 10)
    assert sum(p.numel() for p in t.parameters()) == 784 * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 10 + 10
    assert (
        t.dropout_input == 0 and t.dropout_hidden > 0 and t.max_norm == 3.5
    )  # no input dropout: jitter perturbs inputs


def test_training_subset_is_seeded_sorted_and_unique():
    a = training_subset(1000, 100, seed=0)
    assert len(a) == 100 and len(set(a.tolist())) == 100
    assert torch.equal(a, a.sort().values)
    assert torch.equal(a, training_subset(1000, 100, seed=0))
    assert not torch.equal(a, training_subset(1000, 100, seed=1))
    assert torch.equal(training_subset(50, None), torch.arange(50))


def test_per_member_loss_gives_each_member_its_own_temperature():
    g = torch.Generator().manual_seed(0)
    temps = (1.0, 4.0, 20.0)
    z = torch.randn(3, 16, 10, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(16, 10, generator=g, dtype=torch.float64) * 5
    y = torch.randint(0, 10, (16,), generator=g)
    loss = per_member_distillation_loss(temps, 0.3)(z, y, v)
    loss.backward()
    for m, T in enumerate(temps):
        zm = z[m].detach().clone().requires_grad_(True)
        distillation_loss(zm, y, v, T, 0.3).backward()
        torch.testing.assert_close(z.grad[m], zm.grad, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="temperatures"):
        per_member_distillation_loss((1.0,), 0.0)(z, y, v)


def test_batched_sweep_member_trains_exactly_like_a_single_net_at_its_temperature():
    # the sweep's shortcut (one BatchedMLP, a temperature per member) must equal training each student alone
    torch.manual_seed(0)
    x = torch.rand(96, 20)
    teacher = torch.randn(96, 10) * 4
    y = teacher.argmax(1)
    singles = [MLP(20, (8, 8), 10) for _ in range(2)]
    batched = BatchedMLP.from_mlps(singles)
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.05, hard_weight=0.1, progress=False, seed=5)
    temps = (2.0, 10.0)
    fit(
        batched,
        x,
        y,
        config=cfg,
        teacher_logits=teacher,
        loss_fn=per_member_distillation_loss(temps, 0.1),
        device="cpu",
    )
    for m, T in enumerate(temps):
        fit(singles[m], x, y, config=replace(cfg, temperature=T), teacher_logits=teacher, device="cpu")
        for a, b in zip(batched.member(m).parameters(), singles[m].parameters()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def _tiny_profile(**kw):
    quick = PROFILES["quick"]
    small = TrainConfig(epochs=1, batch_size=32, lr=0.05, progress=False)
    return replace(
        quick,
        train_size=None,
        teacher_hidden=(8, 8),
        student_hidden=(6, 6),
        teacher=replace(small, jitter=2),
        baseline=small,
        distilled=replace(small, temperature=20.0, hard_weight=0.1),
        sweep=replace(small, hard_weight=0.1),
        sweep_widths=(5, 3),
        sweep_temperatures=(1.0, 4.0),
        sweep_seeds=(0, 1),
        **kw,
    )


def _images(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 784, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_run_sweep_table_has_one_row_per_width_temperature_seed():
    prof = _tiny_profile()
    x, y = _images()
    teacher = torch.randn(64, 10)
    sweep = run_sweep(prof, x, y, teacher, x[:32], y[:32], device="cpu", progress=False)
    assert len(sweep) == 2 * 2 * 2
    assert {"width", "temperature", "seed", "test_errors", "hard_weight"} <= set(sweep.columns)
    assert set(sweep.width) == {5, 3} and set(sweep.temperature) == {1.0, 4.0} and set(sweep.seed) == {0, 1}
    assert sweep.test_errors.between(0, 32).all() and (sweep.hard_weight == 0.1).all()
    assert len(summarize_sweep(sweep)) == 4


def test_sweep_claims_reads_best_temperature_and_spreads():
    rows = []
    for T, e800, e30 in [(1, 120, 300), (2.5, 100, 200), (4, 95, 210), (8, 90, 260), (10, 91, 270), (20, 92, 280)]:
        rows += [
            {"width": 800, "temperature": T, "seed": 0, "test_errors": e800},
            {"width": 30, "temperature": T, "seed": 0, "test_errors": e30},
        ]
    claims = sweep_claims(pd.DataFrame(rows))
    assert claims[800]["best_temperature"] == 8 and claims[800]["high_t_spread"] == 2  # T ≥ 8: {8, 10, 20}
    assert claims[800]["high_temperatures"] == [8.0, 10.0, 20.0] and claims[800]["all_t_spread"] == 30
    assert claims[800]["t1_errors"] == [120.0] and claims[800]["high_t_errors"] == [91.0]
    mid = claims[30]["mid_t"]
    assert claims[30]["best_temperature"] == 2.5 and mid["inside"]["temperature"] == 2.5
    assert mid["lower"] == {"temperature": 1.0, "mean_errors": 300.0, "errors": [300.0]}
    assert mid["higher"]["temperature"] == 8.0 and mid["higher"]["errors"] == [260.0]
    json.dumps(claims, allow_nan=False)  # strict JSON for metrics.json


def test_distillation_refuses_a_jittered_transfer_set():
    prof = _tiny_profile()
    x, y = _images(16)
    with pytest.raises(ValueError, match="un-jittered"):
        train_distilled(prof, x, y, torch.randn(16, 10), config=replace(prof.distilled, jitter=2), progress=False)


def test_load_or_train_teacher_reuses_only_a_matching_run(tmp_path, monkeypatch):
    monkeypatch.delenv("KDLAB_RUN_DIR", raising=False)
    prof = _tiny_profile()
    x, y = _images()
    saved = make_teacher(prof)
    run = start_run("03_mnist_distillation", {"PROFILE": prof.name, "SEED": 0}, root=tmp_path)
    run.save_model("teacher", saved)
    run.save_json("teacher_spec", prof.teacher_spec())
    run.finish()

    monkeypatch.setenv("KDLAB_RUNS", str(tmp_path))
    loaded, info = load_or_train_teacher(prof, x, y, device="cpu", progress=False)
    assert info["source"] == "run store" and info["run_id"] == run.dir.name
    for a, b in zip(loaded.parameters(), saved.parameters()):
        assert torch.equal(a, b)
    # another seed, or another teacher recipe, is not reused: a fresh teacher is trained
    _, info = load_or_train_teacher(prof, x, y, seed=1, device="cpu", progress=False)
    assert info["source"] == "trained"
    other = replace(prof, teacher=replace(prof.teacher, epochs=2))
    _, info = load_or_train_teacher(other, x, y, device="cpu", progress=False)
    assert info["source"] == "trained"


def test_validation_split_is_disjoint_complete_and_repeatable():
    from kdlab.lessons.common import validation_split

    tr, va = validation_split(1000, 100)
    assert len(va) == 100 and len(tr) == 900
    assert set(tr.tolist()).isdisjoint(va.tolist()) and set(tr.tolist()) | set(va.tolist()) == set(range(1000))
    tr2, va2 = validation_split(1000, 100)
    assert torch.equal(tr, tr2) and torch.equal(va, va2)


def test_transfer_and_validation_are_disjoint_and_cover_what_the_profile_says():
    from kdlab.lessons.distillation import transfer_and_validation

    cases = torch.arange(1000)
    small = replace(PROFILES["quick"], transfer_size=200, validation_size=300)
    transfer, val = transfer_and_validation(cases, small, seed=3)
    assert len(transfer) == 200 and len(val) == 300
    assert not set(transfer.tolist()) & set(val.tolist())  # validation never in the transfer set
    # the same seed gives the same split; another seed another one
    again, _ = transfer_and_validation(cases, small, seed=3)
    assert torch.equal(transfer, again)
    other, _ = transfer_and_validation(cases, small, seed=4)
    assert not torch.equal(transfer, other)
    # a transfer set that is all the teacher's cases: the validation cases are split off it
    whole = replace(small, transfer_size=None, validation_size=100)
    transfer, val = transfer_and_validation(cases, whole, seed=0)
    assert len(transfer) == 900 and len(val) == 100 and not set(transfer.tolist()) & set(val.tolist())
    with pytest.raises(ValueError, match="validation_size"):
        transfer_and_validation(cases, replace(whole, validation_size=1000))


def test_results_and_per_class_tables_have_the_dashboards_columns():
    from kdlab.lessons.distillation import per_class_table, results_table
    from kdlab.paper import MNIST_ERRORS

    errors = {"teacher": 130, "baseline": 600, "distilled": 250}
    seconds = {"teacher": 61.234, "baseline": 5.0, "distilled": 7.06}
    table = results_table(errors, seconds, MNIST_ERRORS)
    assert list(table.columns) == ["model", "test_errors", "paper_errors", "wall_time_s"]
    assert table.model.tolist() == ["teacher", "baseline", "distilled"]
    assert table.paper_errors.tolist() == [67, 146, 74] and table.wall_time_s.tolist() == [61.2, 5.0, 7.1]
    per_class = per_class_table({"teacher": torch.arange(10), "baseline": torch.ones(10, dtype=torch.long)})
    assert list(per_class.columns) == ["model", "class", "errors"] and len(per_class) == 20
    assert per_class[per_class.model == "teacher"].errors.tolist() == list(range(10))


def test_soft_target_pages_hold_the_first_digits_and_both_nets_logits():
    from kdlab.lessons.distillation import SOFT_TARGET_TEMPERATURES, soft_target_pages

    images = torch.randint(0, 256, (30, 28, 28), dtype=torch.uint8)
    labels = torch.randint(0, 10, (30,))
    teacher, student = torch.randn(30, 10), torch.randn(30, 10)
    pages = soft_target_pages(images, labels, teacher, student, n=12)
    assert set(pages) == {"images", "labels", "indices", "teacher_logits", "temperatures", "student_logits"}
    assert pages["images"].shape == (12, 28, 28) and pages["images"].dtype.name == "uint8"
    assert torch.equal(pages["teacher_logits"], teacher[:12]) and torch.equal(pages["student_logits"], student[:12])
    assert pages["indices"].tolist() == list(range(12)) and pages["temperatures"].dtype.name == "float32"
    assert pages["temperatures"].tolist() == list(SOFT_TARGET_TEMPERATURES)


def test_per_member_loss_takes_a_hard_weight_and_a_t_squared_flag_per_member():
    g = torch.Generator().manual_seed(1)
    temps, weights, keep = (1.0, 5.0, 20.0, 20.0), (0.0, 0.1, 1.0, 0.3), (True, False, True, False)
    z = torch.randn(4, 16, 10, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(16, 10, generator=g, dtype=torch.float64) * 5
    y = torch.randint(0, 10, (16,), generator=g)
    per_member_distillation_loss(temps, weights, keep)(z, y, v).backward()
    for m, (T, w, k) in enumerate(zip(temps, weights, keep)):
        zm = z[m].detach().clone().requires_grad_(True)
        alone = distillation_loss(zm, y, v, T, w) if k else distillation_loss(zm, y, v, T, w * T**2) / T**2
        alone.backward()
        torch.testing.assert_close(z.grad[m], zm.grad, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="3 hard weights but 4 temperatures"):
        per_member_distillation_loss(temps, weights[:3])
    with pytest.raises(ValueError, match="t_squared flags"):
        per_member_distillation_loss(temps, 0.1, keep[:2])
    with pytest.raises(ValueError, match="≥ 0"):
        per_member_distillation_loss(temps, (0.1, -1.0, 0.0, 0.0))
