"""§6.1, measured so that a specialist that learned nothing cannot pass: NLL on its own classes, held-out cases.

§6.1 expects specialists with a full softmax and the generalist's soft targets on the other classes to overfit less
than dustbin specialists. "Overfit less" alone is easy to satisfy by not learning: a copy of the generalist that never
moves has no rise at all. So each specialist is read on the **held-out training cases** of its own classes (the
``val`` curves of ``train_specialists``: conditional NLL, softmax over S^m), where step 0 is the generalist it was
copied from, and two numbers are taken per specialist and kind:

- ``improvement`` = NLL at step 0 − NLL at the end: positive when the specialist ends better than the generalist;
- ``rise`` = NLL at the end − its minimum over training: how far it climbed back from its best (overfitting).

The claim needs both: the soft kind must improve on the generalist (beyond the spread over specialists) *and*
rise less than the dustbin kind (the paired difference per specialist, beyond its spread). Noise is the standard
error of the mean over specialists (every specialist is an independent replicate of the experiment).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

KINDS = ("dustbin", "soft")


def own_class_nll(curves: pd.DataFrame, split: str = "val") -> pd.DataFrame:
    """One row per (kind, specialist): conditional NLL on ``split`` at step 0, at the end and at its minimum, and the
    ``improvement`` and ``rise`` the module docstring defines."""
    part = curves[curves.split == split]
    if part.empty:
        raise ValueError(f"no {split!r} curves: train the specialists with held-out cases (x_val, y_val)")
    rows = []
    for (kind, m), g in part.sort_values("step").groupby(["kind", "specialist"]):
        start, final, low = g.cond_nll.iloc[0], g.cond_nll.iloc[-1], g.cond_nll.min()
        rows.append({"kind": kind, "specialist": int(m), "start": start, "final": final, "min": low,
                     "improvement": start - final, "rise": final - low})  # fmt: skip
    return pd.DataFrame(rows)


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the mean (NaN s.e. with fewer than two values)."""
    v = np.asarray(values, dtype=float)
    se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) >= 2 else float("nan")
    return float(v.mean()), se


def overfit_summary(per: pd.DataFrame) -> dict:
    """Means and standard errors over specialists: each kind's improvement and rise, and the paired difference
    ``rise_gap`` = dustbin rise − soft rise (positive: the soft kind overfits less)."""
    by = {k: per[per.kind == k].set_index("specialist").sort_index() for k in KINDS}
    if any(by[k].empty for k in KINDS) or list(by["dustbin"].index) != list(by["soft"].index):
        raise ValueError("both kinds must be measured on the same specialists")
    out: dict = {"n_specialists": len(by["soft"])}
    for k in KINDS:
        out[f"{k}_improvement"], out[f"{k}_improvement_se"] = _mean_se(by[k].improvement)
        out[f"{k}_rise"], out[f"{k}_rise_se"] = _mean_se(by[k].rise)
    out["rise_gap"], out["rise_gap_se"] = _mean_se(by["dustbin"].rise.to_numpy() - by["soft"].rise.to_numpy())
    return out
