"""Device-resident training and evaluation: the whole dataset lives on the device as tensors.

Why no DataLoader: MNIST (188 MB as float32) and the speech frames fit on any device, so a minibatch is one
index into a resident tensor — no worker processes, no per-sample Python, no host→device copy per step. The
±2-pixel jitter of the paper's teacher is done on the device for the whole batch at once. ``benchmarks/
train_throughput.py`` measures what this buys against a ``Dataset``/``DataLoader`` loop.

One ``fit`` covers every target the paper uses: hard labels, a teacher's soft targets at temperature T (with an
optional hard term, eq. in ``kdlab.core.losses.distillation_loss``), Caruana's logit matching, or any custom loss; it
trains a single ``MLP`` or a ``BatchedMLP`` ensemble (every member gets the gradient it would get alone).

The pieces around the loop live beside it — ``config`` (TrainConfig, History, device, seed), ``optim`` (fused SGD,
schedule, clipping), ``checkpoint`` (save/resume), ``batches`` (device-resident minibatches, jitter) — and are
re-exported here, so ``from kdlab.core.train import TrainConfig, fit`` keeps working.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm  # text only: in a notebook fit prints lines instead (progress_lines_enabled)

from kdlab.core.batches import LocalBatches, ShardedBatches
from kdlab.core.checkpoint import load_checkpoint as _load_checkpoint
from kdlab.core.checkpoint import save_checkpoint as _save_checkpoint
from kdlab.core.config import History, TrainConfig, resolve_device
from kdlab.core.evaluate import evaluate
from kdlab.core.graphed import GraphedStep, lr_value, tensor_lr
from kdlab.core.losses import distillation_loss, logit_matching_loss
from kdlab.core.optim import clip_gradients, make_sgd
from kdlab.core.optim import lr_factor as _lr_factor
from kdlab.core.precision import Bf16Shadow, resolve_precision
from kdlab.core.progress import ProgressLines, progress_lines_enabled

LossFn = Callable[[torch.Tensor, torch.Tensor | None, torch.Tensor | None], torch.Tensor]


def _member_labels(labels: torch.Tensor, M: int) -> torch.Tensor:
    """Labels for (M, B, C) outputs flattened to (M·B, C): (B,) shared by the members, or (M, B) when each member
    has its own batch (``kdlab.core.seeds``)."""
    return labels.reshape(-1) if labels.dim() == 2 else labels.repeat(M)


def _hard_loss(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    if outputs.dim() == 3:  # ensemble (M, B, C): sum of member losses, so each member trains as if alone
        M = outputs.shape[0]
        return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), _member_labels(labels, M)) * M
    return F.cross_entropy(outputs, labels)


def _soft_loss(outputs, labels, teacher, cfg: TrainConfig) -> torch.Tensor:
    M = 1
    if outputs.dim() == 3:
        M = outputs.shape[0]
        if teacher.dim() == 2:
            teacher = teacher.unsqueeze(0).expand(M, -1, -1)
        outputs = outputs.reshape(-1, outputs.shape[-1])
        teacher = teacher.reshape(-1, teacher.shape[-1])
        labels = _member_labels(labels, M) if labels is not None else None
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

    ``parallel``: a joined torch.distributed group (``kdlab.distributed.ddp.DistEnv``: ``world_size``, ``rank``,
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
    # bf16 (kdlab.core.precision): the paper's MLPs multiply a bf16 shadow of their weights, refreshed after each
    # update; any other module runs its forward under torch.autocast. Masters, loss and momentum stay fp32.
    bf16 = resolve_precision(config.precision, dev) == "bf16"
    shadow = Bf16Shadow(model.weight_pairs()) if bf16 and hasattr(model, "weight_pairs") else None
    autocast = bf16 and shadow is None
    if hasattr(model, "weight_pairs"):
        model.bf16 = shadow
    show = config.progress and main
    lines = (
        ProgressLines(config.desc, config.epochs, steps_per_epoch, start_epoch)
        if show and progress_lines_enabled()
        else None
    )
    bar = tqdm(range(start_epoch, config.epochs), desc=config.desc, disable=not show or lines is not None, leave=False)

    def eager_step(xb, yb, tb, scale=1.0):
        """forward, loss, backward, clipping, SGD update, max-norm: the step a CUDA graph captures as a whole."""
        with torch.autocast(dev.type, torch.bfloat16, enabled=autocast):
            out = net(xb)
        out = out.float() if autocast else out
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
        if max_norm is not None:
            max_norm()
        if shadow is not None:
            shadow.refresh()
        return loss

    run_step = eager_step
    if config.cuda_graph and dev.type == "cuda" and not ddp:
        tensor_lr(optimizer)  # the schedule fills it; the captured update reads it
        run_step = GraphedStep(eager_step, dev)
    began = time.perf_counter()
    try:
        for epoch in bar:
            net.train()
            loss_sum = torch.zeros((), device=dev)
            for step, (xb, yb, tb, scale) in enumerate(batches.epoch(epoch, steps_per_epoch, gen)):
                loss = run_step(xb, yb, tb) if scale == 1 else eager_step(xb, yb, tb, scale)
                scheduler.step()
                loss_sum += loss.detach()
                if lines is not None:
                    lines.step(epoch, step)
            if ddp:
                torch.distributed.all_reduce(
                    loss_sum
                )  # one collective per epoch: Σ over ranks of the global-batch loss
                loss_sum /= parallel.world_size
            history.epoch.append(epoch + 1)
            history.train_loss.append(loss_sum.item() / steps_per_epoch)  # one sync per epoch
            check_finite_loss(history.train_loss[-1], epoch, config)
            history.lr.append(lr_value(optimizer))
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
    finally:  # the shadow is for training steps only; a trained model evaluates its fp32 masters
        if shadow is not None:
            model.bf16 = None
    bar.close()
    model.eval()
    return history
