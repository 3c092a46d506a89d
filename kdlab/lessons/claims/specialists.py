"""Notebook 06's claims (§5, §6): specialists improve a converged generalist beyond what the same compute buys it;
their gain grows with coverage (Table 4); soft targets keep them from overfitting (§6.1)."""

from __future__ import annotations

import dataclasses
import math

from kdlab.claim_record import Claim, Claims
from kdlab.lessons.claims.judge import K_NOISE, judge, noise_of, verdict
from kdlab.paper import N_SPECIALISTS, TABLE3, TABLE3_RELATIVE, TABLE4

PAPER_ACC = tuple(TABLE3["test accuracy (%)"])  # §5 Table 3: JFT test accuracy (%), generalist alone and with them


def _fail(claims: Claims, claim: Claim, why: str) -> Claim:
    """Replace ``claim`` by the same claim with verdict "does not hold" and ``why`` added to its rule: a
    precondition of the claim was not met, whatever its main effect says."""
    return claims.append(
        dataclasses.replace(claim, verdict="does not hold", judged_by=f"{claim.judged_by}; not met here: {why}")
    )


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def beat_generalist_claim(claims: Claims, runs: list[dict], *, n_test: int) -> Claim:
    """§5, Table 3: generalist + specialists (eq. 5) beat the reference chosen on validation, per seed.

    Each of ``runs`` (one per seed, the notebook's own first; ``replicates.replicate`` makes the others) has
    ``spec_acc``, ``n_specialists``, ``references`` — a name ("converged generalist", "compute-matched control") →
    ``{"acc": test accuracy, "val_acc": validation accuracy, "what": words, "change": paired_change(reference →
    specialists)}`` — and ``reference``, the one chosen on held-out training cases (``controls.pick_reference``).
    The effect is the specialists' net change against it (% relative accuracy; McNemar noise of the first seed, or
    the seed spread if larger); the other reference is recorded in ``control``. Whatever validation chose, the claim
    does not hold when a reference is more accurate on test than the specialists (mean over seeds): a run's own
    control doing better rules the gain out."""
    first = runs[0]
    reference = first["reference"]
    ref = first["references"][reference]
    net, se, base = ref["change"]["net"], ref["change"]["se"], ref["acc"]
    values = [
        100 * r["references"][r["reference"]]["change"]["net"] / (n_test * r["references"][r["reference"]]["acc"])
        for r in runs
    ]
    names = list(first["references"])
    mean_acc = {k: _mean(r["references"][k]["acc"] for r in runs) for k in names}
    spec_acc = _mean(r["spec_acc"] for r in runs)
    others = [k for k in names if k != reference]
    other = first["references"][others[0]] if others else None
    listed = "; ".join(
        f"{k} {r['acc']:.2%} test, {r['val_acc']:.2%} validation ({r['change']['net']:+d} for the specialists)"
        for k, r in first["references"].items()
    )
    seeds = (
        ""
        if len(runs) == 1
        else f"; mean over {len(runs)} seeds: specialists {spec_acc:.2%}, "
        + ", ".join(f"{k} {v:.2%}" for k, v in mean_acc.items())
    )
    claim = judge(
        claims,
        "06.specialists_beat_generalist",
        "§5, Table 3",
        "Specialists combined with the generalist by eq. 5 classify more test images correctly than the generalist "
        "alone — here a generalist trained to convergence, and the same generalist given the specialists' compute.",
        f"{PAPER_ACC[0]} % → {PAPER_ACC[1]} % test accuracy ({TABLE3_RELATIVE:g} % relative; {N_SPECIALISTS} "
        "specialists, against a generalist trained for six months)",
        f"specialists {first['spec_acc']:.2%} ({first['n_specialists']} specialists; {net:+d} of {n_test} test "
        f"images against the {reference}, {ref['change']['fixed']} fixed, {ref['change']['broken']} broken); "
        f"{listed}{seeds}",
        values,
        unit="% relative accuracy gain",
        test_noise=100 * se / (n_test * base),
        paper_figure=TABLE3_RELATIVE,
        control=None
        if other is None
        else {"what": other["what"], "value": 100 * other["acc"], "unit": "% test accuracy"},
        judged_by=f"the specialists' net change against the reference with the best validation accuracy (here: the "
        f"{reference}) must exceed {K_NOISE:g} × noise, and no reference may be more accurate on test",
    )
    better = [k for k in names if mean_acc[k] > spec_acc]
    if better and claim.verdict != "does not hold":
        return _fail(claims, claim, f"the {better[0]} is more accurate on test ({mean_acc[better[0]]:.2%})")
    return claim


