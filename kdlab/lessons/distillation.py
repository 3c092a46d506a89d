"""§3 of the paper on real MNIST: the teacher, the baseline and the distilled net (notebook 03; 04 reuses them).

* teacher — 784-1200-1200-10 ReLU, dropout (hidden units; inputs too in ``quick``), max-norm on every unit's incoming
  weights, inputs "jittered by up to two pixels in any direction" (the paper cites [5], Hinton et al. 2012);
* baseline — 784-800-800-10, hard labels, no regularization (paper: 146 test errors);
* distilled — the same small net trained on the teacher's soft targets at T = 20 over the *un-jittered* training
  set, plus a small-weight hard term (``hard_weight``; paper: 74 errors, and "a considerably lower weight on the
  second objective function" worked best, §2);
* sweep — distilled nets of 800, 300 and 30 units per layer over the temperatures: ``kdlab.lessons.distillation_sweep``,
  whose names this module re-exports (``run_sweep``, ``summarize_sweep``, ``sweep_claims``).

``PROFILES`` holds the sizes: ``quick`` (a subset and a few epochs, CI), ``full`` (< 1 h per notebook on a
2-core CPU), ``paper`` (the paper's architectures with long schedules, for a GPU). One frozen dataclass per
profile; the notebooks' parameters cell only names the profile. The last three functions turn the notebook's
results into the tables and arrays its run saves (the dashboard's contract, notebooks/README.md).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch

from kdlab.core.config import TrainConfig, seed_everything
from kdlab.core.evaluate import predict_logits
from kdlab.core.models import MLP
from kdlab.core.train import fit

PAPER_TEMPERATURES = (1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 8.0, 10.0, 20.0)  # the sweep this lab runs (§3 names no grid)
TEACHER_NOTEBOOK = "03_mnist_distillation"


@dataclass(frozen=True)
class MnistProfile:
    """Sizes and schedules of the §3 experiments for one profile (quick / full / paper)."""

    name: str
    train_size: int | None  # the teacher's training cases (a seeded random subset); None = all 60,000
    teacher: TrainConfig
    baseline: TrainConfig
    distilled: TrainConfig  # temperature and hard_weight of the headline distilled net
    sweep: TrainConfig  # schedule of every sweep student (temperature set per member)
    transfer: TrainConfig  # notebook 04's students on the missing-class transfer sets
    teacher_hidden: tuple[int, ...] = (1200, 1200)
    teacher_dropout_input: float = 0.2
    teacher_dropout_hidden: float = 0.5
    teacher_max_norm: float = 3.5
    student_hidden: tuple[int, ...] = (800, 800)
    sweep_widths: tuple[int, ...] = (800, 300, 30)
    sweep_temperatures: tuple[float, ...] = PAPER_TEMPERATURES
    sweep_seeds: tuple[int, ...] = (0,)
    headline_seeds: tuple[int, ...] = (0,)  # offsets to SEED of the baseline, matched baseline and distilled net
    validation_size: int = 5000  # notebook 04: training cases held out of the transfer set to choose the bias shift
    # The students' transfer set: a seeded subset of the teacher's training cases (None = all of them). §3's point
    # is that soft targets transfer from few cases, so ``quick`` distils through 5,000 cases only.
    transfer_size: int | None = None
    # §2 as experiments (``kdlab.lessons.distillation_controls``), each over ``claim_seeds`` (offsets to SEED,
    # trained as members of one BatchedMLP): the hard-target weights beside T²·soft at T = 20 (1 = equal weight),
    # and a transfer set of 1 % of the training cases trained on soft or hard targets at each of ``small_lrs``.
    hard_weights: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0)
    claim_seeds: tuple[int, ...] = (0,)
    small_transfer_size: int = 600
    small_lrs: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3)
    small_epochs: int = 40

    def teacher_spec(self) -> dict[str, Any]:
        """What makes two teachers interchangeable (notebook 04 reuses a teacher only if this matches)."""
        return {
            "profile": self.name,
            "train_size": self.train_size,
            "hidden": list(self.teacher_hidden),
            "dropout_input": self.teacher_dropout_input,
            "dropout_hidden": self.teacher_dropout_hidden,
            "max_norm": self.teacher_max_norm,
            "epochs": self.teacher.epochs,
            "lr": self.teacher.lr,
            "jitter": self.teacher.jitter,
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cfg(epochs: int, lr: float, **kw: Any) -> TrainConfig:
    return TrainConfig(epochs=epochs, lr=lr, batch_size=kw.pop("batch_size", 128), **kw)


HARD_WEIGHT = 0.1  # weight of the hard term next to T²·soft: "considerably lower" than the soft one (§2)
# Students learn at half the teacher's rate, with each gradient clipped to norm 5. At T = 20 the soft term is
# nearly logit matching (eq. 4): a regression onto the teacher's logits, whose scale grows with the teacher's
# confidence. With lr 0.1 and the paper profile's teacher (train logits up to 65), the 150-epoch distilled net
# blew up to NaN at the end of its warm-up (epoch 22), on the GPU and again on the CPU; lr 0.05 kept its weights
# bounded (max |w| ≈ 1 through epoch 22, against 5 just before the blow-up at lr 0.1).
STUDENT_LR = 0.05
STUDENT_CLIP = 5.0


def _student(epochs: int, desc: str, **kw: Any) -> TrainConfig:
    return _cfg(epochs, STUDENT_LR, hard_weight=HARD_WEIGHT, grad_clip=STUDENT_CLIP, desc=desc, **kw)


PROFILES: dict[str, MnistProfile] = {
    # A student's first run (about 2 min on a 2-core CPU) that shows §3's effect: the full profile's teacher
    # recipe for 6 epochs on all 60k cases (≈ 130 errors), then students on a 5,000-case transfer set, where hard
    # labels alone overfit (≈ 600 errors) and the teacher's soft targets recover most of the gap (≈ 250).
    "quick": MnistProfile(
        name="quick",
        train_size=None,
        transfer_size=5000,
        teacher=_cfg(6, 0.1, jitter=2, desc="teacher"),
        baseline=_cfg(20, 0.05, desc="baseline"),
        distilled=_student(20, "distilled", temperature=20.0),
        sweep=_student(8, "sweep"),
        transfer=_student(20, "transfer", temperature=20.0),
        teacher_dropout_input=0.0,
        teacher_dropout_hidden=0.3,
        sweep_temperatures=(1.0, 2.5, 4.0, 8.0, 20.0),
        validation_size=5000,
    ),
    # 2-core CPU, meant < 1 h per notebook: the teacher on all 60k cases, the students on 55k (5k held out for
    # validation: ``transfer_and_validation``), one-cycle SGD+Nesterov. The teacher's regularizers were
    # chosen on a validation split (benchmarks/teacher_recipes.py, 50k/10k of the training set, 200 epochs):
    # no input dropout and 30 % hidden dropout gave 64 validation errors, the [5]-style 20 %/50 % gave 82.
    "full": MnistProfile(
        name="full",
        train_size=None,
        teacher=_cfg(200, 0.1, jitter=2, desc="teacher"),
        baseline=_cfg(30, 0.05, desc="baseline"),
        distilled=_student(60, "distilled", temperature=20.0),
        sweep=_student(10, "sweep"),
        transfer=_student(30, "transfer", temperature=20.0),
        teacher_dropout_input=0.0,
        teacher_dropout_hidden=0.3,
        sweep_seeds=(0, 1, 2),
        headline_seeds=(0, 1, 2),
        claim_seeds=(0, 1, 2),
        small_epochs=100,
    ),
    # GPU: the paper's architectures with long schedules. The teacher drops no inputs (jitter already perturbs
    # them): chosen on the validation split (120 epochs: 74 validation errors against 96 with 20 % input dropout).
    "paper": MnistProfile(
        name="paper",
        train_size=None,
        teacher=_cfg(400, 0.1, jitter=2, desc="teacher"),
        baseline=_cfg(60, 0.05, desc="baseline"),
        distilled=_student(150, "distilled", temperature=20.0),
        sweep=_student(40, "sweep"),
        transfer=_student(100, "transfer", temperature=20.0),
        teacher_dropout_input=0.0,
        sweep_seeds=(0, 1, 2),
        headline_seeds=(0, 1, 2),
        claim_seeds=(0, 1, 2),
        small_epochs=200,
    ),
}


def get_profile(name: str) -> MnistProfile:
    """The profile called ``name``; ValueError listing the valid names otherwise."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}")
    return PROFILES[name]


