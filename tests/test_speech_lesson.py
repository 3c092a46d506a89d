"""kdlab.lessons.speech and its recipe, Table 5, analysis and decoder modules: the pieces of notebook 05 on small synthetic frame sets
(the corpus is not needed)."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from kdlab import paper
from kdlab.data.speech import SpeechCorpus, SpeechSplit
from kdlab.lessons import common, speech_decode, speech_seeds, speech_table5
from kdlab.lessons import speech as E
from kdlab.lessons import speech_analysis as analysis
from kdlab.lessons import speech_recipe as recipe
from kdlab.lessons.speech_gain_by_t import gain_by_t_sentences, gain_by_temperature
from kdlab.lessons.speech_val_optimum import BestOnValidation, epochs_sentence


def test_ensemble_log_probs_is_the_log_of_the_mean_distribution():
    g = torch.Generator().manual_seed(0)
    lp = torch.log_softmax(torch.randn(10, 7, 5, generator=g), dim=-1)  # (members, frames, classes)
    expected = lp.exp().mean(0).log()
    torch.testing.assert_close(recipe.ensemble_log_probs(lp), expected)


def test_gain_kept():
    assert common.gain_kept(58.9, 61.1, 60.8) == pytest.approx(1.9 / 2.2)  # the paper's Table 1: 86 %
    assert common.gain_kept(50.0, 50.0, 51.0) is None  # no gain to keep: JSON null, never NaN


def test_select_utterances_and_small_subset_keep_whole_utterances():
    split = SpeechSplit(
        torch.arange(10.0)[:, None], torch.arange(10), torch.tensor([0, 2, 5, 10]), torch.tensor([4, 5, 6])
    )
    sub = recipe.select_utterances(split, [2, 0])
    assert sub.labels.tolist() == [5, 6, 7, 8, 9, 0, 1] and sub.utt_bounds.tolist() == [0, 5, 7]
    assert sub.speakers.tolist() == [6, 4]
    data = _fake_data()
    small = speech_table5.small_subset(data, 0.25, seed=0)
    b = small.bounds.tolist()
    assert len(b) == 3 and b[-1] == len(small.y)  # 25 % of 8 utterances = 2 whole utterances


def _fake_data(classes: int = 6, frames_per_utt: int = 30, utts: int = 8, dim: int = 12) -> recipe.SpeechData:
    g = torch.Generator().manual_seed(1)
    centers = torch.randn(classes, dim, generator=g) * 2

    def frame_set(n_utts: int) -> recipe.FrameSet:
        y = torch.randint(0, classes, (n_utts * frames_per_utt,), generator=g)
        x = centers[y] + torch.randn(len(y), dim, generator=g)
        bounds = torch.arange(n_utts + 1) * frames_per_utt
        return recipe.FrameSet(x, y, bounds, torch.zeros(n_utts, dtype=torch.long))

    return recipe.SpeechData(
        frame_set(utts), frame_set(2), frame_set(2), frame_set(2), [f"p{i}" for i in range(classes)], 1
    )


def test_tables_run_end_to_end_on_a_toy_problem():
    cfg = recipe.get_profile("quick")
    tiny = replace(cfg, hidden=(16,), ensemble_size=3, temperatures=(1.0, 4.0), small_fraction=0.25, curve_frames=50,
                   baseline=replace(cfg.baseline, epochs=2, progress=False),
                   distilled=replace(cfg.distilled, epochs=2, progress=False),
                   small=replace(cfg.small, epochs=3, progress=False))  # fmt: skip
    data = _fake_data()
    t1 = E.run_table1(tiny, data, device="cpu", progress=False, n_posterior_utts=1)
    assert set(t1.table.model) == {"baseline", "10x ensemble", "distilled T=1", "distilled T=4", E.MATCHED_CONTROL}
    assert list(t1.table.model[:2]) == ["baseline", "10x ensemble"] and t1.table.model.iloc[-1] == E.MATCHED_CONTROL
    assert t1.table.chosen_on_val.tolist() == [False, False, True, False, False]  # the chosen student comes first
    assert t1.best_temperature == t1.table.temperature[2]
    assert t1.table.frame_acc_seen.between(0, 100).all()
    assert t1.table.phone_error_rate.notna().sum() == 3  # baseline, ensemble and the chosen student are decoded
    assert t1.posteriors["teacher"].shape == (30, 6)
    summary = E.summarize_table1(t1)
    assert set(summary) >= {"gain_kept_seen", "gain_kept_unseen", "distilled_per", "control_frame_acc_seen"}
    assert summary["control_frame_acc_unseen"] == t1.table.set_index("model").loc[E.MATCHED_CONTROL, "frame_acc_unseen"]
    assert "matched_control" in t1.seconds  # trained with the student's config on the student's transfer set
    t5, curves, per_seed = speech_table5.run_table5(tiny, data, t1.baseline, t1.best_temperature, device="cpu",
                                                    progress=False)  # fmt: skip
    assert list(t5.system) == list(paper.table5_by_system())
    assert len(curves) == 2 * 3 and set(curves.columns) >= {"setting", "epoch", "train_acc", "val_acc", "test_acc"}
    assert len(per_seed) == 1 and (per_seed.filter(like="noise") >= 0).all(axis=None)  # 0: best epoch = last
    row = per_seed.iloc[0]
    hard = curves[curves.setting == speech_table5.HARD]
    assert row.hard_final_test_acc == hard.test_acc.iloc[-1]  # the last epoch's test accuracy, as the curve says
    assert row.hard_best_test_acc == hard.loc[hard.val_acc.idxmax(), "test_acc"]  # the epoch validation chose
    # Item 1 of issue 26: the baseline and the members keep their best validation epoch, and say which it was
    m = t1.member_epochs
    assert set(m.model) == {"baseline", "10x ensemble"} and m.groupby(
        "model", sort=False
    ).member.nunique().tolist() == [1, 3]
    for (_, _), c in m.groupby(["model", "member"]):
        assert c.best.sum() == 1 and c.loc[c.best, "val_frame_acc"].iloc[0] == c.val_frame_acc.max()
    base_val = t1.table.set_index("model").loc["baseline", "frame_acc_val"]
    assert base_val == pytest.approx(m[(m.model == "baseline") & m.best].val_frame_acc.iloc[0])  # the weights kept
    assert "best of 2 epochs" in epochs_sentence(m) and "3 members" in epochs_sentence(m)
    gt = gain_by_temperature(t1.table)
    assert gt.temperature.tolist() == [1.0, 4.0] and gt.chosen_on_val.sum() == 1


def test_unknown_profile():
    with pytest.raises(ValueError, match="valid profiles"):
        recipe.get_profile("huge")


def test_ensemble_soft_targets_two_ways():
    torch.manual_seed(0)
    members = torch.log_softmax(torch.randn(5, 7, 11) * 3, -1)  # (M, frames, classes)
    T = 4.0
    tempered_mean = torch.softmax(recipe.ensemble_soft_logits(members, T, "tempered_mean") / T, -1)
    mean_of_tempered = torch.softmax(recipe.ensemble_soft_logits(members, T, "mean_of_tempered") / T, -1)
    # the simple forms, written as the words say
    p_bar = members.exp().mean(0)
    assert torch.allclose(tempered_mean, torch.softmax(torch.log(p_bar) / T, -1), atol=1e-6)
    assert torch.allclose(mean_of_tempered, torch.softmax(members / T, -1).mean(0), atol=1e-6)
    assert not torch.allclose(tempered_mean, mean_of_tempered, atol=1e-3)  # they differ at T ≠ 1 ...
    one = [
        torch.softmax(recipe.ensemble_soft_logits(members, 1.0, h), -1) for h in ("tempered_mean", "mean_of_tempered")
    ]
    assert torch.allclose(one[0], one[1], atol=1e-6)  # ... and agree at T = 1
    with pytest.raises(ValueError, match="soft_targets"):
        recipe.ensemble_soft_logits(members, T, "median")


def test_mixup_frames_keep_the_dominant_label():
    x, y = torch.randn(50, 6), torch.arange(50)
    xs, ys = recipe.mixup_frames(x, y, copies=2, max_weight=0.5, seed=0)
    assert xs.shape == (150, 6) and torch.equal(ys, y.repeat(3))
    assert torch.equal(xs[:50], x)  # the original frames first, untouched
    assert not torch.allclose(xs[50:100], x)
    assert torch.equal(recipe.mixup_frames(x, y, 2, 0.5, seed=0)[0], xs)  # seeded
    assert recipe.mixup_frames(x, y, 0, 0.5, seed=0)[0].shape == x.shape
    with pytest.raises(ValueError, match="mixup_max"):
        recipe.mixup_frames(x, y, 1, 0.7, seed=0)


def test_chunked_soft_targets_equal_the_whole_computation():
    """ensemble_soft_targets (chunks of frames) = ensemble_soft_logits on all members' posteriors at once."""
    from kdlab.core.models import BatchedMLP

    torch.manual_seed(0)
    ens = BatchedMLP(4, 12, (16,), 7).eval()
    x = torch.randn(301, 12)
    members = recipe.log_probs(ens, x)
    for how, temps in (("tempered_mean", (1.0,)), ("mean_of_tempered", (1.0, 2.0, 5.0))):
        chunked = recipe.ensemble_soft_targets(ens, x, temps, how, chunk=64)
        whole = (
            recipe.ensemble_soft_logits(members, 1.0, how)
            if how == "tempered_mean"
            else torch.stack([recipe.ensemble_soft_logits(members, T, how) for T in temps])
        )
        assert torch.allclose(chunked, whole, atol=1e-5)


