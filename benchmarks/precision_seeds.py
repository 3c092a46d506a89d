"""Same science in bf16: notebook 03's recipes (teacher, baseline, distilled) over three seeds, fp32 against bf16.

For each precision: three teachers (one ``fit`` per seed: the teacher's jitter is drawn per batch, so it does not
train as seeds-as-members), then the baseline and the distilled net of every seed as members of one
``BatchedMLP`` (``kdlab.core.seeds.fit_seeds``), each seed's student distilled from that seed's teacher. Test
errors out of 10,000, as the paper counts them; the transfer set is the profile's (seed 0's subset).

    python benchmarks/precision_seeds.py [--profile quick] [--seeds 0 1 2] [--csv FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from functools import partial

import pandas as pd
import torch

from kdlab.core.evaluate import evaluate
from kdlab.core.seeds import fit_seeds
from kdlab.data.mnist import load_mnist
from kdlab.lessons import distillation as lesson


def run(profile_name: str, seeds: list[int], precision: str) -> list[dict]:
    cfg = lesson.get_profile(profile_name)
    mnist = load_mnist()
    x_all, y_all = mnist.flat("train")
    x_test, y_test = mnist.flat("test")
    subset = lesson.training_subset(len(x_all), cfg.train_size, seed=0)
    transfer = subset[lesson.training_subset(len(subset), cfg.transfer_size, seed=0)]
    x_tr, y_tr = x_all[transfer], y_all[transfer]
    rows, logits = [], []
    for seed in seeds:
        teacher_cfg = replace(cfg, teacher=replace(cfg.teacher, precision=precision))
        teacher, seconds = lesson.train_teacher(teacher_cfg, x_all[subset], y_all[subset], seed=seed, device="cpu",
                                                progress=False)  # fmt: skip
        rows.append(dict(precision=precision, model="teacher", seed=seed, test_errors=evaluate(teacher, x_test, y_test).errors,
                         wall_s=round(seconds, 1)))  # fmt: skip
        logits.append(lesson.teacher_logits_on(teacher, x_tr))
    student = partial(lesson.make_student, cfg.student_hidden)
    for name, config, teacher in (("baseline", cfg.baseline, None), ("distilled", cfg.distilled, torch.stack(logits))):
        began = time.perf_counter()
        labels = y_tr if teacher is None or config.hard_weight > 0 else None
        stack, _ = fit_seeds(student, x_tr, labels, seeds, config=replace(config, precision=precision, progress=False),
                             teacher_logits=teacher, device="cpu")  # fmt: skip
        seconds = time.perf_counter() - began
        errors = evaluate(stack, x_test, y_test).errors
        rows += [dict(precision=precision, model=name, seed=s, test_errors=e, wall_s=round(seconds / len(seeds), 1))
                 for s, e in zip(seeds, errors)]  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    ap.add_argument("--csv", default=None)
    args = ap.parse_args(argv)
    rows = []
    for precision in args.precisions:
        rows += run(args.profile, args.seeds, precision)
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    summary = table.groupby(["model", "precision"]).test_errors.agg(["mean", "min", "max"]).unstack("precision")
    print(summary.to_string())
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
