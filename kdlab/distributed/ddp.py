"""torch.distributed for kdlab: data-parallel ``fit`` (DDP) and independent jobs split across ranks.

Launched by ``torchrun`` (``kdlab train ... --nproc N`` does it for you), every process reads ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and ``MASTER_ADDR``/``MASTER_PORT`` from its environment; ``init_distributed``
joins the group with NCCL on CUDA and gloo on CPU. Not launched distributed, everything here is a no-op:
``fit_ddp`` *is* ``kdlab.core.train.fit``, ``split_jobs`` returns every job and ``gather_to_rank0`` a one-item list, so a
notebook can call these unconditionally.

Why ``fit_ddp`` equals single-process ``fit`` (up to float reordering), step for step:

* every rank seeds the same ``torch.Generator`` with ``config.seed``, so every rank draws the *same global*
  permutation (and the same jitter offsets) that ``fit`` draws;
* global batch ``b`` of ``fit`` (``config.batch_size`` rows, the last one shorter) is split into ``world``
  contiguous pieces (``tensor_split``: sizes differ by at most one); rank r computes the mean loss over its piece
  and scales it by ``len(piece) · world / len(b)``. DDP averages gradients over ranks, so the update is
  Σ_r ∇(sum of losses on piece r) / len(b) = ∇(mean loss on b): exactly ``fit``'s step;
* parameters start equal (DDP broadcasts rank 0's), receive equal gradients, so SGD, the schedule and the
  max-norm projection after each step leave them equal on every rank.

Dropout is the one thing not reproduced bit for bit: its masks come from the global RNG, which ``fit_ddp`` seeds
per rank (``seed``, ``rank``) so ranks draw independent masks (same distribution as one process, not the same
numbers). Data: each rank keeps the dataset where the caller put it (host memory, typically) and, once per epoch,
gathers onto its device only the rows of its pieces of every batch of that epoch: its device-resident shard.
"""

from __future__ import annotations

import copy
import os
import socket
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from kdlab.core.config import History, TrainConfig, resolve_device
from kdlab.core.train import LossFn, fit

T = TypeVar("T")
TIMEOUT_ENV = "KDLAB_DIST_TIMEOUT"  # seconds a collective may wait before failing (default 1800)


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands: rank among ``world_size``, its device, and the backend (None when alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_distributed() -> bool:
    """True when this process was started by torchrun (or anything that sets RANK and WORLD_SIZE > 1)."""
    return "RANK" in os.environ and int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_distributed(device: str | torch.device = "auto", timeout_s: float | None = None) -> DistEnv:
    """Join the process group from torchrun's environment (NCCL on CUDA, gloo on CPU); a no-op when not launched.

    ``device="auto"`` gives ``cuda:LOCAL_RANK`` when CUDA is available, else CPU. Idempotent.
    """
    if not launched_distributed():
        return DistEnv(device=resolve_device(device))
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    dev = resolve_device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", local_rank if dev.index is None else dev.index)
        torch.cuda.set_device(dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        timeout = timeout_s if timeout_s is not None else float(os.environ.get(TIMEOUT_ENV, 1800))
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout))
    return DistEnv(rank, world, local_rank, dev, dist.get_backend())


def current_env() -> DistEnv:
    """The ``DistEnv`` of an initialized group (device from the backend), or the single-process one."""
    if not (dist.is_available() and dist.is_initialized()):
        return DistEnv(device=resolve_device("auto"))
    backend = dist.get_backend()
    local_rank = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
    dev = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    return DistEnv(dist.get_rank(), dist.get_world_size(), local_rank, dev, backend)


def shutdown() -> None:
    """Leave the process group (safe to call when none was joined)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def distributed(device: str | torch.device = "auto", timeout_s: float | None = None):
    """``with distributed() as env:`` — init on entry, destroy the group on exit."""
    env = init_distributed(device, timeout_s)
    try:
        yield env
    finally:
        shutdown()


def is_main() -> bool:
    """True on rank 0, and in a process that is not distributed."""
    return current_env().is_main


def barrier() -> None:
    """Wait for every rank (no-op when alone)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for MASTER_PORT / a rendezvous endpoint on one machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------ independent jobs across ranks


