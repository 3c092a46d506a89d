"""Notebook 05's Table 1 over more initializations: the baseline, the chosen student and the matched control again.

Why (issues 25–26): a frame accuracy is one initialization's; the claims "the distilled model keeps the ensemble's
gain" and "it beats its matched control" compare differences of a point or two, which one draw cannot separate from
the luck of an initialization. So the full profile trains ``profile.table1_seeds − 1`` more of each model the claims
compare, and the claims take the spread over them as their noise wherever it exceeds the test frames' binomial noise.

How: after ``run_table1`` chose the temperature on validation, each model's extra initializations are the members of
one ``BatchedMLP`` (one training each; the members differ in their initial weights and share the batch order, as
the ensemble's ten do): the baselines to their best validation epoch (``train_hard_to_val_optimum``), the students on
the ensemble's soft targets at the chosen T over the same transfer set (frames and mixed copies), the matched
controls on its hard labels with the students' budget. The ensemble stays one draw of ten members: averaging ten
members already shrinks its spread, and ten more members per seed would double the notebook's longest training.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import torch

from kdlab.lessons.speech_recipe import (
    FrameSet,
    SpeechData,
    SpeechProfile,
    ensemble_soft_targets,
    frame_accuracy,
    log_probs,
    train_hard,
    train_students,
)
from kdlab.lessons.speech_val_optimum import train_hard_to_val_optimum

MODELS = ("baseline", "distilled", "matched control")  # the models Table 1's claims compare, per initialization
COLUMNS = ["model", "member", "frame_acc_val", "frame_acc_seen", "frame_acc_unseen"]


def rows_of(name: str, model: torch.nn.Module, data: SpeechData, first_member: int = 0) -> list[dict]:
    """One row per member of ``model``: its frame accuracies (%) on validation and the two test splits."""
    lp = {s: log_probs(model, getattr(data, s).x) for s in ("val", "test_seen", "test_unseen")}
    return [
        {"model": name, "member": first_member + m,
         **{f"frame_acc_{k}": 100 * frame_accuracy(lp[s][m], getattr(data, s).y)
            for k, s in (("val", "val"), ("seen", "test_seen"), ("unseen", "test_unseen"))}}
        for m in range(lp["val"].shape[0])
    ]  # fmt: skip


def more_seeds(profile: SpeechProfile, data: SpeechData, ensemble: torch.nn.Module, transfer: FrameSet,
               temperature: float, *, seed: int, device, progress: bool) -> pd.DataFrame:  # fmt: skip
    """``profile.table1_seeds − 1`` more baselines, students at ``temperature`` and matched controls (members 1, 2,
    …; member 0 is ``run_table1``'s own): a row per model and member. No rows when the profile asks for one seed."""
    n = profile.table1_seeds - 1
    if n < 1:
        return pd.DataFrame(columns=COLUMNS)
    baselines, _ = train_hard_to_val_optimum(profile, data, n, replace(profile.baseline, desc="baseline, more seeds"),
                                             name="baseline", seed=seed + 3, device=device, progress=progress)  # fmt: skip
    teacher = ensemble_soft_targets(ensemble, transfer.x, (temperature,), profile.soft_targets)
    teacher = teacher[0] if teacher.dim() == 3 else teacher  # one temperature: shared by every member
    students, _ = train_students(profile, data, teacher, (temperature,) * n, profile.hard_weight,
                                 replace(profile.distilled, desc="distilled, more seeds"), seed=seed + 4,
                                 device=device, progress=progress, train=transfer)  # fmt: skip
    del teacher
    controls, _ = train_hard(profile, data, n, replace(profile.distilled, desc="matched control, more seeds"),
                             seed=seed + 5, device=device, progress=progress, train=transfer)  # fmt: skip
    rows = []
    for name, model in zip(MODELS, (baselines, students, controls)):
        rows += rows_of(name, model, data, first_member=1)
    return pd.DataFrame(rows, columns=COLUMNS)
