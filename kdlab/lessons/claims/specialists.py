"""Notebook 06's claims (§5, §6): specialists improve the generalist; soft targets keep them from overfitting."""

from __future__ import annotations

from kdlab.claim_record import Claims
from kdlab.lessons.claims.judge import K_NOISE, judge
from kdlab.paper import N_SPECIALISTS, TABLE3, TABLE3_RELATIVE

PAPER_ACC = tuple(TABLE3["test accuracy (%)"])  # §5 Table 3: JFT test accuracy (%), generalist alone and with them


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
    judge(
        claims,
        "06.specialists_beat_generalist",
        "§5, Table 3",
        "Specialists combined with the generalist by eq. 5 classify more test images correctly "
        "than the generalist alone.",
        f"{PAPER_ACC[0]} % → {PAPER_ACC[1]} % test accuracy ({TABLE3_RELATIVE:g} % relative; {N_SPECIALISTS} specialists)",
        f"{gen_acc:.1%} → {spec_acc:.1%} ({n_specialists} specialists; {change['net']:+d} of {n_test} "
        f"test images, {change['fixed']} fixed, {change['broken']} broken)",
        100 * change["net"] / (n_test * gen_acc),
        unit="% relative accuracy gain",
        test_noise=100 * change["se"] / (n_test * gen_acc),
        paper_figure=TABLE3_RELATIVE,
        judged_by=f"the net change must exceed {K_NOISE:g} × McNemar noise",
    )
    soft, dust = nll_rise["soft"], nll_rise["dustbin"]
    judge(
        claims,
        "06.soft_specialists_overfit_less",
        "§6.1",
        "Specialists trained with the generalist's soft targets for the other classes overfit less "
        "than dustbin specialists on the same small data.",
        "proposed (§6.1), not measured",
        f"test NLL rise from its minimum {soft:.3f} (soft) vs {dust:.3f} (dustbin)",
        dust - soft,
        unit="nats",
        test_noise=None,
        judged_by="a smaller rise of the test NLL above its minimum",
    )
