"""Notebook 03's headline students over more seeds: the baseline, the matched baseline and the distilled net again.

Why: one run's test errors move by several errors between seeds (the 03 reference distilled net made 81 errors;
earlier full runs of the same recipe made 72 and 74), so a verdict drawn from one seed cannot tell noise from a
recipe gap (issue 25). The full profile therefore trains each headline student at ``profile.headline_seeds`` and
the claims take the seed spread as their noise wherever it exceeds the test set's McNemar noise
(``kdlab.lessons.claims.judge.noise_of``).

How: the notebook trains seed ``SEED`` as one net each (the nets a student inspects); this module trains the other
seeds. The baseline's and the distilled net's seeds are the members of one ``BatchedMLP`` each
(``kdlab.core.seeds.fit_seeds``: member m is the separate run of its seed, same initial weights and batches; the
students have no dropout and no jitter, so nothing differs). The matched baseline keeps each seed's best validation
epoch (``BestEpoch`` keeps one net's), so its seeds train one after another. The teacher stays one net: three
teachers would triple the notebook's longest training, so the teacher's figure carries the test set's noise only,
and the claims say so through their noise source.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

import pandas as pd
import torch

from kdlab.core.evaluate import evaluate
from kdlab.core.seeds import fit_seeds
from kdlab.lessons.distillation import MnistProfile, make_student
from kdlab.lessons.distillation_controls import train_matched_baseline

STUDENTS = ("baseline", "matched", "distilled")  # the headline students, in the order the table lists them


@dataclass
class SeedRuns:
    """The headline students over seeds: ``table`` has a row per (model, seed) with validation and test errors."""

    table: pd.DataFrame  # model, seed, val_errors, test_errors
    seconds: float

    def errors(self, column: str = "test_errors") -> dict[str, list[int]]:
        """{model: [errors per seed, in seed order]} for ``column`` (test_errors or val_errors)."""
        t = self.table.sort_values("seed")
        return {m: [int(v) for v in t[t.model == m][column]] for m in STUDENTS if (t.model == m).any()}


def _errors(model, x, y) -> list[int]:
    errors = evaluate(model, x, y).errors
    return list(errors) if isinstance(errors, list) else [int(errors)]


def run_more_seeds(
    profile: MnistProfile,
    x: torch.Tensor,
    y: torch.Tensor,
    teacher_logits: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    seeds: Sequence[int],
    device: str | torch.device = "auto",
    progress: bool = True,
) -> SeedRuns:
    """Baseline, matched baseline and distilled net at each of ``seeds`` with the notebook's recipes (``profile``'s
    baseline and distilled configs on the transfer set x, y; the teacher's logits on it); no rows for no seeds."""
    seeds = list(seeds)
    rows, began = [], time.perf_counter()
    if seeds:
        make = partial(make_student, profile.student_hidden)
        dist = profile.distilled
        nets = {
            "baseline": fit_seeds(make, x, y, seeds, device=device,
                                  config=replace(profile.baseline, progress=progress, desc="baseline, more seeds"))[0],
            "distilled": fit_seeds(make, x, y if dist.hard_weight > 0 else None, seeds, teacher_logits=teacher_logits,
                                   device=device, config=replace(dist, progress=progress, desc="distilled, more seeds"))[0],
        }  # fmt: skip
        for name, net in nets.items():
            for s, v, t in zip(seeds, _errors(net, x_val, y_val), _errors(net, x_test, y_test)):
                rows.append({"model": name, "seed": s, "val_errors": v, "test_errors": t})
        for s in seeds:
            net, best, _ = train_matched_baseline(profile, x, y, x_val, y_val, seed=s, device=device, progress=progress)
            rows.append({"model": "matched", "seed": s, "val_errors": best.best_errors,
                         "test_errors": _errors(net, x_test, y_test)[0]})  # fmt: skip
    table = pd.DataFrame(rows, columns=["model", "seed", "val_errors", "test_errors"])
    return SeedRuns(table, time.perf_counter() - began)


def with_first_seed(seed: int, test_errors: dict[str, int], val_errors: dict[str, int], more: SeedRuns) -> SeedRuns:
    """``more`` with the notebook's own seed added in front: its students' test and validation errors."""
    first = pd.DataFrame(
        [
            {"model": m, "seed": seed, "val_errors": int(val_errors[m]), "test_errors": int(test_errors[m])}
            for m in STUDENTS
        ]  # fmt: skip
    )
    table = pd.concat([first, more.table], ignore_index=True) if len(more.table) else first
    return SeedRuns(table.sort_values(["model", "seed"], key=_model_order).reset_index(drop=True), more.seconds)


def _model_order(column: pd.Series) -> pd.Series:
    return column.map(STUDENTS.index) if column.name == "model" else column
