"""One training step captured as a CUDA graph and replayed: the launch-free form of ``fit``'s eager step.

Why: the paper's nets are small (a 784-1200-1200-10 MLP at batch 128 is ~0.6 GFLOP a step), so on a GPU a step is
not bound by arithmetic but by launching its ~60 kernels from Python — about 2.7 ms a step on an H100, 1.2 % of the
chip's SGEMM rate (issue 18). A CUDA graph records the whole step once — forward, loss, backward, per-member
clipping, the fused SGD update, max-norm and the dropout masks, all drawn on the device — and replays it with one
launch. The batch itself (permutation, jitter) is still drawn eagerly with ``fit``'s generator and copied into the
graph's static input buffers, so the minibatch sequence is exactly the eager one.

The rules that keep the replayed step equal to the eager step (``tests/test_models_train.py`` checks equal weights
on CUDA):

* the first ``WARMUP`` steps of the captured shape run eagerly on a side stream (real training steps: they
  initialize cuBLAS, autograd and the optimizer's momentum buffers before capture, as CUDA graphs require);
* the learning rate is a device tensor that the schedule fills each step (``tensor_lr``), so the captured update
  reads the current lr instead of the one baked in at capture;
* dropout draws from torch's default CUDA generator, which hands a captured graph the same Philox offsets an eager
  step would use;
* a batch of another shape (the smaller last batch of an epoch) runs eagerly; graph and eager steps share the
  parameters and optimizer state, so they may alternate.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

Step = Callable[[torch.Tensor, torch.Tensor | None, torch.Tensor | None], torch.Tensor]


def tensor_lr(optimizer: torch.optim.Optimizer) -> None:
    """Make every param group's lr a 0-d tensor on the parameters' device (in place; idempotent). The schedule
    then writes it with ``fill_`` (``LRScheduler`` does so for tensor lrs), which a captured step reads."""
    for group in optimizer.param_groups:
        if not isinstance(group["lr"], torch.Tensor):
            group["lr"] = torch.tensor(float(group["lr"]), device=group["params"][0].device)


def lr_value(optimizer: torch.optim.Optimizer) -> float:
    """The first param group's lr as a float, whether it is a float or a tensor (one sync; once per epoch)."""
    lr = optimizer.param_groups[0]["lr"]
    return float(lr.item()) if isinstance(lr, torch.Tensor) else float(lr)


class GraphedStep:
    """Call it like the eager step it wraps: ``loss = step(xb, yb, tb)``; returns the step's (static) loss tensor,
    valid until the next call."""

    WARMUP = 3

    def __init__(self, step: Step, device: torch.device) -> None:
        if device.type != "cuda":
            raise ValueError(f"a CUDA graph needs a CUDA device, got {device}; train eagerly (cuda_graph=False)")
        self.step, self.device = step, device
        self.key: tuple | None = None  # shapes and dtypes of the captured batch
        self.warm = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static: tuple = ()
        self.loss: torch.Tensor | None = None
        self.failed = False
        self.side = torch.cuda.Stream(device)

    @staticmethod
    def _key(*batch) -> tuple:
        return tuple(None if t is None else (tuple(t.shape), t.dtype) for t in batch)

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor | None, tb: torch.Tensor | None) -> torch.Tensor:
        key = self._key(xb, yb, tb)
        if self.failed or (self.key is not None and key != self.key):
            return self.step(xb, yb, tb)  # another shape (a smaller last batch), or capture failed: eager
        self.key = key
        if self.graph is not None:
            for buffer, t in zip(self.static, (xb, yb, tb)):
                if buffer is not None:
                    buffer.copy_(t)
            self.graph.replay()
            return self.loss
        if self.warm < self.WARMUP:
            self.warm += 1
            current = torch.cuda.current_stream(self.device)
            self.side.wait_stream(current)
            with torch.cuda.stream(self.side):
                loss = self.step(xb, yb, tb)
            current.wait_stream(self.side)
            return loss
        return self._capture(xb, yb, tb)

    def _capture(self, xb, yb, tb) -> torch.Tensor:
        self.static = tuple(None if t is None else t.clone() for t in (xb, yb, tb))
        graph = torch.cuda.CUDAGraph()
        torch.cuda.synchronize(self.device)
        try:
            with torch.cuda.graph(graph):
                loss = self.step(*self.static)
        except RuntimeError as exc:  # an op that cannot be captured: keep training, eagerly
            self.failed = True
            warnings.warn(f"CUDA graph capture failed ({str(exc).splitlines()[0]}); training eagerly", stacklevel=2)
            torch.cuda.synchronize(self.device)
            return self.step(xb, yb, tb)
        self.graph, self.loss = graph, loss
        graph.replay()  # capture records without running: this replay is the step for this batch
        return loss