def test_utterance_excerpt_pools_states_into_phones():
    split = SpeechSplit(torch.arange(60.0).reshape(6, 10), torch.tensor([0, 1, 4, 5, 3, 0]), torch.tensor([0, 4, 6]),
                        torch.tensor([1, 0]))  # fmt: skip
    corpus = SpeechCorpus(split, split, split, ["sil/0", "sil/1", "sil/2", "a/0", "a/1", "a/2"], ["v0", "v1"], {}, 3)
    ex = analysis.utterance_excerpt(corpus, "train", utt=0, frames=3)
    assert ex["feats"].shape == (3, 10) and ex["phones"] == ["sil", "sil", "a"] and ex["voice"] == "v1"


def _table1() -> pd.DataFrame:
    return pd.DataFrame({"model": ["baseline", "10x ensemble", "distilled T=2", "distilled T=1"],
                         "chosen_on_val": [False, False, True, False]})  # fmt: skip


def test_chosen_student_and_table1_sentences():
    assert analysis.chosen_student(_table1()) == "distilled T=2"
    summary = {"baseline_per": 30.0, "ensemble_per": 27.0, "distilled_per": 28.0, "gain_kept_unseen": None}
    for s, (b, e, d) in {"seen": (50.0, 54.0, 53.0), "unseen": (40.0, 40.0, 41.0)}.items():
        summary |= {f"baseline_frame_acc_{s}": b, f"ensemble_frame_acc_{s}": e, f"distilled_frame_acc_{s}": d}
    summary["gain_kept_seen"] = common.gain_kept(50.0, 54.0, 53.0)
    text = analysis.table1_sentences(summary, paper.table1_by_system())
    assert "+2.2 points" in text and "86% of the gain kept" in text  # the paper's Table 1
    assert "keeps **75%** of that gain" in text and "has no gain to keep" in text
    assert "ensemble 27.0 %" in text


