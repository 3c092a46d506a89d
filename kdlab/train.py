"""Device-resident training and evaluation: the whole dataset lives on the device as tensors.

Why no DataLoader: MNIST (188 MB as float32) and the speech frames fit on any device, so a minibatch is one
index into a resident tensor — no worker processes, no per-sample Python, no host→device copy per step. The
±2-pixel jitter of the paper's teacher is done on the device for the whole batch at once. ``benchmarks/
train_throughput.py`` measures what this buys against a ``Dataset``/``DataLoader`` loop.

One ``fit`` covers every target the paper uses: hard labels, a teacher's soft targets at temperature T (with an
optional hard term, eq. in ``kdlab.losses.distillation_loss``), Caruana's logit matching, or any custom loss; it
trains a single ``MLP`` or a ``BatchedMLP`` ensemble (every member gets the gradient it would get alone).
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from kdlab.losses import distillation_loss, logit_matching_loss
from kdlab.runs import PROGRESS_ENV

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
    loss: str = "distill"  # with teacher logits: "distill" (T² soft + hard) or "logit_matching"
    grad_clip: float | None = None  # max L2 norm of the gradient (per member of an ensemble); None = no clipping
    seed: int = 0
    progress: bool = True
    desc: str = "train"
    checkpoint_path: str | None = None  # save every epoch; resume from it if it exists
    eval_batch_size: int = 4096

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


def shift_images(x: torch.Tensor, offsets: torch.Tensor, max_shift: int, image_shape: tuple[int, ...]) -> torch.Tensor:
    """Shift image b by (offsets[0, b] − max_shift, offsets[1, b] − max_shift) pixels, zero-filled, in one gather.

    ``x`` is (batch, H·W) or (batch, H, W); ``offsets`` is (2, batch) in [0, 2·max_shift]. Split out of
    ``jitter_images`` so data-parallel ranks can apply their slice of one global draw (``kdlab.distributed``).
    """
    H, W = image_shape[-2], image_shape[-1]
    batch = x.shape[0]
    padded = F.pad(x.reshape(batch, H, W), (max_shift, max_shift, max_shift, max_shift))
    rows = offsets[0, :, None] + torch.arange(H, device=x.device)  # (batch, H)
    cols = offsets[1, :, None] + torch.arange(W, device=x.device)  # (batch, W)
    out = padded[torch.arange(batch, device=x.device)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(x.shape)


def jitter_images(
    x: torch.Tensor, max_shift: int, image_shape: tuple[int, ...], generator: torch.Generator | None = None
) -> torch.Tensor:
    """Shift each image by a random (dy, dx) in [-max_shift, max_shift]², zero-filled, on the device.

    The paper's MNIST teacher saw inputs "jittered by up to two pixels in any direction".
    """
    if max_shift == 0:
        return x
    offsets = torch.randint(0, 2 * max_shift + 1, (2, x.shape[0]), device=x.device, generator=generator)
    return shift_images(x, offsets, max_shift, image_shape)


def _lr_factor(schedule: str, warmup_frac: float, total: int) -> Callable[[int], float]:
    warm = max(1, int(round(warmup_frac * total))) if schedule == "onecycle" else 0

    def factor(step: int) -> float:
        if schedule == "constant":
            return 1.0
        if step < warm:
            return (step + 1) / warm
        progress = (step - warm) / max(1, total - warm)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress))) * 0.99 + 0.01

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
    if cfg.loss == "logit_matching":
        return logit_matching_loss(outputs, teacher) * M
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


# ----------------------------------------------------------------------------------------------- progress lines


def progress_lines_enabled() -> bool:
    """True when ``$KDLAB_PROGRESS`` is ``lines`` (``kdlab run`` sets it for the kernel): print lines, not a bar.

    A tqdm bar in a kernel is a widget (or thousands of carriage-return updates) that a terminal running the
    notebook through papermill never sees; a compact line on stderr is streamed to it by ``kdlab run`` and stays
    readable in the executed notebook.
    """
    return os.environ.get(PROGRESS_ENV, "").strip().lower() == "lines"


def format_duration(seconds: float) -> str:
    """``4.2 s``, ``42 s``, ``3 min 05 s``, ``2 h 07 min``: short enough for a progress line."""
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        minutes, secs = divmod(int(round(seconds)), 60)
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(int(round(seconds / 60)), 60)
    return f"{hours} h {minutes:02d} min"


class ProgressLines:
    """Compact, rate-limited progress lines on stderr, e.g.::

        [teacher] epoch 3/10 · step 120/469 · ETA 1 min 02 s
        [teacher] epoch 3/10 · loss 0.2134 · 4.2 s/epoch · ETA 29 s
        [teacher] epoch 10/10 · loss 0.0213 · done in 42 s

    The rate limit is shared by every ``ProgressLines`` of the process (a sweep of many short fits does not flood
    the terminal); step lines appear only inside epochs longer than ``every``, and such an epoch's end, like the
    last epoch of each fit (its ``done`` line), is always reported. ETA = time per step so far × steps
    left in this call (a resumed fit counts only the steps it runs).
    """

    every_s = 10.0
    last_emit = -math.inf  # perf_counter() of the last line printed by any instance

    def __init__(
        self, desc: str, epochs: int, steps_per_epoch: int, start_epoch: int = 0, every_s: float | None = None
    ):
        self.desc = desc
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.start_epoch = start_epoch
        self.every = self.every_s if every_s is None else every_s
        self.began = self.epoch_began = time.perf_counter()

    def _due(self, now: float) -> bool:
        return now - ProgressLines.last_emit >= self.every

    def _emit(self, text: str, now: float) -> None:
        ProgressLines.last_emit = now
        stream = sys.stderr
        stream.write(f"[{self.desc}] {text}\n")
        stream.flush()

    def _eta(self, epoch: int, steps_done_in_epoch: int, now: float) -> str:
        done = (epoch - self.start_epoch) * self.steps_per_epoch + steps_done_in_epoch
        left = (self.epochs - self.start_epoch) * self.steps_per_epoch - done
        return format_duration((now - self.began) / max(done, 1) * left)

    def step(self, epoch: int, step: int) -> None:
        """After step ``step`` (0-based) of epoch ``epoch`` (0-based): a line if none was printed for a while."""
        now = time.perf_counter()
        if not self._due(now) or now - self.epoch_began < self.every or step + 1 >= self.steps_per_epoch:
            return  # only inside an epoch longer than `every`; shorter ones get their epoch line
        self._emit(
            f"epoch {epoch + 1}/{self.epochs} · step {step + 1}/{self.steps_per_epoch} · "
            f"ETA {self._eta(epoch, step + 1, now)}",
            now,
        )

    def epoch_end(self, epoch: int, loss: float, val_errors: float | None = None) -> None:
        """After epoch ``epoch`` (0-based): its loss (and validation errors), then the ETA or, last, the total."""
        now = time.perf_counter()
        last = epoch + 1 >= self.epochs
        long_epoch = now - self.epoch_began >= self.every  # it had step lines; its loss is always worth a line
        self.epoch_began = now
        if not (last or long_epoch or self._due(now)):
            return
        parts = [f"epoch {epoch + 1}/{self.epochs}", f"loss {loss:.4g}"]
        if val_errors is not None:
            parts.append(f"val errors {val_errors:g}")
        elapsed = now - self.began
        if last:
            parts.append(f"done in {format_duration(elapsed)}")
        else:
            parts.append(f"{format_duration(elapsed / (epoch + 1 - self.start_epoch))}/epoch")
            parts.append(f"ETA {self._eta(epoch + 1, 0, now)}")
        self._emit(" · ".join(parts), now)


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
) -> History:
    """Train ``model`` in place on resident tensors; returns the per-epoch ``History``.

    Targets: ``y`` alone → cross-entropy on hard labels; ``teacher_logits`` (N, C), or (M, N, C) per ensemble
    member → ``config.loss`` at ``config.temperature`` with ``config.hard_weight`` on ``y``; ``loss_fn(outputs,
    y_batch, teacher_batch)`` overrides both. ``sample_batch(generator, step)`` may return the batch's indices
    (e.g. half special / half other classes for specialists). Data are moved to ``device`` once.
    """
    dev = resolve_device(device)
    check_targets(x, y, teacher_logits, config)
    n = x.shape[0]
    model.to(dev)
    x = x.to(dev, torch.float32)
    y = y.to(dev) if y is not None else None
    teacher = teacher_logits.to(dev, torch.float32) if teacher_logits is not None else None
    if x_val is not None:
        x_val, y_val = x_val.to(dev, torch.float32), y_val.to(dev)

    steps_per_epoch = max(1, math.ceil(n / config.batch_size))
    total_steps = config.epochs * steps_per_epoch
    optimizer = make_sgd(model, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_factor(config.schedule, config.warmup_frac, total_steps)
    )
    gen = torch.Generator(device=dev)
    gen.manual_seed(config.seed)
    history = History()
    start_epoch = 0
    ckpt = Path(config.checkpoint_path) if config.checkpoint_path else None
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location=dev, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"].cpu())  # generator states are CPU byte tensors, even for CUDA
        history = History(**state["history"])
        torch.set_rng_state(state["torch_rng"].cpu())  # dropout masks continue as if never interrupted
        if dev.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), dev)
        start_epoch = state["epoch"] + 1

    max_norm = getattr(model, "apply_max_norm", None)
    lines = (
        ProgressLines(config.desc, config.epochs, steps_per_epoch, start_epoch)
        if config.progress and progress_lines_enabled()
        else None
    )
    bar = tqdm(
        range(start_epoch, config.epochs),
        desc=config.desc,
        disable=not config.progress or lines is not None,
        leave=False,
    )
    began = time.perf_counter()
    for epoch in bar:
        model.train()
        perm = torch.randperm(n, device=dev, generator=gen) if sample_batch is None else None
        loss_sum = torch.zeros((), device=dev)
        for step in range(steps_per_epoch):
            if sample_batch is not None:
                idx = sample_batch(gen, epoch * steps_per_epoch + step)
            else:
                idx = perm[step * config.batch_size : (step + 1) * config.batch_size]
            xb = x[idx]
            if config.jitter:
                xb = jitter_images(xb, config.jitter, config.image_shape, gen)
            yb = y[idx] if y is not None else None
            tb = None
            if teacher is not None:
                tb = teacher[:, idx] if teacher.dim() == 3 else teacher[idx]
            out = model(xb)
            if loss_fn is not None:
                loss = loss_fn(out, yb, tb)
            elif tb is not None:
                loss = _soft_loss(out, yb, tb, config)
            else:
                loss = _hard_loss(out, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                clip_gradients(model, config.grad_clip)
            optimizer.step()
            scheduler.step()
            if max_norm is not None:
                max_norm()
            loss_sum += loss.detach()
            if lines is not None:
                lines.step(epoch, step)
        history.epoch.append(epoch + 1)
        history.train_loss.append(loss_sum.item() / steps_per_epoch)  # one sync per epoch
        check_finite_loss(history.train_loss[-1], epoch, config)
        history.lr.append(optimizer.param_groups[0]["lr"])
        history.seconds.append(round(time.perf_counter() - began, 3))
        if x_val is not None:
            errs = evaluate(model, x_val, y_val, batch_size=config.eval_batch_size).errors
            history.val_errors.append(errs if isinstance(errs, int) else float(np.mean(errs)))
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", val_errors=history.val_errors[-1])
        else:
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
        if on_epoch_end is not None:
            extra = on_epoch_end(epoch, model) or {}
            for key, value in extra.items():
                history.extra.setdefault(key, []).append(float(value))
            model.train()
        if ckpt is not None:
            _save_checkpoint(ckpt, model, optimizer, scheduler, gen, history, epoch)
        if lines is not None:
            lines.epoch_end(epoch, history.train_loss[-1], history.val_errors[-1] if x_val is not None else None)
    bar.close()
    model.eval()
    return history


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


@torch.no_grad()
def predict_logits(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Logits in eval mode, (N, C) for an ``MLP`` or (M, N, C) for a ``BatchedMLP``, on the model's device."""
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    chunks = [model(x[i : i + batch_size].to(dev, torch.float32)) for i in range(0, x.shape[0], batch_size)]
    model.train(was_training)
    return torch.cat(chunks, dim=-2)