def gain_grows_claim(claims: Claims, trends: list[dict], paper_slope: float) -> Claim:
    """§5, Table 4: the relative gain grows with the number of specialists covering the correct class. Each of
    ``trends`` (one per seed) is ``coverage_gain.coverage_gain_trend`` (slope in % per specialist, bootstrap s.e.);
    with fewer than two covered buckets of enough test cases in a seed there is no trend to measure and the claim
    does not hold."""
    trend = trends[0]
    buckets = ", ".join(
        f"{b}: {g:+.1f} % ({n} images)" for b, g, n in zip(trend["buckets"], trend["gain"], trend["cases"])
    )
    if len(trend["buckets"]) < 2:
        result = (
            f"only {len(trend['buckets'])} covered bucket(s) with enough test images ({buckets or 'none'}): "
            "no trend can be measured"
        )
    else:
        result = f"slope {trend['slope']:+.2f} % per specialist over buckets {buckets}"
    if trend["dropped"]:
        result += f"; buckets {trend['dropped']} left out (too few images)"
    if len(trends) > 1:
        result += "; slopes over seeds " + ", ".join(f"{t['slope']:+.2f}" for t in trends)
    covered = TABLE4["relative_accuracy_change"][1:]
    slopes = [t["slope"] for t in trends]
    claim = judge(
        claims,
        "06.gain_grows_with_specialists",
        "§5, Table 4",
        "The more specialists cover a test case's correct class, the larger the relative accuracy gain.",
        f"{covered[0]:g} % (one specialist) → {max(covered):g} % (nine); slope {paper_slope:.2f} % per specialist",
        result,
        slopes if all(map(math.isfinite, slopes)) else float("nan"),  # a seed without a trend: no trend to judge
        unit="% relative gain per covering specialist",
        test_noise=trend["se"] if math.isfinite(trend["se"]) else None,
        test_source="bootstrap over test cases",
        seeds=len(trends),
        paper_figure=paper_slope,
        judged_by=f"the least-squares slope of the per-bucket relative gain against the number of covering specialists "
        f"(≥ 2 buckets) must exceed {K_NOISE:g} × its noise (bootstrap s.e., or the seed spread if larger)",
    )
    if claim.verdict != "does not hold" and not all(math.isfinite(t["se"]) for t in trends):
        return _fail(claims, claim, "a seed had too few buckets, or no bootstrap noise could be measured")
    return claim


def overfit_less_claim(claims: Claims, summaries: list[dict]) -> Claim:
    """§6.1: soft-target specialists overfit less than dustbin ones. Each of ``summaries`` (one per seed) is
    ``overfitting.overfit_summary`` on held-out training cases: the effect is the dustbin rise − the soft rise (nats;
    noise: the s.e. over specialists, or the seed spread if larger), and the soft specialists must also have improved
    on the generalist they started from — a specialist that learned nothing neither rises nor improves, and cannot
    pass."""
    summary = summaries[0]
    n = summary["n_specialists"]
    se = summary["rise_gap_se"]
    improvement = [s["soft_improvement"] for s in summaries]
    seeds = (
        "" if len(summaries) == 1 else "; rise gaps over seeds " + ", ".join(f"{s['rise_gap']:+.3f}" for s in summaries)
    )
    claim = judge(
        claims,
        "06.soft_specialists_overfit_less",
        "§6.1",
        "Specialists trained with the generalist's soft targets for the other classes overfit less than dustbin "
        "specialists on the same small data, while still improving on the generalist.",
        "proposed (§6.1), not measured",
        f"on held-out training cases of their own classes ({n} specialists): NLL rise from its minimum "
        f"{summary['soft_rise']:.3f} (soft) vs {summary['dustbin_rise']:.3f} (dustbin) nats; improvement on the "
        f"generalist {summary['soft_improvement']:+.3f} ± {summary['soft_improvement_se']:.3f} (soft), "
        f"{summary['dustbin_improvement']:+.3f} ± {summary['dustbin_improvement_se']:.3f} (dustbin){seeds}",
        [s["rise_gap"] for s in summaries],
        unit="nats",
        test_noise=se if math.isfinite(se) else None,
        test_source="spread over specialists (s.e. of the mean)",
        judged_by=f"the dustbin rise minus the soft rise of the held-out NLL must exceed {K_NOISE:g} × its noise, and "
        f"the soft specialists' NLL must end below the generalist's by {K_NOISE:g} × noise",
    )
    if claim.verdict == "does not hold":
        return claim
    if n < 2 or not math.isfinite(se):
        return _fail(claims, claim, f"{n} specialist(s): no spread to measure the noise with")
    noise, _ = noise_of(summary["soft_improvement_se"], improvement)
    improved, _ = verdict(_mean(improvement), noise)
    if improved == "does not hold":
        return _fail(claims, claim, "the soft specialists did not improve on the generalist beyond noise")
    return claim


def specialist_claims(claims: Claims, runs: list[dict], *, n_test: int, paper_slope: float) -> None:
    """Notebook 06's three claims, in the order the notebook prints them; ``runs`` has one entry per seed (the
    notebook's own first), each with what ``replicates.replicate`` returns."""
    if not runs:
        raise ValueError("specialist_claims needs at least one run")
    beat_generalist_claim(claims, runs, n_test=n_test)
    gain_grows_claim(claims, [r["trend"] for r in runs], paper_slope)
    overfit_less_claim(claims, [r["overfit"] for r in runs])
