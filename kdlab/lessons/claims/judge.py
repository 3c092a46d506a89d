"""The yardstick every lesson's claims share: a difference counts beyond K_NOISE noise units.

Two classifiers scored on the same test cases are compared by McNemar's noise √(discordant cases)
(``kdlab.claim_record.mcnemar_noise``), and a difference counts when it exceeds twice that. Where only error counts are
known (a sweep table), √(e₁ + e₂) stands in for it — an upper bound on √(discordant), so the rule is conservative.
"""

from __future__ import annotations

from kdlab.claim_record import Claims

K_NOISE = 2.0  # a difference "counts" beyond this many noise units (≈ 95 % for a normal approximation)


def beats(
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
