"""§5.2 / §6.1: training the specialists — dustbin specialists, or full-softmax ones with soft targets.

§5.5: "all the specialists are trained completely independently" — here all M are one batched model trained by
``kdlab.core.train.fit``, each member on its own half/half batches. What a specialist is made of before training
(layout, copy of the generalist, pools, dustbin correction) is in ``layout``; how it is scored on its own classes
is in ``evaluation``; both are re-exported here, where they used to live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from kdlab.core.config import TrainConfig
from kdlab.core.evaluate import predict_logits
from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.train import fit
from kdlab.lessons.specialists.evaluation import _own_class_scores
from kdlab.lessons.specialists.layout import (
    NEG,
    _pools,
    _sample,
    class_maps,
    init_from_generalist,
    oversampling_shift,
)


@dataclass(frozen=True)
class SpecialistConfig:
    """How the specialists are trained; notebook 06 mirrors these in its parameters cell."""

    kind: str = "dustbin"  # "dustbin" (§5.2: |S^m| classes + dustbin) | "soft" (§6.1: full softmax, soft targets)
    steps: int = 300
    batch_size: int = 128  # per specialist; half from its special subset, half from the rest
    special_fraction: float = 0.5
    lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 0.0
    temperature: float = 2.0  # soft targets of the generalist ("soft" kind)
    soft_weight: float = 1.0  # weight of the T²-scaled soft term on non-special examples ("soft" kind)
    eval_every: int = 50
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("dustbin", "soft"):
            raise ValueError(f"kind must be 'dustbin' or 'soft', got {self.kind!r}")
        if not 0 < self.special_fraction < 1:
            raise ValueError(f"special_fraction must be in (0, 1), got {self.special_fraction}")
        if self.steps < 1 or self.batch_size < 2 or self.eval_every < 1:
            raise ValueError("steps, eval_every must be ≥ 1 and batch_size ≥ 2")
        if self.steps % self.eval_every:
            raise ValueError(f"steps ({self.steps}) must be a multiple of eval_every ({self.eval_every})")


@dataclass
class Specialists:
    """M trained specialists as one batched model, plus what is needed to read their outputs."""

    model: BatchedMLP
    classes: list[np.ndarray]  # S^m per specialist
    kind: str
    logit_shift: torch.Tensor  # (M, width) added to the raw logits: the dustbin / prior correction, −1e9 on padding
    data_fraction: np.ndarray  # (M,) fraction of the training set that is in S^m
    curves: list[dict]  # per evaluation: step, specialist, train/test conditional accuracy and NLL

    @property
    def num_models(self) -> int:
        return len(self.classes)

    @torch.no_grad()
    def logits(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Corrected logits (M, N, width): |S^m| classes then padding then dustbin ("dustbin"), or all C ("soft")."""
        return predict_logits(self.model, x, batch_size) + self.logit_shift[:, None, :]

    @torch.no_grad()
    def probs(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """p^m for eq. 5: (M, N, width) distributions, padding exactly 0."""
        return torch.softmax(self.logits(x, batch_size), dim=-1)


def train_specialists(
    generalist: MLP,
    classes: Sequence[np.ndarray],
    x: torch.Tensor,
    y: torch.Tensor,
    config: SpecialistConfig = SpecialistConfig(),
    x_eval: torch.Tensor | None = None,
    y_eval: torch.Tensor | None = None,
    x_train_eval: torch.Tensor | None = None,
    y_train_eval: torch.Tensor | None = None,
    x_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
) -> Specialists:
    """Train M specialists for the special subsets ``classes`` as one batched model on the generalist's device.

    Each step draws, for every specialist separately, ``special_fraction`` of its batch from examples of S^m and the
    rest from all other examples, then takes one SGD step on the sum of the members' mean losses (so each member
    gets exactly the gradient it would get alone). ``kind="dustbin"``: cross-entropy over S^m + dustbin; after
    training the dustbin logit is raised by ``oversampling_shift``. ``kind="soft"`` (§6.1): full softmax; hard
    targets on special examples, T²-scaled soft cross-entropy to the generalist's softmax(v/T) on the others; after
    training the special classes' logits are lowered by the same shift. Every ``eval_every`` steps the conditional
    accuracy/NLL on (x_train_eval, y_train_eval), (x_eval, y_eval) and held-out training cases (x_val, y_val) are
    recorded in ``curves`` (splits "train", "test", "val"; a split whose data is not given is left out).
    """
    cfg = config
    dev = generalist.layers[0].weight.device
    C = generalist.widths[-1]
    classes = [np.sort(np.asarray(c, dtype=int)) for c in classes]
    if any(len(c) < 1 or len(c) >= C for c in classes):
        raise ValueError("every special subset needs between 1 and C − 1 classes")
    M = len(classes)
    x = x.to(dev, torch.float32).flatten(1)
    y = y.to(dev)
    target, special = class_maps(classes, C, cfg.kind)
    target, special = target.to(dev), special.to(dev)
    sp, sp_len, ot, ot_len = (t.to(dev) for t in _pools(y, special))
    data_fraction = (sp_len.float() / len(y)).cpu().numpy()
    if (sp_len == 0).any():
        raise ValueError(f"specialists {torch.nonzero(sp_len == 0).flatten().tolist()} have no training examples")
    teacher = None
    if cfg.kind == "soft":
        teacher = predict_logits(generalist, x)  # (N, C) the generalist's logits, for its soft targets
    model = init_from_generalist(generalist, classes, cfg.kind).to(dev)
    width = model.widths[-1]
    pad_mask = torch.zeros(M, 1, width, device=dev)
    if cfg.kind == "dustbin":
        for m, cl in enumerate(classes):
            pad_mask[m, 0, len(cl) : width - 1] = NEG
    n_special = int(round(cfg.batch_size * cfg.special_fraction))
    arange_m = torch.arange(M, device=dev)[:, None]
    shift = torch.tensor([oversampling_shift(f, cfg.special_fraction) for f in data_fraction], device=dev)
    curves: list[dict] = []

    evals = [
        (split, xe.to(dev, torch.float32).flatten(1), ye.to(dev))
        for split, (xe, ye) in (
            ("train", (x_train_eval, y_train_eval)),
            ("test", (x_eval, y_eval)),
            ("val", (x_val, y_val)),
        )
        if xe is not None
    ]

    def record(step: int, model_shift: torch.Tensor) -> None:
        for split, xe, ye in evals:
            scores = _own_class_scores(model, model_shift, xe, ye, special, classes, cfg.kind)
            for m in range(M):
                curves.append(
                    {
                        "step": step,
                        "specialist": m,
                        "split": split,
                        "cond_acc": float(scores["cond_acc"][m]),
                        "cond_nll": float(scores["cond_nll"][m]),
                    }
                )

    def corrected_shift() -> torch.Tensor:
        out = pad_mask[:, 0, :].clone()
        if cfg.kind == "dustbin":
            out[:, -1] += shift
        else:
            out -= special.float() * shift[:, None]
        return out

    def sample_batch(gen: torch.Generator, step: int) -> torch.Tensor:
        """(M, B): each specialist's own batch, ``special_fraction`` of it from its special subset."""
        return torch.cat([_sample(sp, sp_len, n_special, gen), _sample(ot, ot_len, cfg.batch_size - n_special, gen)], 1)

    def loss_fn(out: torch.Tensor, yb: torch.Tensor, tb: torch.Tensor | None) -> torch.Tensor:
        """Σ over members of each member's mean loss on its own batch: each gets the gradient it would get alone."""
        out = out + pad_mask  # (M, B, width)
        if cfg.kind == "dustbin":
            return F.cross_entropy(out.flatten(0, 1), target[arange_m, yb].flatten(), reduction="sum") / out.shape[1]
        is_sp = special[arange_m, yb]  # (M, B)
        hard = F.cross_entropy(out.flatten(0, 1), yb.flatten(), reduction="none").view_as(yb)
        T = cfg.temperature
        soft = -(torch.softmax(tb / T, -1) * torch.log_softmax(out / T, -1)).sum(-1) * T**2
        return (torch.where(is_sp, hard, cfg.soft_weight * soft)).sum() / out.shape[1]

    record(0, corrected_shift())
    schedule = TrainConfig(
        epochs=cfg.steps // cfg.eval_every,  # an "epoch" is eval_every steps: the curves are recorded after each
        steps_per_epoch=cfg.eval_every,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
        schedule="cosine",
        lr_floor=0.0,
        seed=cfg.seed,
        progress=cfg.progress,
        desc=f"{M} {cfg.kind} specialists",
    )
    fit(model, x, y, config=schedule, teacher_logits=teacher, device=dev, loss_fn=loss_fn, sample_batch=sample_batch,
        on_epoch_end=lambda epoch, _: record((epoch + 1) * cfg.eval_every, corrected_shift()))  # fmt: skip
    model.eval()
    return Specialists(model, classes, cfg.kind, corrected_shift().detach(), data_fraction, curves)
