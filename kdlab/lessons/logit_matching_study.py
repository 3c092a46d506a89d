"""Notebook 02's study steps around §2.1 (eq. 2–4), so each lesson cell stays a few lines long.

``kdlab.lessons.logit_matching`` holds the paper's formulas and the training experiment; this module holds what the
notebook does *with* them: the seeded float64 logits on which eq. 2–4 are checked before any net is trained, the
statements those checks must satisfy, the probe student whose logits are compared with the teacher's, and the
numbers the notebook reports (the temperature from which eq. 3 and eq. 4 stay close to eq. 2, how little a low
temperature weighs the logits "much more negative than the average", and how close the students trained at rising
T come to the logit-matching student). Tables are read by column name, so a pandas DataFrame or a dict of lists
both work; nothing here plots or touches the run store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from kdlab.core.losses import soft_cross_entropy
from kdlab.lessons.logit_matching import (
    LimitProfile,
    LimitResult,
    crossing_temperature,
    distillation_gradient,
    gradient_errors,
    monotone_toward,
    run_limit_experiment,
    zero_mean,
)

Tensor = torch.Tensor
Table = Mapping[str, Sequence[Any]]  # a DataFrame or a dict of columns
LOGIT_MATCHING = "logit_matching"  # the label of the logit-matching student in convergence.csv


# ------------------------------------------------------------------------------------------- eq. 2-4 on fixed logits


def fixed_logits(
    seed: int, n_cases: int = 256, n_classes: int = 10, scale: float = 4.0, offset_scale: float = 3.0
) -> tuple[Tensor, Tensor, Tensor]:
    """Seeded float64 test logits: teacher-like v (std ``scale``), student z = v + unit noise, and two per-case
    constants (n_cases, 2) to add to z and to v — constants the softmax ignores but eq. 4 does not."""
    rng = np.random.default_rng(seed)
    v = torch.from_numpy(rng.standard_normal((n_cases, n_classes)) * scale)
    z = v + torch.from_numpy(rng.standard_normal((n_cases, n_classes)))
    offsets = torch.from_numpy(rng.standard_normal((n_cases, 2)) * offset_scale)
    return v, z, offsets


def eq2_checks(z: Tensor, v: Tensor, offsets: Tensor, T: float = 3.0, tol: float = 1e-15) -> dict[str, bool]:
    """Eq. 2 against autograd of ``soft_cross_entropy`` (summed over cases), and eq. 2's indifference to per-case
    constants added to z and v (softmax(x + c) = softmax(x))."""
    zz = z.clone().requires_grad_(True)
    (autograd,) = torch.autograd.grad(soft_cross_entropy(zz, torch.softmax(v / T, -1), T) * z.shape[0], zz)
    exact = distillation_gradient(z, v, T)
    moved = distillation_gradient(z + offsets[:, :1], v + offsets[:, 1:], T)
    matches_autograd = bool((exact - autograd).abs().max() < tol)
    ignores_constants = bool((moved - exact).abs().max() < tol)
    return {
        f"eq. 2 equals autograd of soft_cross_entropy (max |diff| < {tol:g})": matches_autograd,
        f"eq. 2 unchanged by per-case constants (max |diff| < {tol:g})": ignores_constants,
    }


def error_table(zero_meaned: Sequence[dict], different_means: Sequence[dict]) -> str:
    """``gradient_errors`` rows side by side: T, then eq. 3 and eq. 4's median relative error for each logit set."""
    lines = [f"{'T':>7} | {'zero-meaned: eq.3':>17} {'eq.4':>7} | {'different means: eq.3':>21} {'eq.4':>7}"]
    for a, b in zip(zero_meaned, different_means):
        lines.append(
            f"{a['temperature']:>7g} | {a['rel_error_eq3']:>17.2g} {a['rel_error_logit_matching']:>7.2g} | "
            f"{b['rel_error_eq3']:>21.2g} {b['rel_error_logit_matching']:>7.2g}"
        )
    return "\n".join(lines)


def fixed_logit_facts(zero_meaned: Sequence[dict], different_means: Sequence[dict]) -> dict[str, bool]:
    """What §2.1 predicts for the fixed-logit table, each statement with its verdict.

    Zero-meaned, eq. 3's denominators are exactly N, so eq. 3 *is* eq. 4; both are a first-order Taylor expansion,
    so their error shrinks like 1/T (checked from the third temperature on, where T is large against the logits).
    With different per-case means eq. 3 keeps the Σ_j z_j/T terms and still converges; eq. 4 does not.
    """
    zm, dm = list(zero_meaned), list(different_means)
    tail = list(zip(zm[2:], zm[3:]))
    return {
        "zero-meaned: eq. 3 and eq. 4 agree at every T": all(
            np.isclose(a["rel_error_eq3"], a["rel_error_logit_matching"], rtol=1e-9) for a in zm
        ),
        f"zero-meaned: the error falls tenfold per tenfold T from T = {zm[2]['temperature']:g}": bool(tail)
        and all(9 < a["rel_error_eq3"] / b["rel_error_eq3"] < 11 for a, b in tail),
        f"different means: at T = {dm[-1]['temperature']:g} eq. 3 is within 1 % and eq. 4 is off by over 50 %": (
            dm[-1]["rel_error_eq3"] < 1e-2 < 0.5 < dm[-1]["rel_error_logit_matching"]
        ),
    }