def test_table5_sentences_compare_with_the_full_data_baseline():
    table5 = pd.DataFrame({"system": list(paper.table5_by_system()), "train_frame_acc": [60.0, 90.0, 55.0],
                           "test_frame_acc": [50.0, 30.0, 45.0], "epoch": [16, 7, 40]})  # fmt: skip
    table5["paper_train_frame_acc"] = [paper.table5_by_system()[s][0] for s in table5.system]
    table5["paper_test_frame_acc"] = [paper.table5_by_system()[s][1] for s in table5.system]
    text = analysis.table5_sentences(table5)
    assert "gap +60.0 points, early-stopped at epoch 7" in text
    assert "soft targets on 3 % of the data give -5.0 points and hard targets -20.0" in text
    assert "(the paper: -1.9 and -14.4)" in text


def test_phone_accuracy_pools_states_by_frames():
    rows = []
    for model, acc in (("baseline", (1.0, 0.0, 0.5)), ("10x ensemble", (1.0, 0.5, 0.5))):
        for c, (phone, frames) in enumerate((("a/0", 30), ("a/1", 10), ("b/0", 20))):
            rows.append({"model": model, "class": c, "phone": phone, "frames": frames, "accuracy": acc[c]})
    rows.append({"model": "baseline", "class": 3, "phone": "c/0", "frames": 0, "accuracy": np.nan})
    rows.append({"model": "10x ensemble", "class": 3, "phone": "c/0", "frames": 0, "accuracy": np.nan})
    by_phone = analysis.phone_accuracy(pd.DataFrame(rows), ["baseline", "10x ensemble"], top=2)
    assert list(by_phone.index) == ["a", "b"] and list(by_phone.columns) == ["baseline", "10x ensemble"]
    assert by_phone.loc["a", "baseline"] == pytest.approx(0.75) and by_phone.loc["a", "10x ensemble"] == 0.875
    text = analysis.phone_sentences(by_phone)
    assert "beats the baseline on 1 of these 2 phones" in text and "gains most on **a** (+12.5 points)" in text


