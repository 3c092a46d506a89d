"""Notebook 03's claims (§3): the distilled student beats the baseline, and the temperature sweep's three claims."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from kdlab.claim_record import Claims, mcnemar_noise
from kdlab.lessons.claims.judge import beats
from kdlab.paper import HIGH_T, MNIST_T, NARROW, NARROW_BAND, WIDE


def mnist_distillation_claims(
    claims: Claims, errors: dict[str, int], wrong: dict[str, Any], paper: dict[str, int]
) -> None:
    """§3's headline: teacher < distilled < baseline, and the distilled net recovers most of the gap.

    ``errors`` and ``paper`` map teacher / baseline / distilled to test errors; ``wrong`` to per-case booleans
    (wrong on test case i), for the McNemar noise of each comparison.
    """
    t, b, d = errors["teacher"], errors["baseline"], errors["distilled"]
    pt, pb, pd_ = paper["teacher"], paper["baseline"], paper["distilled"]
    beats(
        claims,
        "03.teacher_beats_baseline",
        "§3",
        "The big regularized teacher makes fewer test errors than the small net trained on hard labels.",
        f"teacher {pt} vs baseline {pb} errors",
        t,
        b,
        mcnemar_noise(wrong["teacher"], wrong["baseline"]),
        "errors",
        ("teacher", "baseline"),
    )
    beats(
        claims,
        "03.distilled_beats_baseline",
        "§3",
        f"The small net trained on the teacher's soft targets at T = {MNIST_T:g} makes fewer errors than the same net "
        "trained on hard labels.",
        f"distilled {pd_} vs baseline {pb} errors",
        d,
        b,
        mcnemar_noise(wrong["distilled"], wrong["baseline"]),
        "errors",
        ("distilled", "baseline"),
    )
    claims.add(
        id="03.teacher_beats_distilled",
        section="§3",
        statement="The distilled student does not surpass its teacher.",
        paper=f"teacher {pt} vs distilled {pd_} errors",
        ours=f"teacher {t} vs distilled {d} errors",
        holds=t < d,
        margin=d - t,
        noise=mcnemar_noise(wrong["teacher"], wrong["distilled"]),
        judged_by="teacher errors < distilled errors",
    )
    closed = (b - d) / (b - t) if b > t else None
    paper_closed = (pb - pd_) / (pb - pt)
    claims.add(
        id="03.distilled_closes_gap",
        section="§3",
        statement="Distillation recovers most of the gap between the baseline and the teacher.",
        paper=f"{paper_closed:.0%} of the gap ({pb} → {pd_}, teacher {pt})",
        ours=(
            f"{closed:.0%} of the gap ({b} → {d}, teacher {t})"
            if closed is not None
            else f"no gap to close: the baseline ({b}) is not worse than the teacher ({t})"
        ),
        holds=closed is not None and closed >= 0.5,
        margin=None if closed is None else closed - 0.5,
        judged_by="at least half of the baseline–teacher gap closed",
    )


def sweep_claims_list(claims: Claims, sweep: pd.DataFrame) -> None:
    """§3's temperature claims on a sweep table (width, temperature, seed, test_errors), each only if testable.

    * widest student: T ≥ 8 beats T = 1 (why the paper distils at T = 20);
    * ≥ 300 units: "all temperatures above 8 gave fairly similar results" — the spread over T ≥ 8 at most a
      quarter of the spread over all T (needs two temperatures ≥ 8);
    * < 300 units: "temperatures in the range 2.5 to 4 worked significantly better than higher or lower" — the
      best T inside 2.5–4 and the mean inside below the mean outside.
    """
    means = sweep.groupby(["width", "temperature"])["test_errors"].mean().reset_index()
    n_seeds = int(sweep["seed"].nunique())
    seeds = f"{n_seeds} seed{'s' if n_seeds > 1 else ''}"
    widest = int(means["width"].max())
    lo, hi = NARROW_BAND
    g = means[means.width == widest].set_index("temperature")["test_errors"]
    if 1.0 in g.index and (g.index >= HIGH_T).any():
        e1, eh = float(g.loc[1.0]), float(g[g.index >= HIGH_T].mean())
        beats(
            claims,
            "03.sweep_high_t_beats_t1",
            "§3",
            f"A wide student ({widest} units) distils better at high temperature (T ≥ {HIGH_T:g}) than at T = 1.",
            f"T = {MNIST_T:g} chosen for the 800-unit student",
            eh,
            e1,
            math.sqrt(e1 + eh),
            "errors",
            (f"T ≥ {HIGH_T:g} (mean)", "T = 1"),
        )
    for width in sorted(means["width"].unique(), reverse=True):
        g = means[means.width == width].set_index("temperature")["test_errors"]
        if width >= WIDE and (g.index >= HIGH_T).sum() >= 2:
            high, spread_all = g[g.index >= HIGH_T], float(g.max() - g.min())
            spread = float(high.max() - high.min())
            claims.add(
                id=f"03.sweep_high_t_similar_{int(width)}",
                section="§3",
                statement=f"With {int(width)} units per layer, all temperatures of {HIGH_T:g} and above give fairly "
                "similar results.",
                paper=f"all temperatures above {HIGH_T:g} fairly similar (≥ {WIDE} units)",
                ours=f"{spread:g} errors apart over T = {', '.join(f'{t:g}' for t in high.index)} "
                f"({seeds}), against {spread_all:g} over all T",
                holds=spread <= 0.25 * spread_all,
                margin=0.25 * spread_all - spread,
                noise=None,
                judged_by=f"spread over T ≥ {HIGH_T:g} at most a quarter of the spread over all T",
            )
        inside, outside = g[(g.index >= lo) & (g.index <= hi)], g[(g.index < lo) | (g.index > hi)]
        if width < WIDE and len(inside) and len(outside):
            best = float(g.idxmin())
            claims.add(
                id=f"03.sweep_mid_t_best_{int(width)}",
                section="§3",
                statement=f"With only {int(width)} units per layer, temperatures from {lo:g} to {hi:g} work better "
                "than higher or lower ones.",
                paper=f"T in {lo:g}–{hi:g} significantly better ({NARROW} units)",
                ours=f"best T = {best:g}; mean {inside.mean():.0f} errors inside {lo:g}–{hi:g} against "
                f"{outside.mean():.0f} outside ({seeds})",
                holds=lo <= best <= hi and inside.mean() < outside.mean(),
                margin=float(outside.mean() - inside.mean()),
                noise=None,
                judged_by=f"the best T lies in {lo:g}–{hi:g} and the mean errors inside are below those outside",
            )