def training_subset(n_total: int, size: int | None, seed: int = 0) -> torch.Tensor:
    """Sorted indices of a seeded random subset of ``size`` training cases (all of them if ``size`` is None)."""
    if size is None or size >= n_total:
        return torch.arange(n_total)
    gen = torch.Generator().manual_seed(seed)
    return torch.randperm(n_total, generator=gen)[:size].sort().values


def transfer_and_validation(
    teacher_cases: torch.Tensor, profile: MnistProfile, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(transfer cases, validation cases), both indices into the training set and disjoint.

    The transfer set is notebook 03's (``transfer_size`` of the teacher's cases). The validation cases, which
    choose notebook 04's bias shift, are ``validation_size`` cases no student trains on: taken from the teacher's
    cases outside the transfer set when it is a subset, else split off it. The teacher saw them; no student does.
    """
    transfer = teacher_cases[training_subset(len(teacher_cases), profile.transfer_size, seed=seed)]
    rest = teacher_cases[~torch.isin(teacher_cases, transfer)]
    gen = torch.Generator().manual_seed(seed)
    if len(rest) >= profile.validation_size:
        return transfer, rest[torch.randperm(len(rest), generator=gen)[: profile.validation_size]].sort().values
    if not 0 < profile.validation_size < len(transfer):
        raise ValueError(f"validation_size must be in (0, {len(transfer)}), got {profile.validation_size}")
    perm = torch.randperm(len(transfer), generator=gen)
    val, keep = perm[: profile.validation_size], perm[profile.validation_size :]
    return transfer[keep.sort().values], transfer[val.sort().values]


def make_teacher(profile: MnistProfile) -> MLP:
    """784-1200-1200-10 with dropout and max-norm (untrained)."""
    return MLP(
        784,
        profile.teacher_hidden,
        10,
        profile.teacher_dropout_input,
        profile.teacher_dropout_hidden,
        profile.teacher_max_norm,
    )


def make_student(hidden: tuple[int, ...] | int = (800, 800)) -> MLP:
    """An unregularized small net: 784-h-h-10 (an int means two hidden layers of that width)."""
    hidden = (hidden, hidden) if isinstance(hidden, int) else tuple(hidden)
    return MLP(784, hidden, 10)


def _trained(make, x, y, config: TrainConfig, *, seed: int, device, progress: bool, teacher_logits=None):
    """Seed, build, fit — (model, wall seconds). Seeding before ``make()`` fixes the initial weights as well as the
    batches and dropout masks, so a recipe with the same seed is the same run."""
    seed_everything(seed)
    model = make()
    began = time.perf_counter()
    config = replace(config, seed=seed, progress=progress)
    fit(model, x, y, config=config, teacher_logits=teacher_logits, device=device)
    return model, time.perf_counter() - began


def train_teacher(
    profile: MnistProfile,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> tuple[MLP, float]:
    """Train the jittered, dropout, max-norm teacher on (x, y); returns (model in eval mode, wall seconds)."""
    return _trained(partial(make_teacher, profile), x, y, profile.teacher, seed=seed, device=device, progress=progress)


def train_baseline(
    profile: MnistProfile,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> tuple[MLP, float]:
    """Train the small net on hard labels only, no regularization; returns (model, wall seconds)."""
    return _trained(
        partial(make_student, profile.student_hidden),
        x,
        y,
        profile.baseline,
        seed=seed,
        device=device,
        progress=progress,
    )


def train_distilled(
    profile: MnistProfile,
    x: torch.Tensor,
    y: torch.Tensor | None,
    teacher_logits: torch.Tensor,
    *,
    config: TrainConfig | None = None,
    hidden: tuple[int, ...] | None = None,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> tuple[MLP, float]:
    """Train a small net on T²·soft + hard_weight·hard (``kdlab.core.losses.distillation_loss``) over the un-jittered
    transfer set x with the teacher's logits; ``config`` defaults to ``profile.distilled``."""
    config = config or profile.distilled
    if config.jitter:
        raise ValueError("the transfer set is un-jittered (§3); use a config with jitter=0")
    make = partial(make_student, hidden or profile.student_hidden)
    y = y if config.hard_weight > 0 else None
    return _trained(make, x, y, config, seed=seed, device=device, progress=progress, teacher_logits=teacher_logits)


