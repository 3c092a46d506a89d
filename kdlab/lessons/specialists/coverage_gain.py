"""Table 4's trend (§5.5): does the gain grow with the number of specialists covering the correct class?

The paper groups JFT's test cases by how many specialists cover their correct class and reports the relative
accuracy change per group: +3.4 % with one specialist, rising to +16.6 % with nine (``kdlab.paper.TABLE4``). One
number summarizes that trend here: the least-squares **slope** of the relative change (in %) against the number of
covering specialists, over the covered groups (one or more specialists; "10 or more" counted as 10) that hold at
least ``min_cases`` test cases. Its noise is a **bootstrap over test cases** (resample the test set with
replacement, recompute every group's change and the slope; the standard deviation of those slopes), which carries
both the few cases of a small group and the flips of the large ones. ``paper_slope`` is the same slope of the
paper's own Table 4, the figure a trend must reach to hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from kdlab.lessons.specialists.evaluation import coverage_counts
from kdlab.paper import TABLE4


def slope(n: np.ndarray, gain: np.ndarray) -> float:
    """Least-squares slope of ``gain`` against ``n`` over the finite points; NaN with fewer than two distinct n."""
    n, gain = np.asarray(n, dtype=float), np.asarray(gain, dtype=float)
    ok = np.isfinite(gain)
    if len(np.unique(n[ok])) < 2:
        return float("nan")
    x = n[ok] - n[ok].mean()
    return float((x * (gain[ok] - gain[ok].mean())).sum() / (x * x).sum())


def paper_slope() -> float:
    """The slope of Table 4's relative accuracy change (%) against the number of covering specialists, 1 to "10 or
    more" (as 10): the strength of the paper's trend, in % per specialist."""
    n = [10 if k.startswith("10") else int(k) for k in TABLE4["n_specialists"]]
    pairs = [(k, g) for k, g in zip(n, TABLE4["relative_accuracy_change"]) if k > 0]
    return slope(np.array([k for k, _ in pairs]), np.array([g for _, g in pairs]))


def _gains(ok_before: np.ndarray, ok_after: np.ndarray, cover: np.ndarray, buckets: np.ndarray) -> np.ndarray:
    """Relative change (%) of the number correct in each bucket; NaN where nothing was correct before."""
    size = int(buckets.max()) + 1
    nb = np.bincount(cover, weights=ok_before, minlength=size)[buckets]
    na = np.bincount(cover, weights=ok_after, minlength=size)[buckets]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(nb > 0, 100 * (na - nb) / nb, np.nan)


def coverage_gain_trend(
    before: torch.Tensor,
    after: torch.Tensor,
    labels: torch.Tensor,
    specialist_classes: Sequence[np.ndarray],
    num_classes: int,
    *,
    min_cases: int = 20,
    n_boot: int = 200,
    seed: int = 0,
    max_bucket: int = 10,
) -> dict:
    """The slope of the per-bucket relative accuracy change against coverage, and its bootstrap noise.

    Returns ``buckets`` (number of covering specialists, the covered ones with ≥ ``min_cases`` test cases),
    ``cases`` and ``gain`` (%) per bucket, ``slope`` (% per specialist; NaN with fewer than two buckets), ``se``
    (bootstrap SD of the slope; NaN likewise) and ``dropped`` (covered buckets left out for having too few cases)."""
    if n_boot < 2:
        raise ValueError(f"n_boot must be ≥ 2, got {n_boot}")
    y = labels.cpu().numpy()
    cover = np.minimum(coverage_counts(specialist_classes, num_classes)[y], max_bucket)
    ok_before = (before.cpu().argmax(-1).numpy() == y).astype(float)
    ok_after = (after.cpu().argmax(-1).numpy() == y).astype(float)
    counts = np.bincount(cover, minlength=max_bucket + 1)
    covered = np.flatnonzero(counts[1:]) + 1
    buckets = covered[counts[covered] >= min_cases]
    out = {
        "buckets": buckets.tolist(),
        "cases": counts[buckets].tolist(),
        "dropped": [int(b) for b in covered if b not in set(buckets.tolist())],
        "slope": float("nan"),
        "se": float("nan"),
        "gain": [],
    }
    if not len(buckets):
        return out
    gain = _gains(ok_before, ok_after, cover, buckets)
    out["gain"] = gain.tolist()
    out["slope"] = slope(buckets, gain)
    if len(buckets) >= 2:
        rng = np.random.default_rng(seed)
        boot = []
        for _ in range(n_boot):
            idx = rng.integers(len(y), size=len(y))
            boot.append(slope(buckets, _gains(ok_before[idx], ok_after[idx], cover[idx], buckets)))
        boot = np.asarray(boot)
        out["se"] = float(np.nanstd(boot[np.isfinite(boot)], ddof=1)) if np.isfinite(boot).sum() >= 2 else float("nan")
    return out