# ------------------------------------------------------------------------------------------- real nets


def hard_label_student(
    x: Tensor, y: Tensor, hidden: Sequence[int], *, seed: int, device, epochs: int = 1, progress: bool = True
):
    """A student part-way through learning: an MLP trained ``epochs`` on hard labels from a seeded start. Its logits
    differ from the teacher's the way a student's do while distillation is still moving them."""
    from kdlab.core.config import TrainConfig, seed_everything
    from kdlab.core.models import MLP
    from kdlab.core.train import fit

    seed_everything(seed)
    model = MLP(x.shape[1], hidden, 10)
    config = TrainConfig(epochs=epochs, seed=seed, desc="student (hard labels)", progress=progress)
    fit(model, x, y, device=device, config=config)
    return model


def describe_logits(v: Tensor, z: Tensor) -> str:
    """The per-case mean logits of teacher (v) and student (z), mean ± std over cases, and their spread in a case."""
    return (
        f"per-case mean logit: teacher {v.mean(-1).mean():+.2f} ± {v.mean(-1).std():.2f}, "
        f"student {z.mean(-1).mean():+.2f} ± {z.mean(-1).std():.2f}; spread within a case (std): "
        f"teacher {zero_mean(v).std():.2f}, student {zero_mean(z).std():.2f}"
    )


def shift_invariance(z: Tensor, v: Tensor, shift: float, temperatures: Sequence[float]) -> float:
    """Largest |eq. 2(z, v + shift) − eq. 2(z, v)| over the temperatures: zero up to rounding, as softmax ignores
    a constant added to all of a case's logits."""
    return max(
        float((distillation_gradient(z, v + shift, T) - distillation_gradient(z, v, T)).abs().max())
        for T in temperatures
    )


def within_level(table: Table, level: float) -> tuple[float | None, float | None]:
    """The temperatures from which eq. 3 and eq. 4 stay within ``level`` of eq. 2 (None: never on the grid)."""
    ts = list(table["temperature"])
    return (
        crossing_temperature(ts, list(table["rel_error_eq3"]), level),
        crossing_temperature(ts, list(table["rel_error_logit_matching"]), level),
    )


def eq4_reach(z: torch.Tensor, v: torch.Tensor, temperatures: Sequence[float], shift: float, level: float):
    """For one teacher's logits ``v`` against the probe student's ``z``: the T from which eq. 4 stays within
    ``level`` of eq. 2 with the logits zero-meaned, and with the teacher's shifted by ``shift`` (None: never on the
    grid) — the two figures of ``02.logit_matching_is_the_limit``."""
    columns = lambda rows: {k: [r[k] for r in rows] for k in rows[0]}  # noqa: E731  (list of rows → table)
    zero = columns(gradient_errors(z, v, temperatures, zero_meaned=True))
    shifted = columns(gradient_errors(z, v + shift, temperatures, zero_meaned=False))
    return {"t_zero_mean": within_level(zero, level)[1], "t_shifted": within_level(shifted, level)[1]}


def within_level_line(name: str, table: Table, level: float) -> str:
    """One line per logit set: from which T eq. 3 and eq. 4 are within ``level`` of eq. 2."""
    t_eq3, t_eq4 = within_level(table, level)
    last_t, last_err = list(table["temperature"])[-1], list(table["rel_error_logit_matching"])[-1]
    eq3 = f"from T = {t_eq3:.3g}" if t_eq3 else "never"
    eq4 = f"from T = {t_eq4:.3g}" if t_eq4 else f"never (error at T = {last_t:g}: {last_err:.2f})"
    return f"{name:>12}: eq. 3 within {level:.0%} of eq. 2 {eq3}; eq. 4 {eq4}"


def gradient_metrics(zero: Table, raw: Table, shifted: Table, reach: Mapping[str, float | None]) -> dict[str, Any]:
    """metrics.json's gradient numbers: eq. 3's worst error from T = 100 on (zero-meaned), eq. 4's error at the
    highest T for each logit set, and the T from which eq. 4 is within the error level (``reach``)."""
    worst = max(e for t, e in zip(zero["temperature"], zero["rel_error_eq3"]) if t >= 100)
    return {
        "max_rel_error_eq3": float(worst),
        "rel_error_eq4_zero_mean_at_max_t": float(list(zero["rel_error_logit_matching"])[-1]),
        "rel_error_eq4_raw_at_max_t": float(list(raw["rel_error_logit_matching"])[-1]),
        "rel_error_eq4_shifted_at_max_t": float(list(shifted["rel_error_logit_matching"])[-1]),
        "t_eq4_within_level": dict(reach),
    }


