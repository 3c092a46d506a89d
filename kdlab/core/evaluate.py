"""Logits and test errors as the paper counts them (out of N), for a single net or a ``BatchedMLP`` ensemble."""

from __future__ import annotations

from dataclasses import dataclass

import torch


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
