"""Train the MNIST teacher data-parallel, or an ensemble split across ranks, and write ONE run to the run store.

    kdlab train teacher  --profile full --nproc 2                  # DDP on 2 local processes (torchrun for you)
    kdlab train ensemble --profile quick --members 4 --nproc 2     # 4 teachers, 2 per rank, gathered on rank 0
    kdlab train teacher  --profile paper --nproc 8 --nnodes 2 --rdzv-endpoint node0:29500   # on every node
    torchrun --nproc-per-node 4 -m kdlab.distributed.train teacher --profile paper                  # by hand

The recipe (architecture, dropout, max-norm, jitter, schedule) is notebook 03's: ``kdlab.lessons.distillation``
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
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from kdlab.distributed.ddp import DistEnv, barrier, fit_ddp, init_distributed, map_jobs, shutdown
from kdlab.distributed.launch import (
    ERRORS_ENV,
    RUN_NAMES,
    build_parser,
    launch,
)
from kdlab.store.layout import RUN_DIR_ENV
from kdlab.store.runs import start_run


class Terminated(RuntimeError):
    """Raised on SIGTERM: torchrun stops the surviving ranks this way when one rank fails."""


# --------------------------------------------------------------------------------------------------- worker


def _profile(args: argparse.Namespace):
    from kdlab.lessons.distillation import get_profile

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
    from kdlab.core.config import seed_everything
    from kdlab.core.evaluate import evaluate
    from kdlab.lessons.distillation import make_teacher

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
    from kdlab.core.config import seed_everything
    from kdlab.core.evaluate import evaluate
    from kdlab.core.train import fit
    from kdlab.lessons.distillation import make_teacher

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

    from kdlab.core.evaluate import errors_from_logits, predict_logits
    from kdlab.core.models import BatchedMLP
    from kdlab.lessons.distillation import make_teacher

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
        from kdlab.lessons.distillation import training_subset

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
