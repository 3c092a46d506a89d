"""Claims as data: the record format, its reader on bad files, and the judging rules of every lesson — each rule
shown to say "does not hold" when the numbers go the other way (a check that cannot fail checks nothing)."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from kdlab.claim_record import FILE, SCHEMA, Claim, Claims, mcnemar_noise, read_claims
from kdlab.lessons.claims.distillation import mnist_distillation_claims, sweep_claims_list
from kdlab.lessons.claims.logit_matching import logit_matching_claims
from kdlab.lessons.claims.missing_classes import missing_class_claims
from kdlab.lessons.claims.specialists import specialist_claims
from kdlab.lessons.claims.speech import speech_claims
from kdlab.lessons.claims.temperature import temperature_claims
from kdlab.store.runs import start_run

PAPER = {"teacher": 67, "baseline": 146, "distilled": 74}


def _wrong(n_wrong: int, n: int = 10_000, offset: int = 0) -> np.ndarray:
    w = np.zeros(n, dtype=bool)
    w[offset : offset + n_wrong] = True
    return w


def test_claim_validates_its_fields():
    with pytest.raises(ValueError, match="claim id"):
        Claim(id="distilled", section="§3", statement="s", paper="p", ours="o", holds=True)
    with pytest.raises(TypeError, match="margin"):
        Claim(id="03.x", section="§3", statement="s", paper="p", ours="o", holds=True, margin="big")
    c = Claim(id="03.x", section="§3", statement="s", paper="p", ours="o", holds=np.bool_(True), margin=np.float32(2))
    assert c.holds is True and c.margin == 2.0
    assert (
        Claim(id="03.x", section="", statement="", paper="", ours="", holds=False, margin=float("nan")).margin is None
    )
    claims = Claims("03_mnist_distillation")
    with pytest.raises(ValueError, match="does not belong"):
        claims.add(id="04.x", section="§3", statement="s", paper="p", ours="o", holds=True)
    with pytest.raises(TypeError, match="unknown claim field"):
        claims.add(id="03.x", section="§3", statement="s", paper="p", ours="o", holds=True, verdict="yes")


def test_summary_lines_and_sentences_follow_the_verdict():
    claims = Claims("03_mnist_distillation")
    claims.add(id="03.good", section="§3", statement="A beats B.", paper="1 vs 2", ours="3 vs 4", holds=True)
    claims.add(
        id="03.bad", section="§3", statement="C beats D.", paper="1 vs 2", ours="5 vs 4", holds=False, judged_by="C < D"
    )
    assert claims.summary() == "03.good: holds\n03.bad: does not hold"
    assert claims.markdown("03.good").startswith("- **Holds here.** A beats B.")
    assert "Does not hold here" in claims.markdown("03.bad") and "C < D" in claims.markdown("03.bad")


def test_save_writes_strict_json_beside_metrics_and_reads_back(tmp_path):
    run = start_run("03_mnist_distillation", params={"PROFILE": "quick", "SEED": 1}, root=tmp_path)
    claims = Claims("03_mnist_distillation")
    claims.add(id="03.x", section="§3", statement="s", paper="p", ours="o", holds=True, margin=1.5, noise=None)
    path = claims.save(run)
    assert path == run.dir / FILE
    obj = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert obj["schema"] == SCHEMA and obj["profile"] == "quick" and obj["seed"] == 1
    found, problem = read_claims(run.dir)
    assert problem == "" and found == list(claims)


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "missing"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "does not hold a JSON object"),
        (json.dumps({"schema": "kdlab.claims/99", "claims": []}), "unknown schema"),
        (json.dumps({"schema": SCHEMA, "claims": {}}), "no list of claims"),
        (json.dumps({"schema": SCHEMA, "claims": [{"id": "bad id"}]}), "malformed"),
    ],
)
def test_read_claims_never_raises_and_says_what_is_wrong(tmp_path, content, expected):
    if content is not None:
        (tmp_path / FILE).write_text(content)
    found, problem = read_claims(tmp_path)
    assert found is None and expected in problem and "\n" not in problem


def test_mcnemar_noise_counts_only_disagreements():
    a, b = _wrong(100), _wrong(100, offset=50)  # 50 + 50 discordant cases
    assert mcnemar_noise(a, b) == pytest.approx(10.0)
    assert mcnemar_noise(a, a) == 0.0


def test_mnist_claims_hold_in_the_paper_direction_and_fail_the_other_way():
    claims = Claims("03_mnist_distillation")
    errors = {"teacher": 130, "baseline": 600, "distilled": 250}
    wrong = {k: _wrong(v) for k, v in errors.items()}
    mnist_distillation_claims(claims, errors, wrong, PAPER)
    assert all(c.holds for c in claims), claims.summary()
    assert claims["03.distilled_closes_gap"].margin == pytest.approx((600 - 250) / (600 - 130) - 0.5)
    # distillation made things worse (the old quick profile: 540 / 557 / 684): every affected claim says so
    bad = Claims("03_mnist_distillation")
    errors = {"teacher": 540, "baseline": 557, "distilled": 684}
    wrong = {"teacher": _wrong(540), "baseline": _wrong(557, offset=300), "distilled": _wrong(684, offset=600)}
    mnist_distillation_claims(bad, errors, wrong, PAPER)
    verdicts = {c.id: c.holds for c in bad}
    assert verdicts == {
        "03.teacher_beats_baseline": False,
        "03.distilled_beats_baseline": False,
        "03.teacher_beats_distilled": True,
        "03.distilled_closes_gap": False,
    }
    # a difference inside the noise does not count: 10 fewer errors, on cases the two nets disagree about entirely
    close = Claims("03_mnist_distillation")
    errors = {"teacher": 100, "baseline": 300, "distilled": 290}
    wrong = {"teacher": _wrong(100), "baseline": _wrong(300), "distilled": _wrong(290, offset=300)}
    mnist_distillation_claims(close, errors, wrong, PAPER)
    assert not close["03.distilled_beats_baseline"].holds
    assert close["03.distilled_beats_baseline"].noise == pytest.approx(math.sqrt(590))
    # the same 10 errors fewer, where the nets agree on every other case: beyond noise (√10), so it holds
    same = Claims("03_mnist_distillation")
    mnist_distillation_claims(same, errors, {k: _wrong(v) for k, v in errors.items()}, PAPER)
    assert same["03.distilled_beats_baseline"].holds


def _sweep(rows):
    return pd.DataFrame([{"width": w, "temperature": t, "seed": 0, "test_errors": e} for w, t, e in rows])


def test_sweep_claims_only_what_the_grid_can_test():
    good = _sweep(
        [
            (800, 1, 680),
            (800, 4, 340),
            (800, 8, 330),
            (800, 20, 320),
            (30, 1, 900),
            (30, 2.5, 620),
            (30, 4, 580),
            (30, 8, 590),
            (30, 20, 640),
        ]
    )
    claims = Claims("03_mnist_distillation")
    sweep_claims_list(claims, good)
    assert {c.id for c in claims} == {
        "03.sweep_high_t_beats_t1",
        "03.sweep_high_t_similar_800",
        "03.sweep_mid_t_best_30",
    }
    assert all(c.holds for c in claims)
    # one temperature ≥ 8: "T > 8 similar" cannot be tested, so it is not claimed at all
    one_high = Claims("03_mnist_distillation")
    sweep_claims_list(one_high, _sweep([(800, 1, 700), (800, 4, 500), (800, 20, 400)]))
    assert "03.sweep_high_t_similar_800" not in {c.id for c in one_high}
    # the small net best at T = 20: the mid-T claim fails
    bad = Claims("03_mnist_distillation")
    sweep_claims_list(bad, _sweep([(30, 1, 900), (30, 4, 700), (30, 20, 600)]))
    assert not bad["03.sweep_mid_t_best_30"].holds


def test_missing_class_claims():
    kw = dict(omit3_shift=2.0, only78_shift=-5.0, wrong_before=_wrong(400), wrong_after=_wrong(330))
    ok = Claims("04_missing_class_bias")
    missing_class_claims(
        ok,
        omit3_before={"total_errors": 400, "errors_on_classes": 200},
        omit3_after={"total_errors": 330, "errors_on_classes": 60},
        only78_before={"error_rate": 55.0},
        only78_after={"error_rate": 22.0},
        **kw,
    )
    assert all(c.holds for c in ok)
    no_shift = Claims("04_missing_class_bias")  # "dropping the bias shift": nothing changes, nothing holds
    missing_class_claims(
        no_shift,
        omit3_before={"total_errors": 400, "errors_on_classes": 200},
        omit3_after={"total_errors": 400, "errors_on_classes": 200},
        only78_before={"error_rate": 55.0},
        only78_after={"error_rate": 55.0},
        **{**kw, "wrong_after": _wrong(400)},
    )
    assert not any(c.holds for c in no_shift)


def test_speech_claims():
    summary = {
        "baseline_frame_acc_seen": 55.0,
        "ensemble_frame_acc_seen": 59.0,
        "distilled_frame_acc_seen": 58.0,
        "baseline_frame_acc_unseen": 53.0,
        "ensemble_frame_acc_unseen": 55.0,
        "distilled_frame_acc_unseen": 53.5,
        "gain_kept_seen": 0.75,
        "gain_kept_unseen": 0.25,
    }
    table5 = pd.DataFrame(
        {
            "system": ["baseline (3% of training set)", "soft targets (3% of training set)"],
            "test_frame_acc": [20.0, 27.0],
        }
    )
    claims = Claims("05_speech_frames")
    speech_claims(claims, summary, {"seen": 30_000, "unseen": 30_000}, table5)
    verdicts = {c.id: c.holds for c in claims}
    assert verdicts == {
        "05.ensemble_beats_baseline_seen": True,
        "05.distilled_keeps_gain_seen": True,
        "05.ensemble_beats_baseline_unseen": True,
        "05.distilled_keeps_gain_unseen": False,
        "05.soft_targets_regularize": True,
    }
    no_gain = Claims("05_speech_frames")  # an ensemble that gained nothing: nothing to keep, and JSON-safe
    speech_claims(
        no_gain,
        {**summary, "ensemble_frame_acc_seen": 55.0, "gain_kept_seen": None},
        {"seen": 30_000, "unseen": 30_000},
        table5.assign(test_frame_acc=[20.0, 22.0]),
    )
    assert not no_gain["05.distilled_keeps_gain_seen"].holds and no_gain["05.distilled_keeps_gain_seen"].margin is None
    assert not no_gain["05.soft_targets_regularize"].holds


def test_specialist_temperature_and_logit_matching_claims():
    sp = Claims("06_specialists")
    specialist_claims(
        sp,
        gen_acc=0.80,
        spec_acc=0.81,
        change={"net": 90, "se": 22.0, "fixed": 297, "broken": 207},
        n_test=10_000,
        n_specialists=16,
        nll_rise={"soft": 0.01, "dustbin": 0.09},
    )
    assert all(c.holds for c in sp)
    sp_bad = Claims("06_specialists")
    specialist_claims(
        sp_bad,
        gen_acc=0.80,
        spec_acc=0.802,
        change={"net": 20, "se": 22.0, "fixed": 250, "broken": 230},
        n_test=10_000,
        n_specialists=16,
        nll_rise={"soft": 0.1, "dustbin": 0.09},
    )
    assert not any(c.holds for c in sp_bad)
    t = Claims("01_softmax_temperature")
    temperature_claims(
        t, high_t=20, gradient_t1=3e-4, gradient_high_t=0.87, limit=1.0, entropy_t1=0.1, entropy_high_t=3.2
    )
    assert all(c.holds for c in t)
    t_bad = Claims("01_softmax_temperature")
    temperature_claims(
        t_bad, high_t=20, gradient_t1=0.3, gradient_high_t=0.4, limit=1.0, entropy_t1=1.0, entropy_high_t=1.5
    )
    assert not any(c.holds for c in t_bad)
    lm = Claims("02_logit_matching_limit")
    logit_matching_claims(
        lm,
        t_zero_mean=56.0,
        t_shifted=None,
        level=0.1,
        agreement=[0.84, 0.9, 0.99],
        corr=[0.7, 0.9, 1.0],
        temperatures=[1, 5, 100],
        n_test=10_000,
    )
    assert all(c.holds for c in lm)
    lm_bad = Claims("02_logit_matching_limit")
    logit_matching_claims(
        lm_bad,
        t_zero_mean=56.0,
        t_shifted=3.0,
        level=0.1,
        agreement=[0.9, 0.9, 0.901],
        corr=[0.7, 0.9, 1.0],
        temperatures=[1, 5, 100],
        n_test=10_000,
    )
    assert not any(c.holds for c in lm_bad)
    assert all(re.match(r"^0[126]\.", c.id) for c in [*sp, *t, *lm])
