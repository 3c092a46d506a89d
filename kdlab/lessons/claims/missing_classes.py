"""Notebook 04's claims (§3): a student that never saw a class (or saw only two) recovers it by a bias shift.

Each is judged at the paper's strength (``judge.verdict``): 89 % of the errors on 3s repaired, 97 fewer errors in all,
72 % of the 7s-and-8s student's error rate removed; a repair beyond noise but short of that is ``weaker``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kdlab.claim_record import Claims, mcnemar_noise
from kdlab.lessons.claims.judge import K_NOISE, beats, count_text, counts_noise, judge
from kdlab.paper import OMIT3, ONLY78

PAPER_3S = (OMIT3["errors_on_3"], OMIT3["errors_on_3_after"])  # §3: errors on the test 3s, before and after the shift
PAPER_TOTAL = (OMIT3["errors"], OMIT3["errors_after"])  # §3: all test errors of the same student, before and after
PAPER_78 = (ONLY78["error_rate"], ONLY78["error_rate_after"])  # §3: the 7s-and-8s student's error rate (%)


def missing_class_claims(claims: Claims, per_seed: pd.DataFrame, *, wrong_before: Any, wrong_after: Any) -> None:
    """§3's missing-class results, with every shift chosen on held-out training cases (never the test set).

    ``per_seed`` has a row per seed (``kdlab.lessons.missing_classes_seeds.seed_row``): the validation-chosen shifts
    and the test errors before and after them. Each claim's effect is computed per seed, so with several seeds the
    spread over them is a noise yardstick beside the test set's; ``wrong_*`` are the first seed's no-3 student's
    per-case mistakes before and after its shift (McNemar noise of the change in total errors).
    """
    t = per_seed.reset_index(drop=True)
    n, first = len(t), t.iloc[0]
    b3, a3 = t.errors_on_3_before.astype(float).tolist(), t.errors_on_3_after.astype(float).tolist()
    repaired = [100 * (b - a) / b if b else 0.0 for b, a in zip(b3, a3)]
    mb3, ma3 = _mean(b3), _mean(a3)
    judge(
        claims,
        "04.omit3_shift_fixes_3s",
        "§3",
        "Raising the output bias of a class missing from the transfer set (3) repairs most of the "
        "student's errors on it.",
        f"errors on 3s {PAPER_3S[0]} → {PAPER_3S[1]} at {OMIT3['shift']:+g}",
        f"errors on 3s {count_text(mb3)} → {count_text(ma3)} at {_shifts(t.shift3)}{_over(n)}",
        repaired,
        unit="% of the errors on 3s repaired",
        test_noise=100 * counts_noise(first.errors_on_3_before, first.errors_on_3_after) / first.errors_on_3_before
        if first.errors_on_3_before
        else None,
        test_source="test set (√ of the two error counts on 3s)",
        paper_figure=100 * (PAPER_3S[0] - PAPER_3S[1]) / PAPER_3S[0],
        threshold=50.0,
        judged_by=f"the share repaired must exceed 50 % by more than {K_NOISE:g} × noise",
    )
    beats(
        claims,
        "04.omit3_shift_lowers_total",
        "§3",
        "The same bias shift lowers the no-3 student's total test errors.",
        f"{PAPER_TOTAL[0]} → {PAPER_TOTAL[1]} errors",
        t.errors_after.astype(float).tolist(),
        t.errors_before.astype(float).tolist(),
        mcnemar_noise(wrong_before, wrong_after),
        "errors",
        ("after", "before"),
        paper_figure=float(PAPER_TOTAL[0] - PAPER_TOTAL[1]),
    )
    r0, r1 = t.rate78_before.astype(float).tolist(), t.rate78_after.astype(float).tolist()
    judge(
        claims,
        "04.only78_shift_halves_errors",
        "§3",
        "A student that saw only 7s and 8s errs far less once the biases of 7 and 8 are lowered — at least twice less.",
        f"{PAPER_78[0]:g} % → {PAPER_78[1]:g} % at {ONLY78['shift']:+g}".replace("-", "−"),
        f"{_mean(r0):.1f} % → {_mean(r1):.1f} % at {_shifts(t.shift78)}{_over(n)}",
        [100 * (a - b) / a if a else 0.0 for a, b in zip(r0, r1)],
        unit="% of the error rate removed",
        test_noise=None,
        paper_figure=100 * (PAPER_78[0] - PAPER_78[1]) / PAPER_78[0],
        threshold=50.0,
        judged_by="the error rate must fall by more than half",
    )


def _mean(v: list[float]) -> float:
    return sum(v) / len(v)


def _shifts(shifts: pd.Series) -> str:
    return " / ".join(f"{s:+.1f}" for s in shifts)


def _over(n: int) -> str:
    return f" (means over {n} seeds; shifts per seed)" if n > 1 else ""
