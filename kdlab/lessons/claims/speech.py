"""Notebook 05's claims (§4, Tables 1 and 5): one distilled model keeps the ensemble's gain; soft targets regularize."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from kdlab.claim_record import Claims
from kdlab.lessons.claims.judge import K_NOISE
from kdlab.paper import TABLE5, gain_kept, table1_by_system


def speech_claims(claims: Claims, summary: dict[str, Any], n_frames: dict[str, int], table5: pd.DataFrame) -> None:
    """§4 Table 1 (ensemble gain, and the share of it a distilled single model keeps) and §6 Table 5.

    ``summary`` is ``speech_experiment.summarize_table1``'s dict; ``n_frames`` the test frames per split, for the
    binomial noise of an accuracy difference (frames of one utterance are correlated, so it understates the noise:
    the ensemble's gain must also be at least one point).
    """
    (pb, _), (pe, _), (pd_, _) = table1_by_system().values()  # §4, Table 1: baseline, ensemble, distilled
    p_hard, p_soft = TABLE5["test frame accuracy (%)"][1:]  # §6, Table 5: 3 % of the data, hard and soft targets
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
            paper=f"frame accuracy {pb:.1f} % → {pe:.1f} %",
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
            paper=f"{pd_:.1f} % of {pb:.1f} → {pe:.1f} %: {100 * gain_kept():.0f} % of the gain kept",
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
        paper=f"{p_soft:.1f} % vs {p_hard:.1f} % test frame accuracy",
        ours=f"{soft:.1f} % vs {hard:.1f} %",
        holds=soft - hard >= 5,
        margin=soft - hard - 5,
        judged_by="soft beats hard by at least 5 points",
    )