def test_decoded_per_is_zero_for_the_true_labels():
    from kdlab.lessons.speech_decode import estimate_hmm

    data = _fake_data()
    hmm = estimate_hmm(data.train.y, data.train.bounds, data.num_classes)
    perfect = torch.log(torch.nn.functional.one_hot(data.val.y, data.num_classes).float() * 0.99 + 0.01 / 6)
    assert speech_decode.decoded_per(perfect, data.val, hmm, 1, 1.0) == 0.0


def test_best_on_validation_rolls_each_member_back_to_its_own_best_epoch(monkeypatch):
    """Each member of a stack keeps the weights of *its* best validation epoch, not the stack's."""
    model = torch.nn.Linear(1, 2)  # stands in for a stack: every parameter's first axis is the member
    model.weight = torch.nn.Parameter(torch.zeros(2, 1))
    model.bias = torch.nn.Parameter(torch.zeros(2))
    accs = [10.0, 50.0, 30.0, 40.0, 20.0, 45.0]  # per epoch, members 0 and 1: bests at epoch 2 and at epoch 1
    monkeypatch.setattr("kdlab.lessons.speech_val_optimum.log_probs", lambda m, x: torch.zeros(2, 3, 2))
    monkeypatch.setattr("kdlab.lessons.speech_val_optimum.frame_accuracy", lambda lp, y: accs.pop(0) / 100)
    tracker = BestOnValidation(torch.zeros(3, 1), torch.zeros(3, dtype=torch.long))
    for epoch in range(3):
        with torch.no_grad():
            model.weight.fill_(epoch + 1)
            model.bias.fill_(epoch + 1)
        tracker(epoch, model)
    tracker.restore(model)
    assert model.weight[:, 0].tolist() == [2.0, 1.0] and model.bias.tolist() == [2.0, 1.0]
    assert tracker.best_epoch == [2, 1]
    curves = tracker.curves("ensemble")
    kept = curves[curves.best]
    assert sorted(zip(kept.member, kept.epoch)) == [(0, 2), (1, 1)] and len(curves) == 6


def _table(base, ens, ctrl, students):
    rows = [("baseline", float("nan"), base, False), ("10x ensemble", float("nan"), ens, False)]
    rows += [(f"distilled T={t:g}", t, a, i == 0) for i, (t, a) in enumerate(students)]
    rows.append((E.MATCHED_CONTROL, float("nan"), ctrl, False))
    return pd.DataFrame(rows, columns=["model", "temperature", "frame_acc_val", "chosen_on_val"])


