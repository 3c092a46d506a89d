"""Choose the MNIST teacher's training recipe on a validation split — never on the test set.

The paper gives the teacher's architecture and regularizers (784-1200-1200-10, dropout, max-norm, ±2 px
jitter; §3 and its reference [5]) but not its schedule. This script trains recipe variants on 50,000 training
cases and counts errors on the other 10,000 (a seeded split of the 60,000 training cases; the 10,000 test cases
are never loaded), so the ``full`` and ``paper`` profiles in ``kdlab.lessons.distillation`` can be chosen the way
any honest experimenter would. Each variant is one change from the base recipe.

    python benchmarks/teacher_recipes.py --variants base,lr0.3 --epochs 120 --out benchmarks/out/recipes.csv

Run several processes at once (one variant each) to fill a GPU; every process appends one row per
``--report-every`` epochs to ``--out`` (CSV: variant, epochs, epoch, val_errors, seconds, device), so
an interrupted search still leaves its partial curves.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from dataclasses import replace
from pathlib import Path

import torch

from kdlab.core.config import TrainConfig, resolve_device, seed_everything
from kdlab.core.evaluate import evaluate
from kdlab.core.models import MLP
from kdlab.core.train import fit
from kdlab.data.mnist import load_mnist
from kdlab.lessons.common import validation_split

BASE = dict(lr=0.1, momentum=0.9, batch_size=128, jitter=2, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5)

VARIANTS: dict[str, dict] = {
    "base": {},
    "lr0.3": {"lr": 0.3},
    "lr0.03": {"lr": 0.03},
    "jitter1": {"jitter": 1},
    "din0": {"dropout_input": 0.0},
    "dh0.3": {"dropout_hidden": 0.3},
    "mom0.95": {"momentum": 0.95},
    "bs64": {"batch_size": 64},
    "mn2": {"max_norm": 2.0},
    "lr0.3_din0": {"lr": 0.3, "dropout_input": 0.0},
    "din0_dh0.3": {"dropout_input": 0.0, "dropout_hidden": 0.3},
    "din0_lr0.05": {"dropout_input": 0.0, "lr": 0.05},
    "din0_mn2": {"dropout_input": 0.0, "max_norm": 2.0},
}


def run_variant(name: str, epochs: int, out: Path, report_every: int, device: str, seed: int) -> int:
    recipe = {**BASE, **VARIANTS[name]}
    dev = resolve_device(device)
    x, y = load_mnist().flat("train")
    tr, va = validation_split(len(x))
    seed_everything(seed)
    model = MLP(784, (1200, 1200), 10, recipe["dropout_input"], recipe["dropout_hidden"], recipe["max_norm"])
    config = TrainConfig(
        epochs=epochs,
        lr=recipe["lr"],
        momentum=recipe["momentum"],
        batch_size=recipe["batch_size"],
        jitter=recipe["jitter"],
        seed=seed,
        progress=False,
        desc=name,
    )
    x_val, y_val = x[va].to(dev), y[va].to(dev)
    began = time.perf_counter()
    last = {"errors": -1}

    def report(epoch: int, net: torch.nn.Module) -> dict[str, float]:
        if (epoch + 1) % report_every and epoch + 1 != epochs:
            return {}
        errors = int(evaluate(net, x_val, y_val).errors)
        last["errors"] = errors
        with open(out, "a", newline="") as f:
            csv.writer(f).writerow([name, epochs, epoch + 1, errors, round(time.perf_counter() - began, 1), str(dev)])
        print(
            f"{name}: epoch {epoch + 1}/{epochs} validation errors {errors} ({time.perf_counter() - began:.0f} s)",
            flush=True,
        )
        return {"val_errors": errors}

    fit(model, x[tr], y[tr], config=replace(config), device=dev, on_epoch_end=report)
    return last["errors"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="base", help=f"comma-separated, from: {', '.join(VARIANTS)}")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--report-every", type=int, default=10)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/out/teacher_recipes.csv")
    args = ap.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or os.path.getsize(out) == 0:
        with open(out, "w", newline="") as f:
            csv.writer(f).writerow(["variant", "epochs", "epoch", "val_errors", "seconds", "device"])
    for name in names:
        errors = run_variant(name, args.epochs, out, args.report_every, args.device, args.seed)
        print(f"{name}: {errors} validation errors after {args.epochs} epochs")


if __name__ == "__main__":
    main()