@dataclass
class EvalResult:
    """Test errors as the paper counts them (out of N), plus per-class errors; lists for an ensemble."""

    errors: int | list[int]
    per_class_errors: torch.Tensor  # (C,) or (M, C)
    n: int

    @property
    def error_rate(self) -> float | list[float]:
        if isinstance(self.errors, list):
            return [e / self.n for e in self.errors]
        return self.errors / self.n

    @property
    def accuracy(self) -> float | list[float]:
        rate = self.error_rate
        return [1 - r for r in rate] if isinstance(rate, list) else 1 - rate


def errors_from_logits(logits: torch.Tensor, y: torch.Tensor, num_classes: int | None = None) -> EvalResult:
    """Error count and per-class errors (indexed by the true class) from logits or probabilities."""
    y = y.to(logits.device)
    num_classes = num_classes or logits.shape[-1]
    wrong = logits.argmax(-1) != y  # (N,) or (M, N)
    if wrong.dim() == 1:
        per_class = torch.bincount(y[wrong], minlength=num_classes).cpu()
        return EvalResult(int(wrong.sum()), per_class, y.shape[0])
    per_class = torch.stack([torch.bincount(y[w], minlength=num_classes) for w in wrong]).cpu()
    return EvalResult([int(w.sum()) for w in wrong], per_class, y.shape[0])


def evaluate(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int | None = None, batch_size: int = 4096
) -> EvalResult:
    """Test error *count* and per-class errors of ``model`` on (x, y)."""
    return errors_from_logits(predict_logits(model, x, batch_size), y, num_classes)


def config_dict(config: TrainConfig) -> dict[str, Any]:
    """A TrainConfig as a plain dict, for params.json."""
    return asdict(config)
