"""Where ``fit``'s minibatches come from: the whole dataset on the device (one process), or this rank's piece of
every global batch (data-parallel ranks). The training step itself is the same either way (``kdlab.core.train``).

Why device-resident: MNIST (188 MB as float32) and the speech frames fit on any device, so a minibatch is one index
into a resident tensor — no DataLoader workers, no per-sample Python, no host→device copy per step. The ±2-pixel
jitter of the paper's teacher is drawn and applied on the device for the whole batch at once.

Why data-parallel ranks reproduce one process, step for step (up to float reordering): every rank seeds the same
``torch.Generator``, so each draws the *same global* permutation and jitter offsets that one process draws; global
batch b (``batch_size`` rows, the last one shorter) is cut into ``world`` contiguous pieces (``batch_piece``, as
``tensor_split`` cuts it); rank r's mean loss on its piece is scaled by ``len(piece) · world / len(b)``, and DDP's
average of the gradients over ranks is then ∇(mean loss on b) — exactly the one-process step. Each rank keeps the
dataset where the caller put it (host memory) and, once per epoch, gathers only its pieces' rows onto its device.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, float]  # x, y, teacher, loss scale


def shift_images(x: torch.Tensor, offsets: torch.Tensor, max_shift: int, image_shape: tuple[int, ...]) -> torch.Tensor:
    """Shift image b by (offsets[0, b] − max_shift, offsets[1, b] − max_shift) pixels, zero-filled, in one gather.

    ``x`` is (batch, H·W) or (batch, H, W); ``offsets`` is (2, batch) in [0, 2·max_shift]. Split out of
    ``jitter_images`` so data-parallel ranks can apply their slice of one global draw (``kdlab.distributed.ddp``).
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


def _teacher_rows(teacher: torch.Tensor | None, idx: torch.Tensor) -> torch.Tensor | None:
    """Rows ``idx`` of teacher logits: (N, C) → (…, C), or along dim 1 for per-member (M, N, C) logits — member m's
    rows ``idx[m]`` when ``idx`` is (M, B), one batch per member (``kdlab.core.seeds``)."""
    if teacher is None:
        return None
    if teacher.dim() == 3 and idx.dim() == 2:
        return teacher[torch.arange(teacher.shape[0], device=idx.device)[:, None], idx]  # (M, B, C)
    return teacher[:, idx] if teacher.dim() == 3 else teacher[idx]


class LocalBatches:
    """One process: x, y and the teacher's logits moved to the device once; each epoch a fresh permutation of the
    rows (or ``sample_batch(generator, step)``'s indices — an (M, B) index gives every ensemble member its own
    batch, as the specialists need), jittered on the device when ``jitter`` > 0."""

    def __init__(self, x, y, teacher, *, device, batch_size: int, jitter: int, image_shape, sample_batch=None):
        self.x = x.to(device, torch.float32)
        self.y = y.to(device) if y is not None else None
        self.teacher = teacher.to(device, torch.float32) if teacher is not None else None
        self.n, self.device, self.batch_size = x.shape[0], device, batch_size
        self.jitter, self.image_shape, self.sample_batch = jitter, image_shape, sample_batch

    def epoch(self, epoch: int, steps: int, gen: torch.Generator) -> Iterator[Batch]:
        perm = torch.randperm(self.n, device=self.device, generator=gen) if self.sample_batch is None else None
        for step in range(steps):
            if self.sample_batch is not None:
                idx = self.sample_batch(gen, epoch * steps + step)
            else:
                idx = perm[step * self.batch_size : (step + 1) * self.batch_size]
            xb = self.x[idx]
            if self.jitter:
                xb = jitter_images(xb, self.jitter, self.image_shape, gen)
            yb = self.y[idx] if self.y is not None else None
            yield xb, yb, _teacher_rows(self.teacher, idx), 1.0


def batch_piece(global_size: int, world: int, rank: int) -> tuple[int, int]:
    """(start, stop) of rank's piece of a global batch of ``global_size`` rows, as ``tensor_split`` cuts it."""
    q, r = divmod(global_size, world)
    start = rank * q + min(rank, r)
    return start, start + q + (rank < r)


def _rows(t, idx, dev, member_axis: bool = False, dtype=None):
    """Rows ``idx`` of ``t`` (along dim 1 for (M, N, C) teacher logits) gathered where ``t`` lives, then moved."""
    if t is None:
        return None
    idx = idx.to(t.device)
    out = t[:, idx] if member_axis else t[idx]
    return out.to(dev, dtype) if dtype is not None else out.to(dev)


class ShardedBatches:
    """A data-parallel rank: its piece of each global batch of the same permutation one process would draw, with
    the loss scale that makes DDP's gradient average equal the one-process step (see the module docstring)."""

    def __init__(self, x, y, teacher, *, device, batch_size: int, jitter: int, image_shape, world: int, rank: int,
                 sample_batch=None):  # fmt: skip
        self.x, self.y, self.teacher = x, y, teacher
        self.member_axis = teacher is not None and teacher.dim() == 3
        self.n, self.device, self.batch_size = x.shape[0], device, batch_size
        self.jitter, self.image_shape, self.sample_batch = jitter, image_shape, sample_batch
        self.world, self.rank = world, rank

    def _piece(self, idx, global_size: int, lo: int, gen) -> Batch:
        dev = self.device
        xb, yb = _rows(self.x, idx, dev, dtype=torch.float32), _rows(self.y, idx, dev)
        tb = _rows(self.teacher, idx, dev, self.member_axis, torch.float32)
        return self._jittered(xb, global_size, lo, gen), yb, tb, xb.shape[0] * self.world / global_size

    def _jittered(self, xb, global_size: int, lo: int, gen):
        if not self.jitter:
            return xb
        # the whole global batch's offsets are drawn (as one process does); this rank applies its columns
        offsets = torch.randint(0, 2 * self.jitter + 1, (2, global_size), device=self.device, generator=gen)
        return shift_images(xb, offsets[:, lo : lo + xb.shape[0]], self.jitter, self.image_shape)

    def epoch(self, epoch: int, steps: int, gen: torch.Generator) -> Iterator[Batch]:
        B, dev = self.batch_size, self.device
        if self.sample_batch is not None:
            for step in range(steps):
                glob = self.sample_batch(gen, epoch * steps + step)
                lo, hi = batch_piece(glob.shape[0], self.world, self.rank)
                yield self._piece(glob[lo:hi], glob.shape[0], lo, gen)
            return
        perm = torch.randperm(self.n, device=dev, generator=gen)
        pieces = []  # this epoch's shard: the rows of this rank's piece of every global batch, gathered once
        for step in range(steps):
            glob = perm[step * B : (step + 1) * B]
            lo, hi = batch_piece(glob.shape[0], self.world, self.rank)
            pieces.append(glob[lo:hi])
        shard = torch.cat(pieces)
        xs, ys = _rows(self.x, shard, dev, dtype=torch.float32), _rows(self.y, shard, dev)
        ts = _rows(self.teacher, shard, dev, self.member_axis, torch.float32)
        ends = torch.tensor([p.shape[0] for p in pieces]).cumsum(0).tolist()
        for step in range(steps):
            a, b = (ends[step - 1] if step else 0), ends[step]
            global_size = min(B, self.n - step * B)
            lo, _ = batch_piece(global_size, self.world, self.rank)
            yb = ys[a:b] if ys is not None else None
            tb = None if ts is None else (ts[:, a:b] if self.member_axis else ts[a:b])
            yield self._jittered(xs[a:b], global_size, lo, gen), yb, tb, (b - a) * self.world / global_size
