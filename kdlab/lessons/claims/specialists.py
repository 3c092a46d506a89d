"""Notebook 06's claims (§5, §6): specialists improve the generalist; soft targets keep them from overfitting."""

from __future__ import annotations

from kdlab.claim_record import Claims
from kdlab.lessons.claims.judge import K_NOISE
from kdlab.paper import N_SPECIALISTS, TABLE3


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
    less than dustbin ones). ``change`` is ``kdlab.lessons.specialists.experiments.paired_change`` (McNemar's √(fixed + broken))."""
    margin = change["net"] - K_NOISE * change["se"]
    claims.add(
        id="06.specialists_beat_generalist",
        section="§5, Table 3",
        statement="Specialists combined with the generalist by eq. 5 classify more test images correctly "
        "than the generalist alone.",
        paper="{:.1f} % → {:.1f} % test accuracy ({} specialists)".format(*TABLE3["test accuracy (%)"], N_SPECIALISTS),
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
