"""Choose notebook 05's distillation recipe on the validation utterances — never on the test sets.

Trains the profile's baseline and 10-member ensemble once (their schedule can be changed with ``--epochs``), then
one distilled stack per student variant (one field of the recipe changed at a time) and writes, per variant and
temperature, the frame accuracy on the validation utterances (every ``val_every``-th training utterance, which no
model trains on) and the share of the ensemble's validation gain the student keeps. The test sets are not loaded
into any model here.

    python benchmarks/speech_recipes.py --profile full --variants old,mixup2 --out benchmarks/results/speech_recipes_full.csv
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import replace
from pathlib import Path

import torch

from kdlab.data.speech import load_corpus
from kdlab.lessons import common
from kdlab.lessons import speech_recipe as recipe

# Student variants: soft-target form, mixed copies in the transfer set, student epochs, temperatures.
VARIANTS: dict[str, dict] = {
    "old": {"soft_targets": "tempered_mean", "transfer_mixup": 0, "epochs": None, "temperatures": (1, 2, 5, 10)},
    "mean_of_tempered": {"soft_targets": "mean_of_tempered", "transfer_mixup": 0, "epochs": None,
                         "temperatures": (1, 2, 5, 10)},
    "mixup2": {"soft_targets": "mean_of_tempered", "transfer_mixup": 2, "epochs": None, "temperatures": (1, 2, 5, 10)},
    "mixup2_long": {"soft_targets": "mean_of_tempered", "transfer_mixup": 2, "epochs": 2, "temperatures": (1, 2)},
    "mixup2_x3": {"soft_targets": "mean_of_tempered", "transfer_mixup": 2, "epochs": 3, "temperatures": (1,)},
    "mean_of_tempered_x3": {"soft_targets": "mean_of_tempered", "transfer_mixup": 0, "epochs": 3, "temperatures": (1,)},
}  # fmt: skip
# "epochs": None keeps the profile's student epochs; an int multiplies them.


def hard_models(profile, data, args):
    """The baseline and the ensemble, trained, or read from ``--cache`` where an earlier call saved them."""
    cache = Path(args.cache) / f"{args.profile}-e{profile.baseline.epochs}-s{args.seed}.pt" if args.cache else None
    baseline, ensemble = recipe.make_models(profile, data, 1), recipe.make_models(profile, data, profile.ensemble_size)
    if cache is not None and cache.exists():
        saved = torch.load(cache, weights_only=True)
        baseline.load_state_dict(saved["baseline"])
        ensemble.load_state_dict(saved["ensemble"])
        return baseline.eval(), ensemble.eval()
    baseline, _ = recipe.train_hard(profile, data, 1, profile.baseline, seed=args.seed, device="cpu", progress=True)
    ensemble, _ = recipe.train_hard(profile, data, profile.ensemble_size, replace(profile.baseline, desc="ensemble"),
                               seed=args.seed + 1, device="cpu", progress=True)  # fmt: skip
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"baseline": baseline.state_dict(), "ensemble": ensemble.state_dict()}, cache)
    return baseline, ensemble


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="full")
    ap.add_argument("--variants", default="old,mixup2", help=f"comma-separated, from: {', '.join(VARIANTS)}")
    ap.add_argument("--epochs", type=int, default=None, help="baseline and member epochs (default: the profile's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--cache", default=None, help="folder to keep the trained baseline and ensemble between calls")
    ap.add_argument("--out", default="benchmarks/results/speech_recipes.csv")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    profile = recipe.get_profile(args.profile)
    if args.epochs:
        profile = replace(profile, baseline=replace(profile.baseline, epochs=args.epochs))
    data = recipe.prepare(load_corpus(profile=profile.corpus, states=profile.states), profile)
    val = data.val
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fields = ["profile", "member_epochs", "variant", "soft_targets", "transfer_mixup", "student_epochs",
              "temperature", "val_baseline", "val_ensemble", "val_distilled", "gain_kept_val", "seconds"]  # fmt: skip
    new = not out.exists()
    with out.open("a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(fields)
        t0 = time.perf_counter()
        baseline, ensemble = hard_models(profile, data, args)
        acc_b = 100 * recipe.frame_accuracy(recipe.log_probs(baseline, val.x)[0], val.y)
        acc_e = 100 * recipe.frame_accuracy(recipe.ensemble_log_probs(recipe.log_probs(ensemble, val.x)), val.y)
        print(f"validation: baseline {acc_b:.2f} %, ensemble {acc_e:.2f} % ({time.perf_counter() - t0:.0f} s)")
        for name in [v.strip() for v in args.variants.split(",") if v.strip()]:
            v = VARIANTS[name]
            temps = tuple(float(t) for t in v["temperatures"])
            epochs = profile.distilled.epochs * (v["epochs"] or 1)
            t0 = time.perf_counter()
            x_t, y_t = recipe.mixup_frames(
                data.train.x, data.train.y, v["transfer_mixup"], profile.mixup_max, args.seed
            )
            teacher = recipe.ensemble_soft_targets(ensemble, x_t, temps, v["soft_targets"])
            transfer = recipe.FrameSet(x_t, y_t, data.train.bounds, data.train.speakers)
            cfg = replace(profile.distilled, epochs=epochs, desc=f"student {name}")
            students, _ = recipe.train_students(profile, data, teacher, temps, profile.hard_weight, cfg,
                                            seed=args.seed + 2, device="cpu", progress=True, train=transfer)  # fmt: skip
            del teacher, transfer, x_t, y_t
            lp = recipe.log_probs(students, val.x)
            seconds = time.perf_counter() - t0
            for m, T in enumerate(temps):
                acc = 100 * recipe.frame_accuracy(lp[m], val.y)
                kept = common.gain_kept(acc_b, acc_e, acc)
                writer.writerow([args.profile, profile.baseline.epochs, name, v["soft_targets"], v["transfer_mixup"],
                                 epochs, T, f"{acc_b:.2f}", f"{acc_e:.2f}", f"{acc:.2f}",
                                 "" if kept is None else f"{kept:.3f}", f"{seconds:.0f}"])  # fmt: skip
                print(f"{name} T={T:g}: validation {acc:.2f} %, gain kept {kept}")
            fh.flush()


if __name__ == "__main__":
    main()
