"""Choose the distilled student's schedule on a validation split — never on the test set.

Given a trained teacher (a ``teacher.pt`` from a notebook-03 run), this distils 784-800-800-10 students on
50,000 training cases with that teacher's soft targets at T = 20 (the profile's distilled recipe, one field
changed per variant) and counts errors on the other 10,000 training cases, which the student never sees. The
teacher did see them, so the figure is a little optimistic for every variant alike; it ranks schedules, it does
not estimate test error.

    python benchmarks/student_recipes.py runs/03_mnist_distillation/<run>/artifacts/teacher.pt \
        --profile paper --variants as_profile,epochs60 --out benchmarks/out/student_recipes.csv
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import replace
from pathlib import Path

import torch

from kdlab.data.mnist import load_mnist
from kdlab.lessons.common import validation_split
from kdlab.lessons.distillation import get_profile, make_teacher, teacher_logits_on, train_distilled

VARIANTS: dict[str, dict] = {
    "as_profile": {},
    "epochs60": {"epochs": 60},
    "noclip": {"grad_clip": None},
    "lr0.02": {"lr": 0.02},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("teacher", help="teacher.pt of a notebook-03 run")
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--variants", default="as_profile", help=f"comma-separated, from: {', '.join(VARIANTS)}")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default="benchmarks/out/student_recipes.csv")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    profile = get_profile(args.profile)
    teacher = make_teacher(profile)
    teacher.load_state_dict(torch.load(args.teacher, map_location="cpu", weights_only=True))
    x, y = load_mnist().flat("train")
    tr, va = validation_split(len(x))
    logits = teacher_logits_on(teacher, x[tr])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in [v.strip() for v in args.variants.split(",") if v.strip()]:
        config = replace(profile.distilled, progress=False, **VARIANTS[name])
        began = time.perf_counter()
        model, _ = train_distilled(profile, x[tr], y[tr], logits, config=config, device=args.device, progress=False)
        errors = int((model.cpu()(x[va]).argmax(-1) != y[va]).sum())
        row = [
            args.profile,
            name,
            config.epochs,
            config.lr,
            config.grad_clip,
            errors,
            round(time.perf_counter() - began, 1),
        ]
        new = not out.exists()
        with open(out, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["profile", "variant", "epochs", "lr", "grad_clip", "val_errors", "seconds"])
            w.writerow(row)
        print(dict(zip(["profile", "variant", "epochs", "lr", "grad_clip", "val_errors", "seconds"], row)), flush=True)


if __name__ == "__main__":
    main()
