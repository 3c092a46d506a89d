"""Train the MNIST teacher data-parallel, or an ensemble split across ranks, and write ONE run to the run store.

    kdlab train teacher  --profile full --nproc 2                  # DDP on 2 local processes (torchrun for you)
    kdlab train ensemble --profile quick --members 4 --nproc 2     # 4 teachers, 2 per rank, gathered on rank 0
    kdlab train teacher  --profile paper --nproc 8 --nnodes 2 --rdzv-endpoint node0:29500   # on every node
    torchrun --nproc-per-node 4 -m kdlab.dist.train teacher --profile paper                  # by hand

The recipe (architecture, dropout, max-norm, jitter, schedule) is notebook 03's: ``kdlab.lessons.mnist``
profiles, with optional overrides. Every rank loads MNIST into host memory; ``fit_ddp`` puts each rank's shard
on its device. Rank 0 opens a *staging* run first and finalizes it as COMPLETE only after every rank has finished
its work (a barrier); any exception on rank 0, including the SIGTERM torchrun sends when another rank dies,
finalizes it as FAILED. The launcher (``--nproc``) then prints one line naming the rank that failed first and
its error, and exits 2. Artifacts: ``teacher.pt`` + ``teacher_spec.json`` (what notebook 03/04 load), or
``ensemble.pt`` + ``members.csv``; ``history.csv``; metrics with the test errors and the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from kdlab.dist.ddp import DistEnv, barrier, fit_ddp, free_port, init_distributed, map_jobs, shutdown
from kdlab.store.runs import FAILED, RUN_DIR_ENV, STAGING, finalize, start_run

ERRORS_ENV = "KDLAB_DIST_ERRORS"  # folder where each rank records its error (set by the launcher)
RUN_NAMES = {"teacher": "train_mnist_teacher", "ensemble": "train_mnist_ensemble"}
LAUNCH_FLAGS = {"--nproc": True, "--nnodes": True, "--rdzv-endpoint": True, "--rdzv-id": True}  # flag: takes a value


class Terminated(RuntimeError):
    """Raised on SIGTERM: torchrun stops the surviving ranks this way when one rank fails."""


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
    return [*cmd, "-m", "kdlab.dist.train", *worker_argv]


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
    from kdlab.lessons.mnist import get_profile

    get_profile(args.profile)
    find_mnist(args.data)


# --------------------------------------------------------------------------------------------------- worker


def _profile(args: argparse.Namespace):
    from kdlab.lessons.mnist import get_profile

    profile = get_profile(args.profile)
    teacher = replace(
        profile.teacher,
        progress=not args.no_progress,
        **{
            k: v
            for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr))
            if v is not None
        },
    )
    changes: dict[str, Any] = {"teacher": teacher}
    if args.train_size is not None:
        changes["train_size"] = args.train_size or None
    if args.hidden:
        changes["teacher_hidden"] = tuple(args.hidden)
    return replace(profile, **changes)


def _record_error(env: DistEnv, exc: BaseException) -> str:
    line = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1][:300]
    folder = os.environ.get(ERRORS_ENV)
    if folder:
        record = {
            "rank": env.rank,
            "world": env.world_size,
            "error": line,
            "time": time.time(),
            "terminated": isinstance(exc, Terminated),
        }
        try:
            Path(folder, f"rank{env.rank}.json").write_text(json.dumps(record))
        except OSError:
            pass
    return line


def _on_sigterm(signum, frame):
    raise Terminated(f"stopped by signal {signum} (torchrun stops every rank when one fails)")


def _fault(args: argparse.Namespace, env: DistEnv, where: str) -> None:
    if args.fail_rank is not None and args.fail_rank == env.rank:
        if args.fail_mode == "kill":  # no Python cleanup at all: what an OOM kill looks like
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError(f"injected failure on rank {env.rank} ({where}; --fail-rank)")


def _train_teacher(args, env: DistEnv, profile, x, y, x_test, y_test) -> dict[str, Any]:
    from kdlab.core.train import evaluate, seed_everything
    from kdlab.lessons.mnist import make_teacher

    seed_everything(args.seed)  # same initialization on every rank (DDP broadcasts rank 0's anyway)
    model = make_teacher(profile)
    config = replace(profile.teacher, seed=args.seed, desc="teacher (DDP)" if env.distributed else "teacher")

    def on_epoch_end(epoch: int, _model) -> None:
        _fault(args, env, f"end of epoch {epoch + 1}")

    barrier()
    began, cpu = time.perf_counter(), time.process_time()
    history = fit_ddp(model, x, y, config=config, device=env.device, env=env, on_epoch_end=on_epoch_end)
    cpu = time.process_time() - cpu  # this rank's CPU seconds (all its threads): the cost, whatever the machine load
    barrier()
    seconds = time.perf_counter() - began
    out = {
        "model": model,
        "history": history,
        "seconds": seconds,
        "samples": config.epochs * x.shape[0],
        "cpu_seconds": cpu,
    }
    if env.is_main:
        out["test_errors"] = evaluate(model, x_test.to(env.device), y_test.to(env.device)).errors
    return out


def _train_ensemble(args, env: DistEnv, profile, x, y, x_test, y_test) -> dict[str, Any]:
    from kdlab.core.train import evaluate, fit, seed_everything
    from kdlab.lessons.mnist import make_teacher

    def member(i: int) -> dict[str, Any]:
        seed_everything(args.seed + i)  # a member's result depends on its index only, not on its rank
        model = make_teacher(profile)
        config = replace(profile.teacher, seed=args.seed + i, desc=f"member {i} (rank {env.rank})")
        began = time.perf_counter()
        history = fit(model, x, y, config=config, device=env.device)
        _fault(args, env, f"after member {i}")
        errors = evaluate(model, x_test.to(env.device), y_test.to(env.device)).errors
        return {
            "index": i,
            "rank": env.rank,
            "state": model.state_dict(),
            "test_errors": errors,
            "seconds": round(time.perf_counter() - began, 2),
            "train_loss": history.train_loss,
        }

    barrier()
    began, cpu = time.perf_counter(), time.process_time()
    results = map_jobs(member, list(range(args.members)), env)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {
        "members": results,
        "seconds": seconds,
        "samples": args.members * profile.teacher.epochs * x.shape[0],
        "cpu_seconds": cpu,
    }


def _write_run(run, args, env: DistEnv, profile, result: dict[str, Any], x_test, y_test) -> None:
    import pandas as pd

    from kdlab.core.models import BatchedMLP
    from kdlab.core.train import errors_from_logits, predict_logits
    from kdlab.lessons.mnist import make_teacher

    common = {
        "world_size": env.world_size,
        "backend": env.backend or "none",
        "device": str(env.device),
        "train_seconds": round(result["seconds"], 2),
        "train_cpu_seconds_rank0": round(result["cpu_seconds"], 2),
        "samples_per_s": round(result["samples"] / max(result["seconds"], 1e-9), 1),
    }
    if args.what == "teacher":
        run.save_model("teacher", result["model"])
        run.save_json("teacher_spec", profile.teacher_spec())  # what load_or_train_teacher compares
        run.save_table("history", result["history"].to_frame())
        run.log_metrics(test_errors=result["test_errors"], **common)
        return
    members = result["members"]
    mlps = []
    for m in members:
        mlp = make_teacher(profile)
        mlp.load_state_dict(m["state"])
        mlps.append(mlp)
    ensemble = BatchedMLP.from_mlps(mlps).to(env.device)
    logits = predict_logits(ensemble, x_test.to(env.device))  # (M, N, C)
    mean_probs = torch.softmax(logits, -1).mean(0)  # arithmetic mean of the members' distributions
    run.save_model("ensemble", ensemble)
    run.save_json("teacher_spec", profile.teacher_spec())
    run.save_table(
        "members", pd.DataFrame([{k: m[k] for k in ("index", "rank", "test_errors", "seconds")} for m in members])
    )
    run.log_metrics(
        ensemble_test_errors=errors_from_logits(mean_probs, y_test).errors,
        member_test_errors=[m["test_errors"] for m in members],
        members=len(members),
        **common,
    )


def worker(args: argparse.Namespace) -> int:
    """One rank's work (under torchrun, or alone): train, then rank 0 writes the run once everyone succeeded."""
    env = init_distributed(args.device, args.timeout)
    signal.signal(signal.SIGTERM, _on_sigterm)
    os.environ.pop(RUN_DIR_ENV, None)  # never write into a notebook's staging folder
    run = None
    try:
        from kdlab.data.mnist import load_mnist
        from kdlab.lessons.mnist import training_subset

        profile = _profile(args)
        if env.is_main:
            params = {
                "PROFILE": args.profile,
                "SEED": args.seed,
                "WHAT": args.what,
                "WORLD_SIZE": env.world_size,
                "BACKEND": env.backend or "none",
                "MEMBERS": args.members if args.what == "ensemble" else None,
                "profile": profile.as_dict(),
            }
            run = start_run(args.run_name or RUN_NAMES[args.what], params, args.runs)
            run.device = str(env.device)
            if os.environ.get(ERRORS_ENV):
                Path(os.environ[ERRORS_ENV], "run_dir").write_text(str(run.dir))
        data = load_mnist(args.data)
        x, y = data.flat("train")
        keep = training_subset(x.shape[0], profile.train_size, args.seed)
        x, y = x[keep], y[keep]
        x_test, y_test = data.flat("test")
        train = _train_teacher if args.what == "teacher" else _train_ensemble
        result = train(args, env, profile, x, y, x_test, y_test)
        barrier()  # every rank has finished its work: only now may the run become COMPLETE
        if env.is_main:
            _write_run(run, args, env, profile, result, x_test, y_test)
            path = run.finish()
            print(f"kdlab train: complete: {path}", flush=True)
        return 0
    except BaseException as exc:
        line = _record_error(env, exc)
        if run is not None and not run.finished:
            run.fail(f"rank {env.rank} of {env.world_size}: {line}")
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        shutdown()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.nproc is not None and "RANK" not in os.environ:
        return launch(args, argv)
    return worker(args)


if __name__ == "__main__":
    sys.exit(main())