def teacher_logits_on(teacher: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The teacher's logits (eval mode: no dropout, no jitter) on the transfer set, on the CPU as float32."""
    return predict_logits(teacher, x).float().cpu()


SOFT_TARGET_TEMPERATURES = (1, 2, 2.5, 3, 4, 5, 8, 10, 20)  # the dashboard's soft-target page offers these


def results_table(errors: dict[str, int], seconds: dict[str, float], paper: dict[str, int]) -> pd.DataFrame:
    """One row per model (teacher, baseline, distilled): its test errors beside the paper's, and its training time."""
    return pd.DataFrame(
        [
            {"model": name, "test_errors": int(n), "paper_errors": paper[name], "wall_time_s": round(seconds[name], 1)}
            for name, n in errors.items()
        ]
    )


def per_class_table(per_class_errors: dict[str, Any]) -> pd.DataFrame:
    """Long table ``model, class, errors`` from each model's per-class error counts (10 per model)."""
    rows = [{"model": m, "class": c, "errors": int(e[c])} for m, e in per_class_errors.items() for c in range(len(e))]
    return pd.DataFrame(rows)


def soft_target_pages(images, labels, teacher_logits, student_logits, n: int = 100) -> dict[str, Any]:
    """The first ``n`` test digits with both nets' logits: the arrays the dashboard's soft-target page reads."""
    shown = torch.arange(n)
    return {
        "images": images[shown].numpy().astype(np.uint8),
        "labels": labels[shown],
        "indices": shown,
        "teacher_logits": teacher_logits[shown],
        "temperatures": np.array(SOFT_TARGET_TEMPERATURES, dtype=np.float32),
        "student_logits": student_logits[shown],
    }
