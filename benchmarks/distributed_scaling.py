"""Teacher throughput with 1 vs N processes: ``kdlab train teacher`` under torchrun, as a user would launch it.

Each configuration is a real job (``python -m kdlab.distributed.train teacher --nproc P``: torchrun, gloo on CPU or NCCL
on CUDA, DDP when P > 1, plain ``fit`` when P = 1) writing a run into a temporary run store. Throughput is taken
from the run's ``history.csv``: training cases per second over the epochs after the first (the first pays for
warm-up), plus the job's wall time including process start and data loading. Configurations are interleaved and
repeated so that a change in machine load hits all of them alike; the load average is printed beside the table.

    python benchmarks/distributed_scaling.py [--procs 1 2] [--threads-total 2] [--batch-sizes 128 512]
                                             [--train-size 5000] [--epochs 3] [--repeats 2] [--json FILE]

On a CPU, P processes get ``threads_total // P`` torch threads each (OMP_NUM_THREADS), so 1 vs 2 processes compare
the same cores used two ways; one process on one thread is added as a control (the per-core rate). Besides
cases/s (which depends on how much of a shared machine the job gets), the CPU seconds spent per 1,000 cases
(rank 0's process time during training × ranks) give the cost independently of the load. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: str) -> str:
    if device != "cpu" and torch.cuda.is_available():
        return f"{torch.cuda.device_count()}× {torch.cuda.get_device_name(0)}"
    return f"{cpu_name()}, {os.cpu_count()} logical cores"


def run_job(procs: int, threads: int, batch: int, args: argparse.Namespace) -> dict:
    """One ``kdlab train teacher`` job; its steady-state cases/s and wall time."""
    with tempfile.TemporaryDirectory(prefix="kdlab-bench-") as runs:
        cmd = [
            sys.executable,
            "-m",
            "kdlab.distributed.train",
            "teacher",
            "--profile",
            "quick",
            "--nproc",
            str(procs),
            "--epochs",
            str(args.epochs),
            "--train-size",
            str(args.train_size),
            "--batch-size",
            str(batch),
            "--device",
            args.device,
            "--runs",
            runs,
            "--no-progress",
            "--seed",
            "0",
        ]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), KDLAB_RUNS=runs)
        began = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - began
        if proc.returncode != 0:
            raise SystemExit(f"job failed ({procs} procs): {proc.stderr.strip().splitlines()[-1:]}")
        [history] = Path(runs).glob("train_mnist_teacher/*/artifacts/history.csv")
        rows = list(csv.DictReader(history.open()))
        [metrics] = Path(runs).glob("train_mnist_teacher/*/metrics.json")
        m = json.loads(metrics.read_text())["metrics"]
    seconds = [float(r["seconds"]) for r in rows]
    epoch_times = [b - a for a, b in zip(seconds, seconds[1:])] or seconds  # epochs 2.. (epoch 1 warms up)
    return {
        "procs": procs,
        "threads_per_proc": threads,
        "batch_size": batch,
        "cases_per_s": args.train_size / statistics.median(epoch_times),
        "wall_s": wall,
        # CPU cost, load-independent: rank 0's CPU seconds × ranks (ranks are symmetric) per 1,000 cases
        "cpu_s_per_1k": m["train_cpu_seconds_rank0"] * procs / (args.epochs * args.train_size) * 1000,
        "test_errors": m["test_errors"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--threads-total", type=int, default=os.cpu_count() or 1)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512], help="GLOBAL batch sizes")
    p.add_argument("--train-size", type=int, default=5_000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu | auto (one GPU per process when CUDA is there)")
    p.add_argument("--json", default=None)
    args = p.parse_args()

    configs = [(P, max(1, args.threads_total // P), B) for B in args.batch_sizes for P in args.procs]
    if args.threads_total > 1 and 1 in args.procs:  # control: one process on one thread (the per-core rate)
        configs += [(1, 1, B) for B in args.batch_sizes]
    load_before = os.getloadavg()
    results: dict[tuple, list[dict]] = {c: [] for c in configs}
    for rep in range(args.repeats):  # interleaved: load drift hits every configuration alike
        for c in configs:
            r = run_job(*c, args)
            results[c].append(r)
            print(
                f"  rep {rep + 1}: {c[0]} proc × {c[1]} threads, batch {c[2]}: {r['cases_per_s']:.0f} cases/s, "
                f"{r['cpu_s_per_1k']:.2f} CPU s/1k cases, job {r['wall_s']:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    load_after = os.getloadavg()

    dev = device_name(args.device)
    print(
        f"\nTeacher 784-1200-1200-10 (dropout, max-norm, ±2 px jitter), {args.train_size} MNIST cases, "
        f"{args.epochs} epochs; device: {dev}; torch {torch.__version__}; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after\n"
    )
    print(
        "| processes × threads | global batch | cases/s (median of reps, epochs ≥ 2) | range | speed-up vs 1 process "
        "| CPU s per 1k cases (all ranks) | job wall s (start-up included) |"
    )
    print("|---|---|---|---|---|---|---|")
    table = []
    for B in args.batch_sizes:
        base = None
        for c in [c for c in configs if c[2] == B]:
            P = c[0]
            rates = [r["cases_per_s"] for r in results[c]]
            med = statistics.median(rates)
            base = base or med
            walls = statistics.median(r["wall_s"] for r in results[c])
            cpu = statistics.median(r["cpu_s_per_1k"] for r in results[c])
            print(
                f"| {P} × {c[1]} | {B} | {med:.0f} | {min(rates):.0f}–{max(rates):.0f} | {med / base:.2f}× "
                f"| {cpu:.2f} | {walls:.1f} |"
            )
            table.append(
                {
                    "procs": P,
                    "threads_per_proc": c[1],
                    "batch_size": B,
                    "cases_per_s_median": med,
                    "cases_per_s": rates,
                    "speedup": med / base,
                    "cpu_s_per_1k_cases": cpu,
                    "wall_s_median": walls,
                }
            )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "device": dev,
                    "torch": torch.__version__,
                    "load_before": load_before,
                    "load_after": load_after,
                    "train_size": args.train_size,
                    "epochs": args.epochs,
                    "rows": table,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
