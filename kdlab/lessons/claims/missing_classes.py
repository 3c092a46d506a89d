"""Notebook 04's claims (§3): a student that never saw a class (or saw only two) recovers it by a bias shift."""

from __future__ import annotations

from typing import Any

from kdlab.claim_record import Claims, mcnemar_noise
from kdlab.lessons.claims.judge import beats
from kdlab.paper import OMIT3, ONLY78


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
    claims.add(
        id="04.omit3_shift_fixes_3s",
        section="§3",
        statement="Raising the output bias of a class missing from the transfer set (3) repairs most of the "
        "student's errors on it — at least half of them.",
        paper=f"errors on 3s {OMIT3['errors_on_3']} → {OMIT3['errors_on_3_after']} at {OMIT3['shift']:+g}",
        ours=f"errors on 3s {b3} → {a3} at {omit3_shift:+.1f}",
        holds=a3 <= b3 / 2,
        margin=b3 / 2 - a3,
        judged_by="errors on 3s at most half of those before the shift",
    )
    noise = mcnemar_noise(wrong_before, wrong_after)
    beats(
        claims,
        "04.omit3_shift_lowers_total",
        "§3",
        "The same bias shift lowers the no-3 student's total test errors.",
        f"{OMIT3['errors']} → {OMIT3['errors_after']} errors",
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
        paper=f"{ONLY78['error_rate']:g} % → {ONLY78['error_rate_after']:g} % at {ONLY78['shift']:+g}".replace(
            "-", "−"
        ),
        ours=f"{r0:.1f} % → {r1:.1f} % at {only78_shift:+.1f}",
        holds=r1 <= r0 / 2,
        margin=r0 / 2 - r1,
        judged_by="error rate at most half of that before the shift",
    )
