"""The optimizer side of a step: fused SGD with (Nesterov) momentum, the learning-rate schedule, per-member gradient
clipping. Kept apart from the loop so a captured step (``kdlab.core.graphed``) and the eager loop share them."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from kdlab.core.config import TrainConfig


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


def lr_factor(schedule: str, warmup_frac: float, total: int, floor: float = 0.01) -> Callable[[int], float]:
    """The schedule as a factor of the peak lr at each step: linear warm-up then cosine decay to ``floor``
    ("onecycle"), cosine only ("cosine"), or 1 ("constant")."""
    warm = max(1, int(round(warmup_frac * total))) if schedule == "onecycle" else 0

    def factor(step: int) -> float:
        if schedule == "constant":
            return 1.0
        if step < warm:
            return (step + 1) / warm
        progress = (step - warm) / max(1, total - warm)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress))) * (1 - floor) + floor

    return factor


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
