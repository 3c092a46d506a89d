"""Notebook 03's headline students over seeds: each extra seed is the separate run of that seed, the notebook's own
seed joins the table in front, and the claims take the seed spread as noise when it is the larger yardstick."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from kdlab.claim_record import Claims
from kdlab.core.evaluate import evaluate
from kdlab.lessons import distillation as lesson
from kdlab.lessons.claims.distillation import mnist_distillation_claims
from kdlab.lessons.claims.judge import SEEDS
from kdlab.lessons.distillation_controls import train_matched_baseline
from kdlab.lessons.distillation_seeds import STUDENTS, run_more_seeds, with_first_seed
from kdlab.paper import MNIST_ERRORS


def _data(n, seed):
    g = torch.Generator().manual_seed(seed)
    centers = torch.rand(10, 784, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return (centers[y] + 0.6 * torch.rand(n, 784, generator=g)).clamp(0, 1), y


def _tiny_profile():
    p = lesson.PROFILES["quick"]
    few = dict(epochs=2, batch_size=32, progress=False)
    return replace(p, student_hidden=(16, 16), baseline=replace(p.baseline, **few),
                   distilled=replace(p.distilled, **few))  # fmt: skip


def test_each_extra_seed_is_the_separate_run_of_that_seed():
    profile = _tiny_profile()
    (x, y), (xv, yv), (xt, yt) = _data(160, 0), _data(60, 1), _data(80, 2)
    teacher = torch.randn(len(x), 10) * 3
    more = run_more_seeds(profile, x, y, teacher, xv, yv, xt, yt, seeds=[3, 5], device="cpu", progress=False)
    t = more.table
    assert sorted(t.model.unique()) == sorted(STUDENTS) and len(t) == 6 and set(t.seed) == {3, 5}
    for s in (3, 5):  # the members equal the notebook's own single-net recipes at that seed
        base, _ = lesson.train_baseline(profile, x, y, seed=s, device="cpu", progress=False)
        dist, _ = lesson.train_distilled(profile, x, y, teacher, seed=s, device="cpu", progress=False)
        matched, best, _ = train_matched_baseline(profile, x, y, xv, yv, seed=s, device="cpu", progress=False)
        row = t.set_index(["model", "seed"])
        assert row.loc[("baseline", s), "test_errors"] == evaluate(base, xt, yt).errors
        assert row.loc[("distilled", s), "test_errors"] == evaluate(dist, xt, yt).errors
        assert row.loc[("matched", s), "val_errors"] == best.best_errors
        assert row.loc[("matched", s), "test_errors"] == evaluate(matched, xt, yt).errors
    none = run_more_seeds(profile, x, y, teacher, xv, yv, xt, yt, seeds=[], device="cpu", progress=False)
    assert none.table.empty and list(none.table.columns) == ["model", "seed", "val_errors", "test_errors"]


def test_the_first_seed_joins_in_front_and_errors_come_in_seed_order():
    profile = _tiny_profile()
    (x, y), (xt, yt) = _data(100, 0), _data(50, 2)
    more = run_more_seeds(profile, x, y, torch.randn(100, 10), x, y, xt, yt, seeds=[7], device="cpu", progress=False)
    runs = with_first_seed(0, {"baseline": 11, "matched": 12, "distilled": 13}, {m: 1 for m in STUDENTS}, more)
    assert list(runs.table.model) == ["baseline", "baseline", "matched", "matched", "distilled", "distilled"]
    errors = runs.errors()
    assert [errors[m][0] for m in STUDENTS] == [11, 12, 13] and all(len(v) == 2 for v in errors.values())
    assert runs.errors("val_errors")["distilled"][0] == 1


def _wrong(n_wrong, n=10_000):
    w = np.zeros(n, dtype=bool)
    w[:n_wrong] = True
    return w


def _claims(errors, val):
    claims = Claims("03_mnist_distillation")
    first = {k: v if isinstance(v, int) else v[0] for k, v in errors.items()}
    mnist_distillation_claims(claims, errors, {k: _wrong(v) for k, v in first.items()}, MNIST_ERRORS, validation=val)
    return claims


def test_seed_spread_decides_the_noise_when_larger_and_can_turn_a_verdict():
    val = {"baseline": [700, 710, 690], "matched": [600, 610, 620]}
    steady = _claims({"teacher": 130, "baseline": [600] * 3, "distilled": [240, 245, 235], "matched": [520] * 3}, val)
    c = steady["03.distilled_beats_baseline"]
    assert c.seeds == 3 and c.ours == pytest.approx(280) and c.spread == (275, 285) and "matched" in c.result
    assert c.verdict == "holds"
    # the same mean gap, but seeds that disagree by hundreds: the spread is the noise, and the claim does not hold
    wild = _claims({"teacher": 130, "baseline": [600] * 3, "distilled": [40, 240, 440], "matched": [520] * 3}, val)
    c = wild["03.distilled_beats_baseline"]
    assert c.noise_source == SEEDS and c.noise == pytest.approx(200) and c.verdict == "does not hold"
    gap = steady["03.distilled_closes_gap"]  # per seed: (520-ish baseline) — the plain baseline's gap, per seed
    assert gap.seeds == 3 and gap.ours == pytest.approx(100 * (600 - 240) / 470) and "means over 3 seeds" in gap.result
    one = steady["03.teacher_beats_baseline"]  # one teacher against three baseline seeds: compared with each
    assert one.seeds == 3 and one.ours == pytest.approx(470)
    # validation means choose the baseline: the plain one here, whatever the test set says
    plain = _claims({"teacher": 130, "baseline": [600] * 3, "distilled": [240] * 3, "matched": [520] * 3},
                    {"baseline": [600, 600, 600], "matched": [600, 610, 620]})  # fmt: skip
    assert plain["03.distilled_beats_baseline"].control["value"] == 520


def test_missing_class_seeds_are_the_separate_runs_read_like_the_notebooks_own():
    from kdlab.core.evaluate import predict_logits
    from kdlab.lessons import missing_classes as lesson04
    from kdlab.lessons.missing_classes_seeds import COLUMNS, all_seeds, run_more_seeds, seed_row

    profile = replace(_tiny_profile(), transfer=replace(lesson.PROFILES["quick"].transfer, epochs=2, batch_size=32))
    (x, y), (xv, yv), (xt, yt) = _data(200, 0), _data(80, 1), _data(100, 2)
    teacher = torch.randn(len(x), 10) * 3
    i3, i78 = lesson04.omit_classes(y, [3]), lesson04.keep_classes(y, [7, 8])
    sets = ((x[i3], y[i3], teacher[i3]), (x[i78], y[i78], teacher[i78]))
    grids = dict(shifts3=np.arange(-2, 4.01, 0.5), shifts78=np.arange(-6, 1.01, 0.5))
    more = run_more_seeds(profile, *sets, profile.transfer, xv, yv, xt, yt, seeds=[4], device="cpu",
                          progress=False, **grids)  # fmt: skip
    nets = [lesson.train_distilled(profile, *s, config=profile.transfer, seed=4, device="cpu", progress=False)[0]
            for s in sets]  # fmt: skip
    logits = [{"val": predict_logits(n, xv).float(), "test": predict_logits(n, xt).float()} for n in nets]
    want = seed_row(4, *logits, yv, yt, grids["shifts3"], grids["shifts78"])
    assert more.iloc[0].to_dict() == pytest.approx(want)
    both = all_seeds({**want, "seed": 0}, more)
    assert list(both.columns) == COLUMNS and list(both.seed) == [0, 4]
    assert run_more_seeds(profile, *sets, profile.transfer, xv, yv, xt, yt, seeds=[], **grids).empty
