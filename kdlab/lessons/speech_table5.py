"""Notebook 05's Table 5 (paper §6, "Soft targets as regularizers"): the same frame classifier on 3 % of the data.

The paper: "with only 3% of the data ..., training the baseline model with hard targets leads to severe overfitting
(we did early stopping, as the accuracy drops sharply after reaching 44.5%), whereas the same model trained with soft
targets is able to recover almost all the information in the full training set" (57.0 %, baseline 58.9 %). Here:
``small_subset`` takes 3 % of the training utterances (whole utterances), ``run_table5`` trains one model on their
hard labels and one student per temperature on the soft targets of the full-data baseline, records train /
validation / test accuracy after every epoch, and reports each at its best *validation* epoch (early stopping) —
the temperature, too, is chosen on validation, never on a test set.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import torch

from kdlab.core.models import BatchedMLP
from kdlab.lessons.speech_recipe import (
    FrameSet,
    SpeechData,
    SpeechProfile,
    frame_accuracy,
    log_probs,
    train_hard,
    train_students,
    utterance_rows,
)
from kdlab.paper import table5_by_system


def small_subset(data: SpeechData, fraction: float, seed: int = 0) -> FrameSet:
    """``fraction`` of the training utterances (whole utterances, seeded): the paper's 3 % regime."""
    n = len(data.train.speakers)
    k = max(1, round(fraction * n))
    utts = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k].sort().values.tolist()
    idx, bounds = utterance_rows(data.train.bounds, utts)
    return FrameSet(data.train.x[idx], data.train.y[idx], bounds, data.train.speakers[utts])


def _curve_callback(name: str, train: FrameSet, data: SpeechData, curve_frames: int, rows: list):
    """Per-epoch train / validation / test accuracy of every member of a stack (a row per member and epoch)."""
    g = torch.Generator().manual_seed(0)
    sub = torch.randperm(len(train.y), generator=g)[:curve_frames]

    def on_epoch_end(epoch: int, model) -> dict[str, float]:
        lp = {key: (log_probs(model, x), y) for key, x, y in (
            ("train_acc", train.x[sub], train.y[sub]), ("val_acc", data.val.x, data.val.y),
            ("test_acc", data.test_seen.x, data.test_seen.y))}  # fmt: skip
        for m in range(next(iter(lp.values()))[0].shape[0]):
            rows.append({"setting": name, "member": m, "epoch": epoch + 1,
                         **{key: 100 * frame_accuracy(p[m], y) for key, (p, y) in lp.items()}})  # fmt: skip
        return {}

    return on_epoch_end


def run_table5(profile: SpeechProfile, data: SpeechData, baseline: BatchedMLP, temperature, *, seed: int = 0,
               device="auto", progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """3 % of the data with hard targets vs the full-data baseline's soft targets: (table, curves).

    ``temperature`` is one T or several: with several, one soft-target student per T trains in the same stack and
    the one with the best validation accuracy (at its early-stopping epoch) is reported — chosen on validation,
    like the epoch, never on the test set."""
    temps = (float(temperature),) if isinstance(temperature, (int, float)) else tuple(float(t) for t in temperature)
    small = small_subset(data, profile.small_fraction, seed)
    curves: list[dict] = []
    hard_name, soft_name = "baseline (3% of training set)", "soft targets (3% of training set)"
    train_hard(profile, data, 1, profile.small, seed=seed + 3, device=device, progress=progress, train=small,
               on_epoch_end=_curve_callback(hard_name, small, data, profile.curve_frames, curves))  # fmt: skip
    teacher = log_probs(baseline, small.x)[0]
    cfg = replace(profile.small, desc="3% soft")
    train_students(profile, data, teacher, temps, profile.small_hard_weight, cfg, seed=seed + 3,
                    device=device, progress=progress, train=small,
                    on_epoch_end=_curve_callback(soft_name, small, data, profile.curve_frames, curves))  # fmt: skip
    curves_df = pd.DataFrame(curves)
    soft = curves_df[curves_df.setting == soft_name]
    chosen = int(soft.loc[soft.val_acc.idxmax(), "member"])
    curves_df = curves_df[(curves_df.setting != soft_name) | (curves_df.member == chosen)].drop(columns="member")
    g = torch.Generator().manual_seed(0)
    sub = torch.randperm(len(data.train.y), generator=g)[: profile.curve_frames]
    rows = [{"system": "baseline (100% of training set)", "train_frames": len(data.train.y),
             "train_frame_acc": 100 * frame_accuracy(log_probs(baseline, data.train.x[sub])[0], data.train.y[sub]),
             "test_frame_acc": 100 * frame_accuracy(log_probs(baseline, data.test_seen.x)[0], data.test_seen.y),
             "epoch": profile.baseline.epochs, "final_test_frame_acc": float("nan")}]  # fmt: skip
    for name in (hard_name, soft_name):
        c = curves_df[curves_df.setting == name]
        best = c.loc[c.val_acc.idxmax()]  # early stopping on the validation set
        rows.append({"system": name, "train_frames": len(small.y), "train_frame_acc": float(best.train_acc),
                     "test_frame_acc": float(best.test_acc), "epoch": int(best.epoch),
                     "final_test_frame_acc": float(c.test_acc.iloc[-1])})  # fmt: skip
    table = pd.DataFrame(rows)
    table["temperature"] = [None, None, temps[chosen]]
    paper = table5_by_system()  # §6, Table 5: (train, test) frame accuracy per system
    table["paper_train_frame_acc"] = [paper[s][0] for s in table.system]
    table["paper_test_frame_acc"] = [paper[s][1] for s in table.system]
    return table, curves_df
