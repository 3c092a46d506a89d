"""Notebook 03's controls and §2's two training claims, run as experiments on held-out training cases.

* **matched baseline** (issue 25): the hard-label baseline given the distilled net's epoch budget and stopped at its
  best epoch on validation cases no student trains on (``kdlab.core.early_stopping.BestEpoch``), so "distilled beats
  baseline" cannot come from a baseline that merely trained too short or overfitted;
* **hard-target weight** (§2: "the best results were generally obtained by using a considerably lower weight on the
  second objective function"): students at T = 20 with hard weights w beside T²·soft (w = 1 is *equal* weight: the
  T² factor already puts the soft term's gradients on the hard term's scale), every (seed, w) a member of one
  ``BatchedMLP`` (``per_member_distillation_loss`` with one weight per member);
* **much less data** (§2: soft targets let "the small model ... be trained on much less data than the original
  cumbersome model and using a much higher learning rate"): a transfer set of 1 % of the training cases, soft
  targets against hard targets, each at every learning rate of a small grid.

Every choice (epoch, weight, learning rate) is made on validation errors; test errors are recorded beside them and
read only by the claims (``kdlab.lessons.claims.distillation_controls``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd
import torch

from kdlab.core.config import seed_everything
from kdlab.core.early_stopping import BestEpoch
from kdlab.core.evaluate import evaluate, predict_logits
from kdlab.core.losses import per_member_distillation_loss
from kdlab.core.models import MLP
from kdlab.core.seeds import fit_seeds
from kdlab.core.train import TrainingDiverged, fit
from kdlab.lessons.distillation import MnistProfile, make_student


def train_matched_baseline(
    profile: MnistProfile,
    x: torch.Tensor,
    y: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    *,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> tuple[MLP, BestEpoch, float]:
    """The baseline's recipe for the distilled net's number of epochs, its weights taken from the epoch with the
    fewest validation errors; returns (model at that epoch, the ``BestEpoch`` record, wall seconds)."""
    config = replace(profile.baseline, epochs=profile.distilled.epochs, seed=seed, progress=progress,
                     desc="matched baseline")  # fmt: skip
    seed_everything(seed)
    model = make_student(profile.student_hidden)
    best = BestEpoch(x_val, y_val)
    began = time.perf_counter()
    fit(model, x, y, config=config, on_epoch_end=best, device=device)
    return best.restore(model), best, time.perf_counter() - began


@dataclass
class Grid:
    """One experiment's runs: ``table`` has a row per run (its setting, seed, validation and test errors) and
    ``wrong`` maps (setting, seed) to the run's per-test-case mistakes (for McNemar's noise)."""

    table: pd.DataFrame
    wrong: dict[tuple, np.ndarray]
    seconds: float


def _scores(model, x_val, y_val, x_test, y_test) -> tuple[list[int], list[int], np.ndarray]:
    wrong = (predict_logits(model, x_test).argmax(-1).cpu() != y_test).numpy()  # (M, N)
    return list(evaluate(model, x_val, y_val).errors), [int(w.sum()) for w in wrong], wrong


def run_hard_weight_sweep(profile: MnistProfile, x, y, teacher_logits, x_val, y_val, x_test, y_test, *,
                          seed: int = 0, device: str | torch.device = "auto", progress: bool = True) -> Grid:  # fmt: skip
    """Students at the distilled net's T with each of ``profile.hard_weights``, the sweep's schedule, one member per
    (seed, weight): a seed's members share initial weights and batches, so the weights are compared on paired runs."""
    weights, seeds = tuple(profile.hard_weights), [seed + s for s in profile.claim_seeds]
    T = profile.distilled.temperature
    config = replace(profile.sweep, temperature=T, progress=progress, desc="hard-weight sweep")
    loss = per_member_distillation_loss((T,) * len(weights) * len(seeds), weights * len(seeds))
    began = time.perf_counter()
    model, _ = fit_seeds(partial(make_student, profile.student_hidden), x, y, seeds, config=config,
                         teacher_logits=teacher_logits, device=device, repeat=len(weights), loss_fn=loss)  # fmt: skip
    val, test, wrong = _scores(model, x_val, y_val, x_test, y_test)
    members = [(w, s) for s in seeds for w in weights]
    rows = [{"hard_weight": w, "seed": s, "val_errors": v, "test_errors": t}
            for (w, s), v, t in zip(members, val, test)]  # fmt: skip
    return Grid(pd.DataFrame(rows), dict(zip(members, wrong)), time.perf_counter() - began)


def run_small_transfer(profile: MnistProfile, x, y, teacher_logits, x_val, y_val, x_test, y_test, *,
                       seed: int = 0, device: str | torch.device = "auto", progress: bool = True) -> Grid:  # fmt: skip
    """On a small transfer set (x, y and the teacher's logits on it): students on soft targets only (T as the
    distilled net's, no hard term) and on hard labels only, at every learning rate of ``profile.small_lrs`` —
    the same schedule, clipping and epochs, the seeds as members. A learning rate that diverges is recorded with
    no errors (it cannot be chosen)."""
    seeds = [seed + s for s in profile.claim_seeds]
    make = partial(make_student, profile.student_hidden)
    rows, wrong = [], {}
    began = time.perf_counter()
    for targets in ("soft", "hard"):
        for lr in profile.small_lrs:
            config = replace(profile.distilled, epochs=profile.small_epochs, lr=lr, hard_weight=0.0,
                             progress=progress, desc=f"{len(x)} cases, {targets} targets, lr {lr:g}")  # fmt: skip
            soft = targets == "soft"
            try:
                model, _ = fit_seeds(make, x, None if soft else y, seeds, config=config,
                                     teacher_logits=teacher_logits if soft else None, device=device)  # fmt: skip
            except TrainingDiverged:
                rows += [{"targets": targets, "lr": lr, "seed": s, "val_errors": None, "test_errors": None}
                         for s in seeds]  # fmt: skip
                continue
            val, test, w = _scores(model, x_val, y_val, x_test, y_test)
            for s, v, t, ws in zip(seeds, val, test, w):
                rows.append({"targets": targets, "lr": lr, "seed": s, "val_errors": v, "test_errors": t})
                wrong[(targets, lr, s)] = ws
    return Grid(pd.DataFrame(rows), wrong, time.perf_counter() - began)


def best_by_validation(table: pd.DataFrame, setting: str) -> float:
    """The value of ``setting`` (a column: hard_weight, lr) with the fewest validation errors, averaged over seeds;
    ties go to the first in the table's order. Runs without errors (diverged) are never chosen."""
    means = table.dropna(subset=["val_errors"]).groupby(setting, sort=False)["val_errors"].mean()
    if means.empty:
        raise ValueError(f"no run of this grid has validation errors to choose a {setting} by")
    return float(means.idxmin())
