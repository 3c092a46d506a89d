"""Device-resident training and evaluation: the whole dataset lives on the device as tensors.

Why no DataLoader: MNIST (188 MB as float32) and the speech frames fit on any device, so a minibatch is one
index into a resident tensor — no worker processes, no per-sample Python, no host→device copy per step. The
±2-pixel jitter of the paper's teacher is done on the device for the whole batch at once. ``benchmarks/
train_throughput.py`` measures what this buys against a ``Dataset``/``DataLoader`` loop.

One ``fit`` covers every target the paper uses: hard labels, a teacher's soft targets at temperature T (with an
optional hard term, eq. in ``kdlab.core.losses.distillation_loss``), Caruana's logit matching, or any custom loss; it
trains a single ``MLP`` or a ``BatchedMLP`` ensemble (every member gets the gradient it would get alone).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from kdlab.core.batches import LocalBatches, ShardedBatches, batch_piece, jitter_images, shift_images  # noqa: F401
from kdlab.core.evaluate import EvalResult, errors_from_logits, evaluate, predict_logits  # noqa: F401
from kdlab.core.losses import distillation_loss, logit_matching_loss
from kdlab.core.progress import ProgressLines, format_duration, progress_lines_enabled  # noqa: F401  (part of this API)

LossFn = Callable[[torch.Tensor, torch.Tensor | None, torch.Tensor | None], torch.Tensor]


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

    def __post_init__(self) -> None:
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


def _lr_factor(schedule: str, warmup_frac: float, total: int, floor: float = 0.01) -> Callable[[int], float]:
    warm = max(1, int(round(warmup_frac * total))) if schedule == "onecycle" else 0

    def factor(step: int) -> float:
        if schedule == "constant":
            return 1.0
        if step < warm:
            return (step + 1) / warm
        progress = (step - warm) / max(1, total - warm)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress))) * (1 - floor) + floor

    return factor


def _hard_loss(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    if outputs.dim() == 3:  # ensemble (M, B, C): sum of member losses, so each member trains as if alone
        M = outputs.shape[0]
        return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), labels.repeat(M)) * M
    return F.cross_entropy(outputs, labels)


def _soft_loss(outputs, labels, teacher, cfg: TrainConfig) -> torch.Tensor:
    M = 1
    if outputs.dim() == 3:
        M = outputs.shape[0]
        if teacher.dim() == 2:
            teacher = teacher.unsqueeze(0).expand(M, -1, -1)
        outputs = outputs.reshape(-1, outputs.shape[-1])
        teacher = teacher.reshape(-1, teacher.shape[-1])
        labels = labels.repeat(M) if labels is not None else None
    if cfg.loss == "logit_matching":  # the eq. 4 limit holds for zero-meaned logits (§2.1): match those
        centre = lambda z: z - z.mean(-1, keepdim=True)  # noqa: E731
        return logit_matching_loss(centre(outputs), centre(teacher)) * M
    return distillation_loss(outputs, labels, teacher, cfg.temperature, cfg.hard_weight) * M


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite: the run is stopped rather than reported as a model that guesses."""


def check_finite_loss(mean_loss: float, epoch: int, config: TrainConfig) -> None:
    """Raise ``TrainingDiverged`` (one line saying what to change) if an epoch's mean loss is not finite.

    Checked once per epoch, where ``fit`` already synchronizes: a NaN weight makes every prediction the same class
    (9,020 MNIST test errors), which a notebook would otherwise print as a result.
    """
    if not math.isfinite(mean_loss):
        raise TrainingDiverged(
            f"{config.desc}: training diverged in epoch {epoch + 1} (loss {mean_loss}); lower lr (now {config.lr}) "
            f"or set grad_clip (now {config.grad_clip})"
        )


