"""What defines a training run: ``TrainConfig`` (checked on construction), the per-epoch ``History`` it produces,
and the two choices every run makes first — which device, which seed."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from kdlab.core.precision import check_precision


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available; use device='auto' or 'cpu'")
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; notebooks mirror these fields in their parameters cell."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.1  # peak learning rate of the schedule
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 0.0
    schedule: str = "onecycle"  # "onecycle" (linear warm-up then cosine decay) | "cosine" | "constant"
    warmup_frac: float = 0.15  # fraction of steps spent warming up in "onecycle"
    jitter: int = 0  # max shift in pixels (the paper's teacher: 2); needs image_shape
    image_shape: tuple[int, ...] = (28, 28)
    temperature: float = 1.0  # distillation temperature T when soft targets are given
    hard_weight: float = 0.0  # weight of the hard-label term when soft targets are given
    loss: str = "distill"  # with teacher logits: "distill" (T² soft + hard) or "logit_matching" (½Σ(z − v)² on
    # logits zero-meaned per case: the high-temperature limit of "distill", eq. 4, which needs zero-meaned logits)
    grad_clip: float | None = None  # max L2 norm of the gradient (per member of an ensemble); None = no clipping
    seed: int = 0
    progress: bool = True
    desc: str = "train"
    checkpoint_path: str | None = None  # save every epoch; resume from it if it exists
    eval_batch_size: int = 4096
    steps_per_epoch: int | None = None  # None: ⌈N / batch_size⌉ (one pass); set when batches are sampled (specialists)
    lr_floor: float = 0.01  # the cosine decays to lr_floor × lr
    cuda_graph: bool = True  # on CUDA in one process, replay the step as a CUDA graph (kdlab.core.graphed)
    precision: str = "auto"  # "auto" | "fp32" | "bf16": the matrix products' precision (kdlab.core.precision)

    def __post_init__(self) -> None:
        check_precision(self.precision)
        checks = [
            (self.epochs >= 1, f"epochs must be ≥ 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be ≥ 1, got {self.batch_size}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (
                self.schedule in ("onecycle", "cosine", "constant"),
                f"schedule must be 'onecycle', 'cosine' or 'constant', got {self.schedule!r}",
            ),
            (0 <= self.warmup_frac < 1, f"warmup_frac must be in [0, 1), got {self.warmup_frac}"),
            (self.jitter >= 0, f"jitter must be ≥ 0 pixels, got {self.jitter}"),
            (self.temperature > 0, f"temperature must be > 0, got {self.temperature}"),
            (self.hard_weight >= 0, f"hard_weight must be ≥ 0, got {self.hard_weight}"),
            (
                self.loss in ("distill", "logit_matching"),
                f"loss must be 'distill' or 'logit_matching', got {self.loss!r}",
            ),
            (self.grad_clip is None or self.grad_clip > 0, f"grad_clip must be > 0 or None, got {self.grad_clip}"),
            (self.steps_per_epoch is None or self.steps_per_epoch >= 1, "steps_per_epoch must be ≥ 1 or None"),
            (0 <= self.lr_floor <= 1, f"lr_floor must be in [0, 1], got {self.lr_floor}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclass
class History:
    """Per-epoch record of a ``fit``: loss, learning rate, elapsed time and (if validation data) error count."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_errors: list[float] = field(default_factory=list)
    train_errors: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    extra: dict[str, list[float]] = field(default_factory=dict)  # whatever on_epoch_end returned, per epoch

    def to_frame(self):
        import pandas as pd

        data = {k: v for k, v in asdict(self).items() if v and k != "extra"}
        data.update(self.extra)
        return pd.DataFrame(data)


def config_dict(config: TrainConfig) -> dict[str, Any]:
    """A TrainConfig as a plain dict, for params.json."""
    return asdict(config)