def test_gain_by_temperature_and_why_a_share_above_100_percent():
    gt = gain_by_temperature(_table(50.0, 54.0, 52.0, [(1.0, 55.0), (10.0, 51.0)]))
    assert gt.gain_kept_vs_baseline.tolist() == [125.0, 25.0]
    assert gt.gain_kept_vs_control.tolist() == [150.0, -50.0]
    assert gt.student_minus_control.tolist() == [3.0, -1.0]
    text = gain_by_t_sentences(gt, student_epochs=16, member_epochs=[12, 16], mixed_copies=2)
    assert "At T = 1 the student beats the ensemble" in text and "16 epochs" in text and "3× the inputs" in text
    assert "epochs 12–16" in text and "below each of these students" in text
    budget = gain_by_t_sentences(gain_by_temperature(_table(50.0, 54.0, 56.0, [(1.0, 55.0)])), 16, [16], 2)
    assert "the budget, not the soft targets" in budget  # the control beats the student: the budget explains it
    none = gain_by_t_sentences(gain_by_temperature(_table(50.0, 54.0, 52.0, [(1.0, 53.0)])), 16, [16], 2)
    assert "No student keeps more than the whole gain" in none
    flat = gain_by_t_sentences(gain_by_temperature(_table(50.0, 50.0, 52.0, [(1.0, 53.0)])), 16, [16], 2)
    assert "gains nothing" in flat


def test_utterance_noise_counts_utterances_not_frames():
    """Errors that come in whole utterances are noisier than √(frames) says; the per-utterance form sees it."""
    bounds = torch.arange(0, 1001, 100)  # 10 utterances of 100 frames
    a = torch.zeros(1000, dtype=torch.bool)
    a[:500] = True  # model a gets the first five utterances right, wholly
    b = ~a  # model b the other five
    clustered = speech_table5.utterance_noise(a, b, bounds)
    binomial = 100 * (2 * 0.5 * 0.5 / 1000) ** 0.5
    assert clustered > 5 * binomial  # 10 independent draws, not 1000
    expected = 100 * (10 / 9 * 10 * 100**2) ** 0.5 / 1000  # dᵤ = ±100 around a mean of 0
    assert clustered == pytest.approx(expected)
    assert speech_table5.utterance_noise(a, a, bounds) == 0.0
    with pytest.raises(ValueError, match="two utterances"):
        speech_table5.utterance_noise(a, b, torch.tensor([0, 1000]))


def test_table1_seeds_add_initializations_of_the_three_compared_models():
    """Issue 25: the full profile's Table 1 claims compare several initializations of the baseline, the chosen
    student and the matched control; member 0 is the table's own model, the others are trained after T is chosen."""
    cfg = recipe.get_profile("quick")
    few = dict(epochs=2, progress=False)
    tiny = replace(cfg, hidden=(16,), ensemble_size=3, temperatures=(1.0, 4.0), table1_seeds=3,
                   baseline=replace(cfg.baseline, **few), distilled=replace(cfg.distilled, **few))  # fmt: skip
    t1 = E.run_table1(tiny, _fake_data(), device="cpu", progress=False, n_posterior_utts=1)
    s = t1.seeds
    assert s.groupby("model", sort=False).member.apply(list).to_dict() == {m: [0, 1, 2] for m in speech_seeds.MODELS}
    table = t1.table.set_index("model")
    first = s[s.member == 0].set_index("model")
    chosen = t1.table[t1.table.chosen_on_val].iloc[0]
    assert first.loc["baseline", "frame_acc_seen"] == table.loc["baseline", "frame_acc_seen"]
    assert first.loc["distilled", "frame_acc_unseen"] == chosen.frame_acc_unseen
    assert first.loc["matched control", "frame_acc_val"] == table.loc[E.MATCHED_CONTROL, "frame_acc_val"]
    assert s.filter(like="frame_acc").stack().between(0, 100).all() and t1.seconds["more_seeds"] > 0
    one = E.run_table1(replace(tiny, table1_seeds=1), _fake_data(), device="cpu", progress=False, n_posterior_utts=1)
    assert len(one.seeds) == 3 and set(one.seeds.member) == {0}  # the quick profile: one initialization each
