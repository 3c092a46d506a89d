"""Notebook 04's claims (§3): a student that never saw a class (or saw only two) recovers it by a bias shift.

Each is judged at the paper's strength (``judge.verdict``): 89 % of the errors on 3s repaired, 97 fewer errors in all,
72 % of the 7s-and-8s student's error rate removed; a repair beyond noise but short of that is ``weaker``.
"""

from __future__ import annotations

from typing import Any

from kdlab.claim_record import Claims, mcnemar_noise
from kdlab.lessons.claims.judge import K_NOISE, beats, counts_noise, judge
from kdlab.paper import OMIT3, ONLY78

PAPER_3S = (OMIT3["errors_on_3"], OMIT3["errors_on_3_after"])  # §3: errors on the test 3s, before and after the shift
PAPER_TOTAL = (OMIT3["errors"], OMIT3["errors_after"])  # §3: all test errors of the same student, before and after
PAPER_78 = (ONLY78["error_rate"], ONLY78["error_rate_after"])  # §3: the 7s-and-8s student's error rate (%)


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

    The ``*_before`` / ``*_after`` dicts are ``kdlab.lessons.missing_classes.errors_at`` results on the test set; ``wrong_*`` are the
    no-3 student's per-case mistakes before and after its shift (McNemar noise of the change in total errors).
    """
    b3, a3 = omit3_before["errors_on_classes"], omit3_after["errors_on_classes"]
    judge(
        claims,
        "04.omit3_shift_fixes_3s",
        "§3",
        "Raising the output bias of a class missing from the transfer set (3) repairs most of the "
        "student's errors on it.",
        f"errors on 3s {PAPER_3S[0]} → {PAPER_3S[1]} at {OMIT3['shift']:+g}",
        f"errors on 3s {b3} → {a3} at {omit3_shift:+.1f}",
        100 * (b3 - a3) / b3 if b3 else 0.0,
        unit="% of the errors on 3s repaired",
        test_noise=100 * counts_noise(b3, a3) / b3 if b3 else None,
        test_source="test set (√ of the two error counts on 3s)",
        paper_figure=100 * (PAPER_3S[0] - PAPER_3S[1]) / PAPER_3S[0],
        threshold=50.0,
        judged_by=f"the share repaired must exceed 50 % by more than {K_NOISE:g} × noise",
    )
    noise = mcnemar_noise(wrong_before, wrong_after)
    beats(
        claims,
        "04.omit3_shift_lowers_total",
        "§3",
        "The same bias shift lowers the no-3 student's total test errors.",
        f"{PAPER_TOTAL[0]} → {PAPER_TOTAL[1]} errors",
        omit3_after["total_errors"],
        omit3_before["total_errors"],
        noise,
        "errors",
        ("after", "before"),
        paper_figure=float(PAPER_TOTAL[0] - PAPER_TOTAL[1]),
    )
    r0, r1 = only78_before["error_rate"], only78_after["error_rate"]
    judge(
        claims,
        "04.only78_shift_halves_errors",
        "§3",
        "A student that saw only 7s and 8s errs far less once the biases of 7 and 8 are lowered — at least twice less.",
        f"{PAPER_78[0]:g} % → {PAPER_78[1]:g} % at {ONLY78['shift']:+g}".replace("-", "−"),
        f"{r0:.1f} % → {r1:.1f} % at {only78_shift:+.1f}",
        100 * (r0 - r1) / r0 if r0 else 0.0,
        unit="% of the error rate removed",
        test_noise=None,
        paper_figure=100 * (PAPER_78[0] - PAPER_78[1]) / PAPER_78[0],
        threshold=50.0,
        judged_by="the error rate must fall by more than half",
    )
