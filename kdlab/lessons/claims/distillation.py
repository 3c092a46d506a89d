"""Notebook 03's claims (§3): the distilled student beats the baseline, and the temperature sweep's claims.

Every figure the paper gives is the bar for ``holds`` (``judge.verdict``): the differences of its test errors (teacher
67, baseline 146, distilled 74, out of the same 10,000 MNIST test cases ours are) and the share of the
baseline–teacher gap the distilled net closes, (146 − 74) / (146 − 67) = 91 %. Below it, beyond noise, is ``weaker``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from kdlab.claim_record import Claims, mcnemar_noise
from kdlab.lessons.claims.judge import K_NOISE, beats, count_text, counts_noise, judge, noise_of, verdict
from kdlab.lessons.distillation_sweep import sweep_claims
from kdlab.paper import HIGH_T, MNIST_T, NARROW, NARROW_BAND, WIDE


def mnist_distillation_claims(
    claims: Claims,
    errors: dict[str, int | Sequence[int]],
    wrong: dict[str, Any],
    paper: dict[str, int],
    validation: dict[str, int | Sequence[int]] | None = None,
) -> None:
    """§3's headline: teacher < distilled < baseline, each beyond its noise and judged at the paper's difference, and
    the share of the gap the distilled net closes judged at the paper's 91 %.

    ``errors`` and ``paper`` map teacher / baseline / distilled to test errors — ours one count, or one per seed
    (``kdlab.lessons.distillation_seeds``; a single teacher is compared with every seed's student, so the seed spread
    is the students'). ``wrong`` maps them to the first seed's per-case booleans (wrong on test case i), for the
    McNemar noise of each comparison; the noise is the larger of that and the seed spread (``judge.noise_of``). With
    ``errors["matched"]`` and ``wrong``'s too (the matched baseline: the distilled net's epochs, early-stopped on
    validation), ``validation`` maps baseline and matched to their validation errors (per seed: their means decide),
    and ``03.distilled_beats_baseline`` is judged against the one with fewer — chosen on held-out training cases,
    never on the test set — with the other as its ``control``.
    """
    per = {k: [float(e) for e in _per_seed(v)] for k, v in errors.items()}
    val = None if validation is None else {k: _mean(_per_seed(v)) for k, v in validation.items()}
    versus, control = _baseline_for_distilled({k: _mean(v) for k, v in per.items()}, val)
    pt, pb, pd_ = paper["teacher"], paper["baseline"], paper["distilled"]
    pairs = (
        ("03.teacher_beats_baseline", "teacher", "baseline", pt, pb, "The big regularized teacher makes fewer "
         "test errors than the small net trained on hard labels."),
        ("03.distilled_beats_baseline", "distilled", versus, pd_, pb, "The small net trained on "
         f"the teacher's soft targets at T = {MNIST_T:g} makes fewer errors than the same net trained on hard labels."),
        ("03.teacher_beats_distilled", "teacher", "distilled", pt, pd_, "The teacher makes fewer test errors "
         "than its distilled student (the student does not surpass it)."),
    )  # fmt: skip
    for cid, better, worse, p_better, p_worse, statement in pairs:
        beats(
            claims,
            cid,
            "§3",
            statement,
            f"{better} {p_better} vs {'baseline' if worse == 'matched' else worse} {p_worse} errors",
            per[better],
            per[worse],
            mcnemar_noise(wrong[better], wrong[worse]),
            "errors",
            (better, "matched baseline" if worse == "matched" else worse),
            paper_figure=float(p_worse - p_better),
            control=control if cid == "03.distilled_beats_baseline" else None,
        )
    paper_closed = 100 * (pb - pd_) / (pb - pt)
    t, b, d = (_mean(per[k]) for k in ("teacher", "baseline", "distilled"))
    teachers = per["teacher"] * len(per["baseline"]) if len(per["teacher"]) == 1 else per["teacher"]
    gaps = [bs - ts for bs, ts in zip(per["baseline"], teachers)]
    closed = [100 * (bs - ds) / g if g > 0 else 0.0 for bs, ds, g in zip(per["baseline"], per["distilled"], gaps)]
    gap = b - t
    judge(
        claims,
        "03.distilled_closes_gap",
        "§3",
        "Distillation recovers most of the gap between the baseline and the teacher.",
        f"{paper_closed:.0f}% of the gap ({pb} → {pd_}, teacher {pt})",
        f"{_mean(closed):.0f}% of the gap ({count_text(b)} → {count_text(d)}, teacher {count_text(t)}{_over(per)})"
        if gap > 0
        else f"no gap to close: the baseline ({count_text(b)}) is not worse than the teacher ({count_text(t)})",
        closed,
        unit="% of the gap",
        test_noise=100 * mcnemar_noise(wrong["distilled"], wrong["baseline"]) / gap if gap > 0 else None,
        paper_figure=paper_closed,
        judged_by=f"the share closed must exceed {K_NOISE:g} × its noise (McNemar, baseline vs distilled, over the "
        "gap; or the seed spread of the share, the larger)",
    )


def _per_seed(v: int | float | Sequence[int]) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _mean(v: Sequence[float]) -> float:
    return sum(v) / len(v)


def _over(per: dict[str, list[float]]) -> str:
    n = max(len(v) for v in per.values())
    return f"; means over {n} seeds" if n > 1 else ""


def _baseline_for_distilled(
    errors: dict[str, float], validation: dict[str, float] | None
) -> tuple[str, dict[str, Any] | None]:
    """(which baseline ``03.distilled_beats_baseline`` is judged against, the other one as its control): the plain
    baseline alone when there is no matched one, else whichever has fewer validation errors (ties: the matched)."""
    if "matched" not in errors:
        return "baseline", None
    if validation is None or not {"baseline", "matched"} <= set(validation):
        raise ValueError("a matched baseline needs both baselines' validation errors to choose between them")
    versus = "matched" if validation["matched"] <= validation["baseline"] else "baseline"
    other = "baseline" if versus == "matched" else "matched"
    what = {
        "baseline": "the plain baseline (its own epochs, last epoch)",
        "matched": "the matched baseline (the distilled net's epochs, best epoch on validation)",
    }
    return versus, {
        "what": f"{what[other]}: not the comparison: it makes no fewer validation errors "
        f"({count_text(validation[other])} against {count_text(validation[versus])})",
        "value": float(errors[other]),
        "unit": "errors",
        "chosen": what[versus],
        "validation_errors": {k: round(float(validation[k]), 1) for k in ("baseline", "matched")},
    }


def _seeds(n: int) -> str:
    return f"{n} seed{'s' if n > 1 else ''}"


def sweep_claims_list(claims: Claims, sweep: pd.DataFrame) -> None:
    """§3's temperature claims on a sweep table (width, temperature, seed, test_errors), each only if testable, all
    from ``distillation_sweep.sweep_claims`` — the one reading of the sweep that ``metrics.json`` records too.

    * widest student: T ≥ 8 beats T = 1 beyond noise (why the paper distils at T = 20);
    * ≥ 300 units: "all temperatures above 8 gave fairly similar results" — the spread over T ≥ 8 at most a quarter of
      the spread over all T (needs two temperatures ≥ 8);
    * < 300 units: "temperatures in the range 2.5 to 4 worked significantly better than higher or lower" — the best T
      inside 2.5–4 beats the best lower T *and* the best higher T, each beyond its own noise (√(e₁ + e₂) or the seed
      spread of the difference, the larger); the side with the smaller margin decides and is recorded.
    """
    figures = sweep_claims(sweep)
    n = int(sweep["seed"].nunique())
    widest = max(figures)
    w = figures[widest]
    if w["t1_errors"] is not None and w["high_temperatures"]:
        t1, high = w["t1_errors"], w["high_t_errors"]
        e1, eh = sum(t1) / len(t1), sum(high) / len(high)
        judge(
            claims,
            "03.sweep_high_t_beats_t1",
            "§3",
            f"A wide student ({widest} units) distils better at high temperature (T ≥ {HIGH_T:g}) than at T = 1.",
            f"T = {MNIST_T:g} chosen for the 800-unit student",
            f"T ≥ {HIGH_T:g} (mean) {eh:.0f} vs T = 1 {e1:.0f} errors ({_seeds(n)})",
            [a - h for a, h in zip(t1, high)],
            unit="errors",
            test_noise=counts_noise(e1, eh),
            test_source="test set (√ of the two error counts)",
            judged_by=f"errors at T = 1 minus the mean over T ≥ {HIGH_T:g} must exceed {K_NOISE:g} × noise",
        )
    for width in sorted(figures, reverse=True):
        f = figures[width]
        if width >= WIDE and f["high_t_spread"] is not None:
            spread, spread_all = f["high_t_spread"], f["all_t_spread"]
            judge(
                claims,
                f"03.sweep_high_t_similar_{width}",
                "§3",
                f"With {width} units per layer, all temperatures of {HIGH_T:g} and above give fairly similar results.",
                f"all temperatures above {HIGH_T:g} fairly similar (≥ {WIDE} units)",
                f"{spread:g} errors apart over T = {', '.join(f'{t:g}' for t in f['high_temperatures'])} "
                f"({_seeds(n)}), against {spread_all:g} over all T",
                spread,
                unit="errors",
                test_noise=None,
                seeds=n,
                threshold=0.25 * spread_all,
                lower_is_better=True,
                judged_by=f"the spread over T ≥ {HIGH_T:g} must be under a quarter of the spread over all T",
            )
        mid = f["mid_t"]
        if width < WIDE and mid["inside"] and mid["lower"] and mid["higher"]:
            _mid_t_claim(claims, width, mid, n)


def _mid_t_claim(claims: Claims, width: int, mid: dict[str, Any], n: int) -> None:
    """The 30-unit claim: inside 2.5–4 beats the lower side and the higher side, each beyond its noise."""
    inside = mid["inside"]
    sides = {}
    for name in ("lower", "higher"):
        side = mid[name]
        effect = [o - i for o, i in zip(side["errors"], inside["errors"])]
        noise, _ = noise_of(counts_noise(inside["mean_errors"], side["mean_errors"]), effect)
        sides[name] = (verdict(sum(effect) / len(effect), noise)[1], side, effect)
    deciding = min(sides, key=lambda k: sides[k][0])
    _, side, effect = sides[deciding]
    words = "; ".join(
        f"best {k} T = {s['temperature']:g}: {s['mean_errors']:.0f} (+{s['mean_errors'] - inside['mean_errors']:.0f})"
        for k, (_, s, _) in sides.items()
    )
    judge(
        claims,
        f"03.sweep_mid_t_best_{width}",
        "§3",
        f"With only {width} units per layer, temperatures from {NARROW_BAND[0]:g} to {NARROW_BAND[1]:g} work "
        "significantly better than higher or "
        "lower ones.",
        f"T in {NARROW_BAND[0]:g}–{NARROW_BAND[1]:g} significantly better ({NARROW} units)",
        f"best T in {NARROW_BAND[0]:g}–{NARROW_BAND[1]:g} = {inside['temperature']:g}: {inside['mean_errors']:.0f} errors; {words} ({_seeds(n)}); "
        f"the {deciding} side decides",
        effect,
        unit="errors",
        test_noise=counts_noise(inside["mean_errors"], side["mean_errors"]),
        test_source="test set (√ of the two error counts)",
        judged_by=f"the best T in {NARROW_BAND[0]:g}–{NARROW_BAND[1]:g} must beat the best lower T and the best higher T, each by more than "
        f"{K_NOISE:g} × its noise (the {deciding} side, with the smaller margin, is recorded)",
    )