def deepest_logits(weights: Table, at: Sequence[float] = (1.0, 10.0, 1000.0), half: float = 0.5) -> dict[str, Any]:
    """The last (deepest) group of ``logit_weight_by_depth`` rows: its name, its weight at the temperatures ``at``
    and the first T of the grid at which it counts ``half`` as much as in logit matching (None if none)."""
    rows = list(zip(weights["group"], weights["temperature"], weights["mean_weight"]))
    name = rows[-1][0]
    curve = [(float(t), float(w)) for g, t, w in rows if g == name]
    weight = {float(T): next(w for t, w in curve if np.isclose(t, T)) for T in at}
    return {"group": name, "weight": weight, "t_half": next((t for t, w in curve if w >= half), None)}


def deep_logit_verdict(deep: Mapping[str, Any], ignored_below: float = 0.01) -> str:
    """§2.1's "pays much less attention" read off ``deepest_logits``: ignored at T = 1, and from where they count."""
    t_half = deep["t_half"]
    return (
        (
            "At T = 1 distillation all but ignores them, as §2.1 says"
            if deep["weight"][1.0] < ignored_below
            else "At T = 1 they still weigh more than 1 % of logit matching here, unlike §2.1's picture"
        )
        + "; they count half as much as in logit matching "
        + (f"only from T ≈ {t_half:.3g}." if t_half else "at no T of the grid.")
    )


# ------------------------------------------------------------------------------------------- the experiment


def run_profile(
    cfg: LimitProfile, x_transfer, teacher_logits, x_test, y_test, teacher_test, seed: int, device, progress=True
) -> LimitResult:
    """``run_limit_experiment`` with the profile's students, temperatures, epochs and optimiser settings."""
    return run_limit_experiment(
        x_transfer, teacher_logits, x_test, y_test, teacher_test, cfg.temperatures, cfg.student_hidden,
        cfg.epochs, cfg.lr, cfg.batch_size, seed, device, progress=progress,
    )  # fmt: skip


def distilled_curves(conv: Table) -> tuple[list[float], list[float], list[float]]:
    """From ``convergence.csv`` rows, the distilled students only (in T order as run): T, agreement with the
    logit-matching student, and correlation of zero-meaned logits with it."""
    rows = [
        (float(t), float(a), float(c))
        for t, a, c in zip(conv["temperature"], conv["agreement_with_logit_matching"], conv["logit_corr"])
        if t != LOGIT_MATCHING
    ]
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def ends_of(conv: Table) -> tuple[tuple[float, float], tuple[float, float]]:
    """The agreement claim's two ends: (agreement, logit correlation) with the logit-matching student, each as
    (lowest T, highest T)."""
    _, agree, corr = distilled_curves(conv)
    return (agree[0], agree[-1]), (corr[0], corr[-1])


def more_seed_ends(
    cfg: LimitProfile, x_transfer, teacher_logits, x_test, y_test, teacher_test, seeds: Sequence[int], device
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """``ends_of`` for more seeds, each with its own start and batch order. A seed trains only what the claim
    compares — the lowest-T, highest-T and logit-matching students, half of ``run_profile``'s members — so three
    seeds cost two runs of the experiment, not three."""
    lo_hi = (cfg.temperatures[0], cfg.temperatures[-1])
    out = []
    for seed in seeds:
        table = run_limit_experiment(x_transfer, teacher_logits, x_test, y_test, teacher_test, lo_hi,
                                     cfg.student_hidden, cfg.epochs, cfg.lr, cfg.batch_size, seed, device).table  # fmt: skip
        out.append(ends_of({key: [row[key] for row in table] for key in table[0]}))
    return out


def convergence_metrics(conv: Table) -> dict[str, Any]:
    """metrics.json's training numbers: agreement and logit correlation at the lowest and highest T, whether each
    rises monotonically in T, and every student's test errors."""
    _, agree, corr = distilled_curves(conv)
    return {
        "agreement_high_t": agree[-1],
        "logit_corr_high_t": corr[-1],
        "agreement_t1": agree[0],
        "logit_corr_t1": corr[0],
        "monotone_agreement": monotone_toward(agree),
        "monotone_logit_corr": monotone_toward(corr),
        "test_errors": {str(t): int(e) for t, e in zip(conv["temperature"], conv["test_errors"])},
    }


def fewest_errors(conv: Table) -> tuple[str, int, int]:
    """The distilled student with the fewest test errors (its T as labelled, its errors) and the logit-matching
    student's errors."""
    rows = list(zip(conv["temperature"], conv["test_errors"]))
    best = min((r for r in rows if r[0] != LOGIT_MATCHING), key=lambda r: r[1])
    return str(best[0]), int(best[1]), int(next(e for t, e in rows if t == LOGIT_MATCHING))
