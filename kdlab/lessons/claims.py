"""Each lesson's paper claims, judged on a run's own numbers (``kdlab.claims`` holds the record format).

Why one module: the rules that decide "holds" are the lab's scientific judgement, so they sit in one place, next
to each other, with the noise yardstick each one uses. Notebooks pass numbers in and print the verdicts; no
notebook decides a verdict in its own prose.

Yardsticks: two classifiers scored on the same test cases are compared by McNemar's noise √(discordant cases)
(``kdlab.claims.mcnemar_noise``), and a difference counts when it exceeds twice that. Where only error counts are
known (a sweep table), √(e₁ + e₂) stands in for it — an upper bound on √(discordant), so the rule is conservative.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from kdlab.claims import Claims, mcnemar_noise

K_NOISE = 2.0  # a difference "counts" beyond this many noise units (≈ 95 % for a normal approximation)


def _beats(
    claims: Claims,
    cid: str,
    section: str,
    statement: str,
    paper: str,
    better: float,
    worse: float,
    noise: float,
    unit: str,
    names: tuple[str, str],
) -> None:
    """``better`` < ``worse`` by more than K_NOISE × noise (errors: lower is better)."""
    margin = (worse - better) - K_NOISE * noise
    claims.add(
        id=cid,
        section=section,
        statement=statement,
        paper=paper,
        ours=f"{names[0]} {better:g} vs {names[1]} {worse:g} {unit}",
        holds=margin > 0,
        margin=margin,
        noise=noise,
        judged_by=f"the difference must exceed {K_NOISE:g} × noise ({noise:.1f} {unit})",
    )


# ------------------------------------------------------------------------------------------------- notebook 03
def mnist_distillation_claims(
    claims: Claims, errors: dict[str, int], wrong: dict[str, Any], paper: dict[str, int]
) -> None:
    """§3's headline: teacher < distilled < baseline, and the distilled net recovers most of the gap.

    ``errors`` and ``paper`` map teacher / baseline / distilled to test errors; ``wrong`` to per-case booleans
    (wrong on test case i), for the McNemar noise of each comparison.
    """
    t, b, d = errors["teacher"], errors["baseline"], errors["distilled"]
    pt, pb, pd_ = paper["teacher"], paper["baseline"], paper["distilled"]
    _beats(
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
    _beats(
        claims,
        "03.distilled_beats_baseline",
        "§3",
        "The small net trained on the teacher's soft targets at T = 20 makes fewer errors than the same net "
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
    g = means[means.width == widest].set_index("temperature")["test_errors"]
    if 1.0 in g.index and (g.index >= 8).any():
        e1, eh = float(g.loc[1.0]), float(g[g.index >= 8].mean())
        _beats(
            claims,
            "03.sweep_high_t_beats_t1",
            "§3",
            f"A wide student ({widest} units) distils better at high temperature (T ≥ 8) than at T = 1.",
            "T = 20 chosen for the 800-unit student",
            eh,
            e1,
            math.sqrt(e1 + eh),
            "errors",
            ("T ≥ 8 (mean)", "T = 1"),
        )
    for width in sorted(means["width"].unique(), reverse=True):
        g = means[means.width == width].set_index("temperature")["test_errors"]
        if width >= 300 and (g.index >= 8).sum() >= 2:
            high, spread_all = g[g.index >= 8], float(g.max() - g.min())
            spread = float(high.max() - high.min())
            claims.add(
                id=f"03.sweep_high_t_similar_{int(width)}",
                section="§3",
                statement=f"With {int(width)} units per layer, all temperatures of 8 and above give fairly "
                "similar results.",
                paper="all temperatures above 8 fairly similar (≥ 300 units)",
                ours=f"{spread:g} errors apart over T = {', '.join(f'{t:g}' for t in high.index)} "
                f"({seeds}), against {spread_all:g} over all T",
                holds=spread <= 0.25 * spread_all,
                margin=0.25 * spread_all - spread,
                noise=None,
                judged_by="spread over T ≥ 8 at most a quarter of the spread over all T",
            )
        inside, outside = g[(g.index >= 2.5) & (g.index <= 4)], g[(g.index < 2.5) | (g.index > 4)]
        if width < 300 and len(inside) and len(outside):
            best = float(g.idxmin())
            claims.add(
                id=f"03.sweep_mid_t_best_{int(width)}",
                section="§3",
                statement=f"With only {int(width)} units per layer, temperatures from 2.5 to 4 work better "
                "than higher or lower ones.",
                paper="T in 2.5–4 significantly better (30 units)",
                ours=f"best T = {best:g}; mean {inside.mean():.0f} errors inside 2.5–4 against "
                f"{outside.mean():.0f} outside ({seeds})",
                holds=2.5 <= best <= 4 and inside.mean() < outside.mean(),
                margin=float(outside.mean() - inside.mean()),
                noise=None,
                judged_by="the best T lies in 2.5–4 and the mean errors inside are below those outside",
            )


# ------------------------------------------------------------------------------------------------- notebook 04
def missing_class_claims(
    claims: Claims,
    *,
    omit3_before: dict,
    omit3_after: dict,
    omit3_shift: float,
    only78_before: dict,
    only78_after: dict,
    only78_shift: float,
    wrong_before: Any,
    wrong_after: Any,
) -> None:
    """§3's missing-class results, with every shift chosen on held-out training cases (never the test set).

    The ``*_before`` / ``*_after`` dicts are ``kdlab.lessons.bias.errors_at`` results on the test set; ``wrong_*`` are the
    no-3 student's per-case mistakes before and after its shift (McNemar noise of the change in total errors).
    """
    b3, a3 = omit3_before["errors_on_classes"], omit3_after["errors_on_classes"]
    claims.add(
        id="04.omit3_shift_fixes_3s",
        section="§3",
        statement="Raising the output bias of a class missing from the transfer set (3) repairs most of the "
        "student's errors on it — at least half of them.",
        paper="errors on 3s 133 → 14 at +3.5",
        ours=f"errors on 3s {b3} → {a3} at {omit3_shift:+.1f}",
        holds=a3 <= b3 / 2,
        margin=b3 / 2 - a3,
        judged_by="errors on 3s at most half of those before the shift",
    )
    noise = mcnemar_noise(wrong_before, wrong_after)
    _beats(
        claims,
        "04.omit3_shift_lowers_total",
        "§3",
        "The same bias shift lowers the no-3 student's total test errors.",
        "206 → 109 errors",
        omit3_after["total_errors"],
        omit3_before["total_errors"],
        noise,
        "errors",
        ("after", "before"),
    )
    r0, r1 = only78_before["error_rate"], only78_after["error_rate"]
    claims.add(
        id="04.only78_shift_halves_errors",
        section="§3",
        statement="A student that saw only 7s and 8s errs far less once the biases of 7 and 8 are lowered — "
        "at least twice less.",
        paper="47.3 % → 13.2 % at −7.6",
        ours=f"{r0:.1f} % → {r1:.1f} % at {only78_shift:+.1f}",
        holds=r1 <= r0 / 2,
        margin=r0 / 2 - r1,
        judged_by="error rate at most half of that before the shift",
    )


# ------------------------------------------------------------------------------------------------- notebook 05
def speech_claims(claims: Claims, summary: dict[str, Any], n_frames: dict[str, int], table5: pd.DataFrame) -> None:
    """§4 Table 1 (ensemble gain, and the share of it a distilled single model keeps) and §6 Table 5.

    ``summary`` is ``speech_experiment.summarize_table1``'s dict; ``n_frames`` the test frames per split, for the
    binomial noise of an accuracy difference (frames of one utterance are correlated, so it understates the noise:
    the ensemble's gain must also be at least one point).
    """
    for split in ("seen", "unseen"):
        b, e = summary[f"baseline_frame_acc_{split}"], summary[f"ensemble_frame_acc_{split}"]
        d = summary[f"distilled_frame_acc_{split}"]
        p = (b + e) / 200
        noise = 100 * math.sqrt(2 * p * (1 - p) / n_frames[split])
        margin = min(e - b - K_NOISE * noise, e - b - 1.0)
        claims.add(
            id=f"05.ensemble_beats_baseline_{split}",
            section="§4, Table 1",
            statement=f"Ten models averaged beat a single one ({split} speakers).",
            paper="frame accuracy 58.9 % → 61.1 %",
            ours=f"{b:.1f} % → {e:.1f} %",
            holds=margin > 0,
            margin=margin,
            noise=noise,
            judged_by=f"gain above {K_NOISE:g} × binomial noise ({noise:.2f} points) and at least 1 point",
        )
        kept = summary.get(f"gain_kept_{split}")
        claims.add(
            id=f"05.distilled_keeps_gain_{split}",
            section="§4, Table 1",
            statement=f"One model distilled from the ensemble keeps most of its gain ({split} speakers).",
            paper="60.8 % of 58.9 → 61.1 %: 86 % of the gain kept",
            ours=(
                f"{d:.1f} % of {b:.1f} → {e:.1f} %: {kept:.0%} of the gain kept"
                if kept is not None
                else f"{d:.1f} %; the ensemble gained nothing to keep"
            ),
            holds=kept is not None and e > b and kept >= 0.5,
            margin=None if kept is None else kept - 0.5,
            judged_by="at least half of the ensemble's gain kept (the paper: more than 80 %)",
        )
    t = table5.set_index("system")
    hard = float(t.loc["baseline (3% of training set)", "test_frame_acc"])
    soft = float(t.loc["soft targets (3% of training set)", "test_frame_acc"])
    claims.add(
        id="05.soft_targets_regularize",
        section="§6, Table 5",
        statement="On 3 % of the data, soft targets from a full-data model beat hard targets by a wide margin.",
        paper="57.0 % vs 44.5 % test frame accuracy",
        ours=f"{soft:.1f} % vs {hard:.1f} %",
        holds=soft - hard >= 5,
        margin=soft - hard - 5,
        judged_by="soft beats hard by at least 5 points",
    )


# ------------------------------------------------------------------------------------------------- notebook 06
def specialist_claims(
    claims: Claims,
    *,
    gen_acc: float,
    spec_acc: float,
    change: dict,
    n_test: int,
    n_specialists: int,
    nll_rise: dict[str, float],
) -> None:
    """§5 (Table 3: specialists combined by eq. 5 beat the generalist) and §6.1 (soft-target specialists overfit
    less than dustbin ones). ``change`` is ``specialist_experiments.paired_change`` (McNemar's √(fixed + broken))."""
    margin = change["net"] - K_NOISE * change["se"]
    claims.add(
        id="06.specialists_beat_generalist",
        section="§5, Table 3",
        statement="Specialists combined with the generalist by eq. 5 classify more test images correctly "
        "than the generalist alone.",
        paper="25.0 % → 26.1 % test accuracy (61 specialists)",
        ours=f"{gen_acc:.1%} → {spec_acc:.1%} ({n_specialists} specialists; {change['net']:+d} of {n_test} "
        f"test images, {change['fixed']} fixed, {change['broken']} broken)",
        holds=margin > 0,
        margin=margin,
        noise=change["se"],
        judged_by=f"net change above {K_NOISE:g} × McNemar noise ({change['se']:.1f} images)",
    )
    soft, dust = nll_rise["soft"], nll_rise["dustbin"]
    claims.add(
        id="06.soft_specialists_overfit_less",
        section="§6.1",
        statement="Specialists trained with the generalist's soft targets for the other classes overfit less "
        "than dustbin specialists on the same small data.",
        paper="proposed (§6.1), not measured",
        ours=f"test NLL rise from its minimum {soft:.3f} (soft) vs {dust:.3f} (dustbin)",
        holds=soft < dust,
        margin=dust - soft,
        judged_by="smaller rise of the test NLL above its minimum",
    )


# ------------------------------------------------------------------------------------------------- notebook 01
def temperature_claims(
    claims: Claims,
    *,
    high_t: float,
    gradient_t1: float,
    gradient_high_t: float,
    limit: float,
    entropy_t1: float,
    entropy_high_t: float,
) -> None:
    """§1–2: at T = 1 the tiny probabilities barely move the cost; at a high T they do (gradients relative to the
    T → ∞ logit-matching gradient, eq. 4), and the soft targets carry more information (entropy)."""
    share1, share_h = gradient_t1 / limit, gradient_high_t / limit
    claims.add(
        id="01.tiny_classes_ignored_at_t1",
        section="§1",
        statement="At T = 1 the very small probabilities of the wrong classes have very little influence on "
        "the cost: their gradient is under 1 % of what logit matching gives them.",
        paper='"very little influence on the cross-entropy cost function"',
        ours=f"{share1:.2%} of the logit-matching gradient",
        holds=share1 < 0.01,
        margin=0.01 - share1,
        judged_by="share below 1 %",
    )
    claims.add(
        id="01.tiny_classes_count_at_high_t",
        section="§2",
        statement=f"At the paper's T = {high_t:g} the same classes get most of the logit-matching gradient.",
        paper="raising T makes the tiny probabilities count",
        ours=f"{share_h:.0%} of the logit-matching gradient",
        holds=share_h > 0.5,
        margin=share_h - 0.5,
        judged_by="share above 50 %",
    )
    claims.add(
        id="01.soft_targets_carry_more_information",
        section="§1",
        statement=f"Soft targets at T = {high_t:g} have far higher entropy than at T = 1.",
        paper="high-entropy soft targets carry much more information per case",
        ours=f"{entropy_t1:.2f} → {entropy_high_t:.2f} bits",
        holds=entropy_high_t > 2 * entropy_t1,
        margin=entropy_high_t - 2 * entropy_t1,
        judged_by="entropy at least doubles",
    )


# ------------------------------------------------------------------------------------------------- notebook 02
def logit_matching_claims(
    claims: Claims,
    *,
    t_zero_mean: float | None,
    t_shifted: float | None,
    level: float,
    agreement: list[float],
    corr: list[float],
    temperatures: list[float],
    n_test: int,
) -> None:
    """§2.1: logit matching (eq. 4) is the high-T limit of distillation's gradient (eq. 2) when the logits are
    zero-meaned — and only then — and students distilled at rising T approach the logit-matching student."""
    claims.add(
        id="02.logit_matching_is_the_limit",
        section="§2.1, eq. 4",
        statement="With zero-meaned logits, the distillation gradient approaches logit matching at high T; "
        "with a mean the softmax ignores, it does not.",
        paper="eq. 2 → eq. 4 as T → ∞ if the logits are zero-meaned",
        ours=(
            f"within {level:.0%} from T = {t_zero_mean:.3g} when zero-meaned"
            if t_zero_mean
            else f"never within {level:.0%} when zero-meaned"
        )
        + (
            "; never with shifted teacher logits"
            if t_shifted is None
            else f"; also from T = {t_shifted:.3g} with shifted logits"
        ),
        holds=t_zero_mean is not None and t_shifted is None,
        judged_by=f"relative error below {level:.0%} at some T (zero-meaned) and at none (shifted)",
    )
    a0, a1 = agreement[0], agreement[-1]
    p = (a0 + a1) / 2
    noise = math.sqrt(2 * p * (1 - p) / n_test)
    claims.add(
        id="02.students_approach_logit_matching",
        section="§2.1",
        statement="The higher the distillation temperature, the more a student agrees with a student trained "
        "by logit matching.",
        paper="distillation → logit matching as T → ∞",
        ours=f"agreement {a0:.1%} at T = {temperatures[0]:g} → {a1:.1%} at T = {temperatures[-1]:g}; "
        f"logit correlation {corr[0]:.3f} → {corr[-1]:.3f}",
        holds=(a1 - a0) > K_NOISE * noise and corr[-1] > corr[0],
        margin=(a1 - a0) - K_NOISE * noise,
        noise=noise,
        judged_by=f"agreement rises by more than {K_NOISE:g} × binomial noise and the logit correlation rises",
    )