@torch.no_grad()
def clip_gradients(model: torch.nn.Module, max_norm: float) -> None:
    """Scale gradients to L2 norm ≤ ``max_norm`` — per member for a ``BatchedMLP`` (parameters with a leading
    member axis), so clipping one member never changes another's step, as if each were trained alone."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    if not grads:
        return
    members = getattr(model, "num_models", None)
    if members is None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        return
    sq = torch.stack([g.reshape(members, -1).pow(2).sum(1) for g in grads]).sum(0)  # (M,)
    scale = (max_norm / (sq.sqrt() + 1e-6)).clamp_(max=1.0)
    for g in grads:
        g.mul_(scale.view(members, *([1] * (g.dim() - 1))))


def check_targets(
    x: torch.Tensor, y: torch.Tensor | None, teacher_logits: torch.Tensor | None, config: TrainConfig
) -> None:
    """ValueError unless the targets fit ``x``: labels and/or teacher logits ((N, C), or (M, N, C) per member) with
    N rows, and no jitter with precomputed teacher logits. Shared by ``fit`` and ``distributed.fit_ddp``."""
    if y is None and teacher_logits is None:
        raise ValueError("training needs labels y, teacher_logits, or both")
    n = x.shape[0]
    for name, t in (("y", y), ("teacher_logits", teacher_logits)):
        if t is not None and t.shape[-2 if (name == "teacher_logits" and t.dim() == 3) else 0] != n:
            raise ValueError(f"{name} has {t.shape[-2 if t.dim() == 3 else 0]} rows but x has {n}")
    if config.jitter and teacher_logits is not None:
        raise ValueError(
            "jitter with precomputed teacher logits would mismatch inputs and targets; "
            "distil on the un-jittered transfer set (jitter=0), as the paper does"
        )


def fit(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    config: TrainConfig = TrainConfig(),
    teacher_logits: torch.Tensor | None = None,
    x_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
    device: str | torch.device = "auto",
    loss_fn: LossFn | None = None,
    sample_batch: Callable[[torch.Generator, int], torch.Tensor] | None = None,
    on_epoch_end: Callable[[int, torch.nn.Module], dict[str, float] | None] | None = None,
    parallel: Any = None,
) -> History:
    """Train ``model`` in place; returns the per-epoch ``History``. The one training loop of kdlab.

    Targets: ``y`` alone → cross-entropy on hard labels; ``teacher_logits`` (N, C), or (M, N, C) per ensemble
    member → ``config.loss`` at ``config.temperature`` with ``config.hard_weight`` on ``y``; ``loss_fn(outputs,
    y_batch, teacher_batch)`` overrides both (it must return a mean over the batch). ``sample_batch(generator,
    step)`` may return the batch's indices instead of a permutation's slice — (M, B) gives each member of a
    ``BatchedMLP`` its own batch (the specialists). ``config.steps_per_epoch`` overrides ⌈N / batch_size⌉.

    ``parallel``: a joined torch.distributed group (``kdlab.dist.ddp.DistEnv``: ``world_size``, ``rank``,
    ``is_main``, ``device``) with more than one rank makes this rank train its piece of every global batch through
    DistributedDataParallel — the same steps as one process up to float reordering (``kdlab.core.batches``);
    validation, progress and checkpoint writing then happen on rank 0 only, and dropout masks are drawn per rank.
    """
    ddp = parallel is not None and getattr(parallel, "world_size", 1) > 1
    dev = parallel.device if ddp else resolve_device(device)
    main = not ddp or parallel.is_main
    check_targets(x, y, teacher_logits, config)
    n = x.shape[0]
    model.to(dev)
    where = dict(device=dev, batch_size=config.batch_size, jitter=config.jitter, image_shape=config.image_shape,
                 sample_batch=sample_batch)  # fmt: skip
    if ddp:
        batches = ShardedBatches(x, y, teacher_logits, world=parallel.world_size, rank=parallel.rank, **where)
    else:
        batches = LocalBatches(x, y, teacher_logits, **where)
    if x_val is not None and main:
        x_val, y_val = x_val.to(dev, torch.float32), y_val.to(dev)

    steps_per_epoch = config.steps_per_epoch or max(1, math.ceil(n / config.batch_size))
    total_steps = config.epochs * steps_per_epoch
    optimizer = make_sgd(model, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_factor(config.schedule, config.warmup_frac, total_steps, config.lr_floor)
    )
    gen = torch.Generator(device=dev)  # identical on every rank: the global permutation and jitter draws
    gen.manual_seed(config.seed)
    if ddp:
        torch.manual_seed(config.seed * 1_000_003 + parallel.rank)  # dropout masks: independent per rank
    history = History()
    start_epoch = 0
    ckpt = Path(config.checkpoint_path) if config.checkpoint_path else None
    state = _load_checkpoint(ckpt, dev, ddp) if ckpt is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"].cpu())  # generator states are CPU byte tensors, even for CUDA
        history = History(**state["history"])
        if not ddp:  # dropout masks continue as if never interrupted (ranks draw their own)
            torch.set_rng_state(state["torch_rng"].cpu())
            if dev.type == "cuda" and state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(state["cuda_rng"].cpu(), dev)
        start_epoch = state["epoch"] + 1
    net = model
    if ddp:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)

    max_norm = getattr(model, "apply_max_norm", None)
    show = config.progress and main
    lines = (
        ProgressLines(config.desc, config.epochs, steps_per_epoch, start_epoch)
        if show and progress_lines_enabled()
        else None
    )
    bar = tqdm(range(start_epoch, config.epochs), desc=config.desc, disable=not show or lines is not None, leave=False)
    began = time.perf_counter()
    for epoch in bar:
        net.train()
        loss_sum = torch.zeros((), device=dev)
        for step, (xb, yb, tb, scale) in enumerate(batches.epoch(epoch, steps_per_epoch, gen)):
            out = net(xb)
            if scale == 0:  # an empty piece (a tiny last batch on many ranks): zero gradient, but join the all-reduce
                loss = out.sum() * 0.0
            elif loss_fn is not None:
                loss = loss_fn(out, yb, tb)
            elif tb is not None:
                loss = _soft_loss(out, yb, tb, config)
            else:
                loss = _hard_loss(out, yb)
            if scale not in (0, 1):
                loss = loss * scale  # DDP's mean over ranks → the mean over the global batch
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:  # with DDP the gradients are all-reduced by now: every rank clips alike
                clip_gradients(model, config.grad_clip)
            optimizer.step()
            scheduler.step()
            if max_norm is not None:
                max_norm()
            loss_sum += loss.detach()
            if lines is not None:
                lines.step(epoch, step)
        if ddp:
            torch.distributed.all_reduce(loss_sum)  # one collective per epoch: Σ over ranks of the global-batch loss
            loss_sum /= parallel.world_size
        history.epoch.append(epoch + 1)
        history.train_loss.append(loss_sum.item() / steps_per_epoch)  # one sync per epoch
        check_finite_loss(history.train_loss[-1], epoch, config)
        history.lr.append(optimizer.param_groups[0]["lr"])
        history.seconds.append(round(time.perf_counter() - began, 3))
        if x_val is not None and main:
            errs = evaluate(model, x_val, y_val, batch_size=config.eval_batch_size).errors
            history.val_errors.append(errs if isinstance(errs, int) else float(np.mean(errs)))
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", val_errors=history.val_errors[-1])
        else:
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
        if on_epoch_end is not None:
            extra = on_epoch_end(epoch, model) or {}
            for key, value in extra.items():
                history.extra.setdefault(key, []).append(float(value))
            net.train()
        if ckpt is not None:
            if main:
                _save_checkpoint(ckpt, model, optimizer, scheduler, gen, history, epoch)
            if ddp:
                torch.distributed.barrier()
        if lines is not None:
            lines.epoch_end(epoch, history.train_loss[-1], history.val_errors[-1] if history.val_errors else None)
    bar.close()
    model.eval()
    return history


def _load_checkpoint(path: Path, dev: torch.device, ddp: bool) -> dict | None:
    """The checkpoint at ``path`` (None if there is none). Under DDP rank 0 reads it and sends it to every rank:
    other nodes need not see rank 0's file system."""
    if not ddp:
        return torch.load(path, map_location=dev, weights_only=False) if path.exists() else None
    main = torch.distributed.get_rank() == 0
    box = [torch.load(path, map_location="cpu", weights_only=False) if main and path.exists() else None]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def make_sgd(model: torch.nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """SGD with (Nesterov) momentum; the fused kernel where this torch has it (one pass over the weights
    instead of several: the optimizer step is memory-bound and was ~20 % of a teacher step on CPU)."""
    kwargs = dict(
        lr=config.lr,
        momentum=config.momentum,
        nesterov=config.nesterov and config.momentum > 0,
        weight_decay=config.weight_decay,
    )
    try:
        return torch.optim.SGD(model.parameters(), fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.SGD(model.parameters(), **kwargs)


def _save_checkpoint(path: Path, model, optimizer, scheduler, gen, history: History, epoch: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "generator": gen.get_state(),
            "history": asdict(history),
            "epoch": epoch,
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(gen.device) if gen.device.type == "cuda" else None,
        },
        tmp,
    )
    os.replace(tmp, path)  # a crash mid-save leaves the previous checkpoint intact


def config_dict(config: TrainConfig) -> dict[str, Any]:
    """A TrainConfig as a plain dict, for params.json."""
    return asdict(config)
