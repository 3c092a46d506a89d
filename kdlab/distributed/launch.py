"""The launcher of ``kdlab train``: its command line, the torchrun command it builds for ``--nproc``, and the one
line it prints when a rank fails (which rank failed first, and its error). The ranks run ``kdlab.distributed.train``."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from kdlab.distributed.ddp import free_port
from kdlab.store.layout import FAILED, RUN_DIR_ENV, STAGING
from kdlab.store.runs import finalize

ERRORS_ENV = "KDLAB_DIST_ERRORS"  # folder where each rank records its error (set by the launcher)
RUN_NAMES = {"teacher": "train_mnist_teacher", "ensemble": "train_mnist_ensemble"}
LAUNCH_FLAGS = {"--nproc": True, "--nnodes": True, "--rdzv-endpoint": True, "--rdzv-id": True}  # flag: takes a value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kdlab train", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "what", choices=sorted(RUN_NAMES), help="teacher: one net, data-parallel; ensemble: nets split over ranks"
    )
    p.add_argument("--profile", default="quick", choices=["quick", "full", "paper"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None, help="override the profile's teacher epochs")
    p.add_argument("--train-size", type=int, default=None, help="override the training subset (0 = all 60,000)")
    p.add_argument("--hidden", type=int, nargs="+", default=None, help="override the teacher's hidden widths")
    p.add_argument("--batch-size", type=int, default=None, help="override the GLOBAL batch size")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--members", type=int, default=4, help="ensemble size (ensemble only)")
    p.add_argument("--device", default="auto", help="auto (cuda:LOCAL_RANK if CUDA, else cpu) | cpu")
    p.add_argument("--data", default=None, help="data folder (default: $KDLAB_DATA or <project>/data)")
    p.add_argument("--runs", default=None, help="run store (default: $KDLAB_RUNS or <project>/runs)")
    p.add_argument("--run-name", default=None, help="run store folder (default: train_mnist_<what>)")
    p.add_argument("--timeout", type=float, default=None, help="seconds a collective may wait (default 1800)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--nproc", type=int, default=None, help="launch torchrun with N processes on this node")
    p.add_argument("--nnodes", default="1", help="torchrun --nnodes (e.g. 2 or 1:4)")
    p.add_argument("--rdzv-endpoint", default=None, help="host:port of the rendezvous (multi-node)")
    p.add_argument("--rdzv-id", default="kdlab", help="job id shared by every node (multi-node)")
    p.add_argument("--fail-rank", type=int, default=None, help=argparse.SUPPRESS)  # tests: this rank fails mid-run
    p.add_argument("--fail-mode", choices=["raise", "kill"], default="raise", help=argparse.SUPPRESS)  # kill: SIGKILL
    return p


# ------------------------------------------------------------------------------------------------- launcher


def _worker_argv(argv: list[str]) -> list[str]:
    """``argv`` without the launcher's own flags (``--nproc 2`` and ``--nproc=2`` forms)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in LAUNCH_FLAGS:
            skip = "=" not in arg and LAUNCH_FLAGS[name]
            continue
        out.append(arg)
    return out


def torchrun_command(args: argparse.Namespace, worker_argv: list[str]) -> list[str]:
    """The ``python -m torch.distributed.run`` command line for ``args`` (single node: 127.0.0.1, a free port)."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc-per-node={args.nproc}",
        f"--nnodes={args.nnodes}",
        "--max-restarts=0",
    ]
    if args.rdzv_endpoint:
        cmd += ["--rdzv-backend=c10d", f"--rdzv-endpoint={args.rdzv_endpoint}", f"--rdzv-id={args.rdzv_id}"]
    elif str(args.nnodes) != "1":
        raise ValueError("--nnodes > 1 needs --rdzv-endpoint HOST:PORT (the same on every node)")
    else:
        cmd += ["--master-addr=127.0.0.1", f"--master-port={free_port()}"]
    return [*cmd, "-m", "kdlab.distributed.train", *worker_argv]


PEER_LOST = (
    "Connection closed by peer",
    "Connection reset by peer",
    "remote worker",
    "Broken pipe",
    "NCCL communicator was aborted",
    "remote process exited",
)  # a rank that saw *another* rank die


def _root_cause(errors: Path, local_world: int | None = None) -> str | None:
    """One line for the first real failure: 'rank R of W: Type: message'.

    A rank's own error beats a rank that only saw its peer vanish (or got torchrun's SIGTERM); when nothing but
    such echoes were recorded, the rank that recorded nothing (single node: ``local_world`` ranks) died silently.
    """
    found = []
    for f in errors.glob("rank*.json"):
        try:
            found.append(json.loads(f.read_text()))
        except (OSError, ValueError):
            continue
    if not found:
        return None
    world = found[0]["world"]
    own = [e for e in found if not e.get("terminated") and not any(m in e["error"] for m in PEER_LOST)]
    if own:
        first = min(own, key=lambda e: e.get("time", 0))
        return f"rank {first['rank']} of {world}: {first['error']}"
    silent = sorted(set(range(world)) - {e["rank"] for e in found}) if local_world == world else []
    if silent:
        return (
            f"rank {silent[0]} of {world} died without an error report (killed by a signal? out of memory?); "
            f"the other ranks saw its connection drop"
        )
    first = min(found, key=lambda e: (e.get("terminated", False), e.get("time", 0)))
    return f"rank {first['rank']} of {world}: {first['error']}"


def _fail_leftover_run(errors: Path, message: str) -> str | None:
    """Make sure rank 0's run is FAILED with ``message`` (finalize it if it was left in staging); its path."""
    note = errors / "run_dir"
    if not note.is_file():
        return None
    staging = Path(note.read_text().strip())
    if staging.is_dir() and staging.parent.name == STAGING:
        return str(finalize(staging, status=FAILED, message=message))
    final = staging.parent.parent / staging.name
    if (final / FAILED).is_file():
        (final / FAILED).write_text(message)
        return str(final)
    return None


def launch(args: argparse.Namespace, argv: list[str]) -> int:
    """Run the job under torchrun; on failure print one line (which rank, what error) and return 2."""
    if args.nproc < 1:
        raise ValueError(f"--nproc must be ≥ 1, got {args.nproc}")
    _precheck(args)
    with tempfile.TemporaryDirectory(prefix="kdlab-dist-") as tmp:
        env = dict(os.environ, **{ERRORS_ENV: tmp})
        env.pop(RUN_DIR_ENV, None)  # launched from a notebook run: this job writes its own run, not the notebook's
        code = subprocess.call(torchrun_command(args, _worker_argv(argv)), env=env)
        if code == 0:
            return 0
        local_world = args.nproc if str(args.nnodes) == "1" else None
        cause = (
            _root_cause(Path(tmp), local_world)
            or f"torchrun exited with code {code} and no rank recorded an error (killed?)"
        )
        run = _fail_leftover_run(Path(tmp), cause)
        where = f"run marked FAILED: {run}" if run else "no run was written"
        print(f"kdlab train: error: {cause} ({where})", file=sys.stderr, flush=True)
        return 2


def _precheck(args: argparse.Namespace) -> None:
    """Fail fast, before starting any process, on a bad profile or missing data."""
    from kdlab.data.mnist import find_mnist
    from kdlab.lessons.distillation import get_profile

    get_profile(args.profile)
    find_mnist(args.data)
