"""Notebook 03's §2 claims, judged on runs whose every choice was made on held-out training cases.

* ``03.low_hard_weight_best`` — "the best results were generally obtained by using a considerably lower weight on the
  second objective function" (§2): the hard weight with the fewest validation errors must be below equal weight
  (w = 1 beside T²·soft), and beat equal weight on the test set by more than K_NOISE × noise. If validation chooses
  equal weight (or a higher one) the effect is 0 and the claim does not hold.
* ``03.soft_targets_less_data`` — soft targets let the small model "be trained on much less data ... and using a much
  higher learning rate" (§2): on 1 % of the training cases, soft targets at their validation-chosen learning rate
  must beat hard targets at theirs, beyond K_NOISE × noise. The learning rates are recorded in the claim's words and
  in ``learning_rate_sentence`` (a figure with a sentence, not part of the verdict: the paper gives no ratio).

The paper gives no figure for either, so each holds once beyond noise (``judge.verdict``). Test-set noise is
McNemar's √(discordant cases) between the two runs compared, averaged over seeds; with ≥ 2 seeds the seed spread of
the effect competes with it (``judge.noise_of``).
"""

from __future__ import annotations

import pandas as pd

from kdlab.claim_record import Claims, mcnemar_noise
from kdlab.lessons.claims.judge import K_NOISE, judge
from kdlab.lessons.distillation_controls import Grid, best_by_validation

EQUAL_WEIGHT = 1.0  # hard weight 1 beside T²·soft: both terms' gradients on the same scale (§2)


def _seeds(n: int) -> str:
    return f"{n} seed{'s' if n > 1 else ''}"


def _mean_noise(grid: Grid, a: tuple, b: tuple, seeds: list[int]) -> float:
    return sum(mcnemar_noise(grid.wrong[(*a, s)], grid.wrong[(*b, s)]) for s in seeds) / len(seeds)


def low_hard_weight_claim(claims: Claims, grid: Grid, temperature: float) -> None:
    """``03.low_hard_weight_best`` from the hard-weight sweep (columns hard_weight, seed, val_errors, test_errors);
    no claim when the grid lacks equal weight or a lower one."""
    table = grid.table
    weights = sorted(table["hard_weight"].unique())
    if EQUAL_WEIGHT not in weights or min(weights) >= EQUAL_WEIGHT:
        return
    seeds = sorted(int(s) for s in table["seed"].unique())
    chosen = best_by_validation(table, "hard_weight")
    test = table.pivot(index="seed", columns="hard_weight", values="test_errors")
    val = table.groupby("hard_weight")["val_errors"].mean()
    lower = chosen < EQUAL_WEIGHT
    effect = [float(test.loc[s, EQUAL_WEIGHT] - test.loc[s, chosen]) if lower else 0.0 for s in seeds]
    # validation chose equal weight (or above): no difference to measure, so no test-set noise either
    noise = _mean_noise(grid, (chosen,), (EQUAL_WEIGHT,), seeds) if lower else 0.0
    source = "test set (McNemar)" if lower else "none: validation chose equal weight, so nothing is compared"
    per_weight = ", ".join(f"w = {w:g}: {val[w]:.0f} validation / {test[w].mean():.0f} test errors" for w in weights)
    judge(
        claims,
        "03.low_hard_weight_best",
        "§2",
        "The best results come from a considerably lower weight on the hard targets' cross-entropy than on the "
        f"soft targets' (here at T = {temperature:g}, with equal weight meaning w = 1 beside T²·soft).",
        "a considerably lower weight on the second objective function worked best (no figure)",
        f"validation chose w = {chosen:g}"
        + (
            f", {test[chosen].mean():.0f} test errors against {test[EQUAL_WEIGHT].mean():.0f} at equal weight"
            if lower
            else ", not a weight below equal"
        )
        + f" ({per_weight}; {_seeds(len(seeds))})",  # fmt: skip
        effect,
        unit="errors",
        test_noise=noise,
        test_source=source,
        control={
            "what": "equal weight (w = 1), trained with the same seeds, batches and epochs",
            "value": float(test[EQUAL_WEIGHT].mean()),
            "unit": "errors",
        },  # fmt: skip
        judged_by=f"the hard weight with the fewest validation errors must be below {EQUAL_WEIGHT:g} (equal weight), "
        f"and its test errors below equal weight's by more than {K_NOISE:g} × noise",
    )


def chosen_learning_rates(table: pd.DataFrame) -> dict[str, float]:
    """{"soft": lr, "hard": lr}: each kind of target's learning rate with the fewest validation errors."""
    return {k: best_by_validation(table[table["targets"] == k], "lr") for k in ("soft", "hard")}


def soft_less_data_claim(claims: Claims, grid: Grid, n_cases: int, n_train: int) -> None:
    """``03.soft_targets_less_data`` from the small-transfer grid (targets, lr, seed, val_errors, test_errors)."""
    table = grid.table
    lr = chosen_learning_rates(table)
    seeds = sorted(int(s) for s in table["seed"].unique())
    at = {k: table[(table["targets"] == k) & (table["lr"] == lr[k])].set_index("seed")["test_errors"] for k in lr}
    effect = [float(at["hard"][s] - at["soft"][s]) for s in seeds]
    soft, hard = float(at["soft"].mean()), float(at["hard"].mean())
    judge(
        claims,
        "03.soft_targets_less_data",
        "§2",
        f"On a transfer set of only {n_cases:,} cases ({100 * n_cases / n_train:.0f} % of the training set), the "
        "small net learns better from the teacher's soft targets than from hard labels, each at its own best "
        "learning rate.",
        "soft targets train the small model on much less data, at a much higher learning rate (no figure)",
        f"soft targets {soft:.0f} vs hard targets {hard:.0f} test errors; validation chose lr {lr['soft']:g} for "
        f"soft and {lr['hard']:g} for hard targets ({_seeds(len(seeds))})",
        effect,
        unit="errors",
        test_noise=_mean_noise(grid, ("soft", lr["soft"]), ("hard", lr["hard"]), seeds),
        control={
            "what": f"hard targets at their own best learning rate ({lr['hard']:g}, chosen on validation)",
            "value": hard,
            "unit": "errors",
        },  # fmt: skip
        judged_by=f"hard-target minus soft-target test errors, each at its validation-chosen learning rate, must "
        f"exceed {K_NOISE:g} × noise",
    )


def learning_rate_sentence(table: pd.DataFrame) -> str:
    """The paper's "much higher learning rate", read from the grid: which rate validation chose for each target."""
    lr = chosen_learning_rates(table)
    ratio = lr["soft"] / lr["hard"]
    if ratio > 1:
        how = f"{ratio:.3g} times the hard targets' — higher, as §2 says"
    elif ratio == 1:
        how = "the same as the hard targets' — not higher, as §2 would have it"
    else:
        how = f"{1 / ratio:.3g} times lower than the hard targets' — not higher, as §2 would have it"
    return (
        f"Validation chose learning rate {lr['soft']:g} for soft targets and {lr['hard']:g} for hard targets "
        f"(grid {', '.join(f'{x:g}' for x in sorted(table['lr'].unique()))}): the soft targets' rate is {how}."
    )
