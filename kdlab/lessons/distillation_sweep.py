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
from kdlab.paper import HIGH_T, NARROW_BAND

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


def high_temperatures(temperatures: Any) -> list[float]:
    """The grid's temperatures §3 calls "above 8": T ≥ 8. The one rule for metrics and claims alike (it was T > 8 in
    one place and T ≥ 8 in another). Why ≥: the paper names no grid, and the quick grid has only T = 20 above 8, so
    "> 8" could never compare two temperatures there."""
    return sorted(float(t) for t in set(temperatures) if float(t) >= HIGH_T)


def _side(grp: pd.DataFrame, by_seed: pd.DataFrame, mask: pd.Series) -> dict[str, Any] | None:
    """The best temperature (lowest seed-mean errors) among ``mask``'s rows, with its errors per seed."""
    part = grp[mask]
    if part.empty:
        return None
    t = float(part.loc[part["mean"].idxmin(), "temperature"])
    return {"temperature": t, "mean_errors": float(part["mean"].min()), "errors": [float(e) for e in by_seed[t]]}


def sweep_claims(sweep: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """§3's temperature figures per width, the numbers both ``metrics.json`` and the claims
    (``kdlab.lessons.claims.distillation.sweep_claims_list``) are made of.

    * ``high_temperatures`` (T ≥ 8), the spread (max − min of the seed-mean errors) over them and over all T, and
      per seed the mean errors over them (``high_t_errors``) and the errors at T = 1 (``t1_errors``, None when the
      grid lacks T = 1);
    * ``mid_t``: the best T inside 2.5–4 and the best T below 2.5 and above 4, each with its errors per seed (None
      for a side the grid does not have) — "higher" and "lower" kept apart, as the paper says "higher or lower".

    A figure the grid cannot give (a spread over fewer than two high temperatures) is None (JSON null), not NaN.
    """
    s = summarize_sweep(sweep)
    out: dict[int, dict[str, Any]] = {}
    for width, grp in s.groupby("width"):
        grp = grp.sort_values("temperature").reset_index(drop=True)
        rows = sweep[sweep["width"] == width]
        by_seed = rows.pivot_table(index="seed", columns="temperature", values="test_errors")  # (seeds, temperatures)
        high = high_temperatures(grp["temperature"])
        high_means = grp[grp["temperature"].isin(high)]["mean"]
        t = grp["temperature"]
        out[int(width)] = {
            "best_temperature": float(grp.loc[grp["mean"].idxmin(), "temperature"]),
            "best_mean_errors": float(grp["mean"].min()),
            "high_temperatures": high,
            "n_high_temperatures": len(high),
            "high_t_spread": float(high_means.max() - high_means.min()) if len(high) >= 2 else None,
            "all_t_spread": float(grp["mean"].max() - grp["mean"].min()),
            "high_t_errors": [float(e) for e in by_seed[high].mean(axis=1)] if high else None,
            "t1_errors": [float(e) for e in by_seed[1.0]] if 1.0 in by_seed.columns else None,
            "mid_t": {
                "inside": _side(grp, by_seed, (t >= NARROW_BAND[0]) & (t <= NARROW_BAND[1])),
                "lower": _side(grp, by_seed, t < NARROW_BAND[0]),
                "higher": _side(grp, by_seed, t > NARROW_BAND[1]),
            },
        }
    return out
