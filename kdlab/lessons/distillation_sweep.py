"""§3's second experiment: which temperature suits a student of 800, 300 or 30 units per layer.

The paper (§3, second paragraph): "When the distilled net had 300 or more units in each of its two hidden layers,
all temperatures above 8 gave fairly similar results. But when this was radically reduced to 30 units per layer,
temperatures in the range 2.5 to 4 worked significantly better than higher or lower temperatures." §2.1 gives the
reason: at high T the soft targets weight every logit difference alike (the logit-matching limit, eq. 4), and a
net too small to fit them all does better at an intermediate T that ignores the very negative logits.

Why a module of its own: the sweep trains dozens of students, so it has its own batching trick — all temperatures of
one width and seed train together as one ``BatchedMLP``, each member at its own T (``per_member_distillation_loss``,
a custom ``loss_fn``, since ``fit`` takes one temperature per call) — and its own read-out (``summarize_sweep``,
``sweep_claims``). Its recipes (profiles, the student, the teacher's logits) are ``kdlab.lessons.distillation``'s, which
re-exports every name here. Introduced in notebook 03, section 5.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

from kdlab.core.config import seed_everything
from kdlab.core.evaluate import evaluate
from kdlab.core.losses import per_member_distillation_loss
from kdlab.core.models import BatchedMLP
from kdlab.core.train import fit

if TYPE_CHECKING:
    from kdlab.lessons.distillation import MnistProfile


def run_sweep(
    profile: MnistProfile,
    x: torch.Tensor,
    y: torch.Tensor,
    teacher_logits: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> pd.DataFrame:
    """Test errors of distilled nets for every width × temperature × seed of the profile.

    Returns columns ``width, temperature, seed, test_errors, hard_weight, wall_time_s`` (the dashboard's sweep
    table). One ``BatchedMLP`` per (width, seed) holds every temperature; the seed (``seed`` + each of the
    profile's ``sweep_seeds``) sets both the initialization and the minibatch order.
    """
    temps = tuple(float(t) for t in profile.sweep_temperatures)
    hard_weight = profile.sweep.hard_weight
    rows = []
    seeds = [seed + s for s in profile.sweep_seeds]
    for width in profile.sweep_widths:
        for seed in seeds:
            seed_everything(seed)
            model = BatchedMLP(len(temps), 784, (width, width), 10)
            cfg = replace(profile.sweep, seed=seed, progress=progress, desc=f"sweep {width} units seed {seed}")
            began = time.perf_counter()
            fit(
                model,
                x,
                y if hard_weight > 0 else None,
                config=cfg,
                teacher_logits=teacher_logits,
                loss_fn=per_member_distillation_loss(temps, hard_weight),
                device=device,
            )
            seconds = time.perf_counter() - began
            errors = evaluate(model, x_test, y_test).errors
            for T, err in zip(temps, errors):
                rows.append(
                    {
                        "width": width,
                        "temperature": T,
                        "seed": seed,
                        "test_errors": int(err),
                        "hard_weight": hard_weight,
                        "wall_time_s": round(seconds / len(temps), 2),
                    }
                )
    return pd.DataFrame(rows)


def summarize_sweep(sweep: pd.DataFrame) -> pd.DataFrame:
    """Mean, min and max test errors over seeds for every (width, temperature)."""
    return sweep.groupby(["width", "temperature"])["test_errors"].agg(["mean", "min", "max", "count"]).reset_index()


def sweep_claims(sweep: pd.DataFrame) -> dict[str, Any]:
    """Check the paper's two §3 claims on a sweep table, as numbers the notebook prints.

    * ≥ 300 units: "all temperatures above 8 gave fairly similar results" → spread (max − min of the seed-mean
      errors) over T > 8 (T ≥ 8 when the grid has nothing above 8), next to the spread over all T;
    * 30 units: "temperatures in the range 2.5 to 4 worked significantly better than higher or lower" → the best
      T, and the mean errors inside 2.5–4 vs outside.

    A figure the grid cannot give (a spread over fewer than two high temperatures) is None (JSON null), not NaN.
    """
    s = summarize_sweep(sweep)
    out: dict[str, Any] = {}
    for width, grp in s.groupby("width"):
        grp = grp.sort_values("temperature")
        best = grp.loc[grp["mean"].idxmin()]
        high = grp[grp["temperature"] > 8]
        if len(high) < 2:
            high = grp[grp["temperature"] >= 8]
        n_high = len(high)
        inside = grp[(grp["temperature"] >= 2.5) & (grp["temperature"] <= 4)]
        outside = grp[(grp["temperature"] < 2.5) | (grp["temperature"] > 4)]
        out[int(width)] = {
            "best_temperature": float(best["temperature"]),
            "best_mean_errors": float(best["mean"]),
            "high_t_spread": float(high["mean"].max() - high["mean"].min()) if n_high >= 2 else None,
            "n_high_temperatures": n_high,
            "all_t_spread": float(grp["mean"].max() - grp["mean"].min()),
            "mean_errors_2.5_to_4": float(inside["mean"].mean()) if len(inside) else None,
            "mean_errors_outside": float(outside["mean"].mean()) if len(outside) else None,
        }
    return out