def split_jobs(jobs: Sequence[T], env: DistEnv | None = None) -> list[T]:
    """This rank's share of ``jobs``: round robin (job i goes to rank i mod world), all of them when alone.

    Round robin balances ranks when jobs are listed by size (e.g. specialists sorted by class count).
    """
    env = env or current_env()
    return list(jobs[env.rank :: env.world_size])


def to_cpu(obj: Any) -> Any:
    """Tensors anywhere inside dicts/lists/tuples/dataclasses (and modules, copied) moved to CPU, for pickling
    across ranks and devices: a CUDA tensor pickled on cuda:1 would unpickle onto cuda:1 on rank 0."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, torch.nn.Module):
        return copy.deepcopy(obj).cpu()
    if is_dataclass(obj) and not isinstance(obj, type):
        return replace(obj, **{f.name: to_cpu(getattr(obj, f.name)) for f in fields(obj) if f.init})
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(to_cpu(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def gather_to_rank0(obj: Any, env: DistEnv | None = None) -> list[Any] | None:
    """Every rank's ``obj`` (picklable; tensors are moved to CPU) as a list indexed by rank on rank 0, None elsewhere."""
    env = env or current_env()
    obj = to_cpu(obj)
    if not env.distributed:
        return [obj]
    out: list[Any] | None = [None] * env.world_size if env.is_main else None
    dist.gather_object(obj, out, dst=0)
    return out


def broadcast_from_rank0(obj: T, env: DistEnv | None = None) -> T:
    """Rank 0's ``obj`` on every rank (e.g. a run id or a config decided once)."""
    env = env or current_env()
    if not env.distributed:
        return obj
    box = [to_cpu(obj) if env.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def map_jobs(fn: Callable[[T], Any], jobs: Sequence[T], env: DistEnv | None = None) -> list[Any] | None:
    """Run ``fn`` on this rank's share of ``jobs`` (``split_jobs``); on rank 0 return all results in job order.

    Other ranks get None. Results are moved to CPU before gathering. A job that raises fails its rank (and so the
    launch): nothing is gathered from a half-finished set. Pass ``enumerate``-d jobs (``list(enumerate(specs))``)
    when ``fn`` needs the job's index, e.g. to seed it so that its result does not depend on the number of ranks.
    """
    env = env or current_env()
    mine = [fn(job) for job in split_jobs(jobs, env)]
    per_rank = gather_to_rank0(mine, env)
    if per_rank is None:
        return None
    results: list[Any] = [None] * len(jobs)
    for rank, chunk in enumerate(per_rank):
        for k, result in enumerate(chunk):
            results[rank + k * env.world_size] = result
    return results


# ------------------------------------------------------------------------------------- data-parallel fit


def fit_ddp(
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
    env: DistEnv | None = None,
) -> History:
    """``kdlab.core.train.fit`` with DistributedDataParallel: same arguments, same result up to float reordering.

    Not distributed, it is ``fit``. Distributed, every rank passes the *full* ``x``/``y``/``teacher_logits`` (kept
    where they are) and the same ``config``; ``fit(parallel=env)`` trains this rank's piece of every global batch on
    the rank's device (``kdlab.core.batches`` says why that equals one process). ``loss_fn`` must return a mean over
    the batch (as every kdlab loss does). Validation errors are computed on rank 0 only; ``on_epoch_end`` runs on
    every rank (check ``is_main()`` inside it for rank-0-only work); checkpoints are written by rank 0 and read by
    all. Returns the history (identical train losses on every rank).
    """
    env = env or current_env()
    return fit(
        model,
        x,
        y,
        config=config,
        teacher_logits=teacher_logits,
        x_val=x_val,
        y_val=y_val,
        device=device if str(device) != "auto" else env.device,
        loss_fn=loss_fn,
        sample_batch=sample_batch,
        on_epoch_end=on_epoch_end,
        parallel=env if env.distributed else None,
    )
