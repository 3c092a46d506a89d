"""Notebook 05's claims (§4, Table 1, and §6, Table 5): one distilled model keeps the ensemble's gain; soft targets
regularize (``speech_table5``)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from kdlab.claim_record import Claims
from kdlab.lessons.claims.judge import K_NOISE, judge
from kdlab.lessons.claims.speech_table5 import table5_claims
from kdlab.paper import KEPT_MORE_THAN, TABLE1

PAPER_TABLE1 = tuple(TABLE1["test frame accuracy (%)"])  # §4 Table 1: baseline, 10× ensemble, distilled (%)
FLOOR = 0.5  # points: frames of one utterance are correlated, so the binomial noise is floored (2 × 0.5 = 1 point)
FRAMES = "test frames (binomial, at least 0.5 points)"


def speech_claims(claims: Claims, summary: dict[str, Any], n_frames: dict[str, int], table5: pd.DataFrame,
                  table5_per_seed: pd.DataFrame, table1_seeds: pd.DataFrame | None = None) -> None:  # fmt: skip
    """§4 Table 1 (ensemble gain, and the share of it a distilled single model keeps) and §6 Table 5.

    ``summary`` is ``speech.summarize_table1``'s dict; ``n_frames`` the test frames per split, for the binomial noise
    of an accuracy difference (frames of one utterance are correlated, so it understates the noise: it is floored at
    half a point, so a gain must be at least one point). ``table1_seeds`` (``Table1Result.seeds``: the baseline, the
    chosen student and the matched control per initialization) makes each effect per initialization, paired by
    member, so the spread over them is a second noise yardstick; without it, the summary's one draw is used. Each is
    judged at the paper's figure: the ensemble's 2.2 points, "more than 80 %" of its gain kept. Table 5's claims are
    ``kdlab.lessons.claims.speech_table5``'s, from ``run_table5``'s table and per-initialization numbers.
    """
    for split in ("seen", "unseen"):
        e = summary[f"ensemble_frame_acc_{split}"]
        bs = _members(table1_seeds, "baseline", split, summary[f"baseline_frame_acc_{split}"])
        ds = _members(table1_seeds, "distilled", split, summary[f"distilled_frame_acc_{split}"])
        c0 = summary.get(f"control_frame_acc_{split}")  # the matched control (kdlab.lessons.speech.run_table1)
        cs = None if c0 is None else _members(table1_seeds, "matched control", split, c0)
        b, d, c = _mean(bs), _mean(ds), None if cs is None else _mean(cs)
        n = len(bs)
        judge(
            claims,
            f"05.ensemble_beats_baseline_{split}",
            "§4, Table 1",
            f"Ten models averaged beat a single one ({split} speakers).",
            f"frame accuracy {PAPER_TABLE1[0]} % → {PAPER_TABLE1[1]} %",
            f"{b:.1f} % → {e:.1f} %{_over(n)}",
            [e - x for x in bs],
            unit="points",
            test_noise=_frame_noise(b, e, n_frames[split]),
            test_source=FRAMES,
            paper_figure=round(PAPER_TABLE1[1] - PAPER_TABLE1[0], 1),
            judged_by=f"the gain must exceed {K_NOISE:g} × noise",
        )
        use_control = c is not None and c > b
        base_name, bases = ("matched control", cs) if use_control else ("baseline", bs)
        base = _mean(bases)
        gains = [e - x for x in bases]
        kept = [(di - x) / g for di, x, g in zip(ds, bases, gains)] if min(gains) > 0 else None
        words = (
            f"{d:.1f} % of {b:.1f} → {e:.1f} %: {(d - b) / (e - b):.0%} of the gain kept"
            if e > b
            else (f"{d:.1f} %; the ensemble gained nothing over the baseline")
        )
        if c is not None:
            words += f"; matched control {c:.1f} %" + (
                f", {_mean(kept):.0%} kept of the ensemble's gain over it" if use_control and kept is not None else ""
            )
        judge(
            claims,
            f"05.distilled_keeps_gain_{split}",
            "§4, Table 1",
            f"One model distilled from the ensemble keeps most of its gain ({split} speakers).",
            f"{PAPER_TABLE1[2]} % of {PAPER_TABLE1[0]} → {PAPER_TABLE1[1]} %: more than {KEPT_MORE_THAN:g} % of the gain",
            words + _over(n),
            [100 * k for k in kept] if kept is not None else 0.0,
            unit="% of the gain",
            test_noise=100 * _frame_noise(base, d, n_frames[split]) / (e - base) if kept is not None else None,
            test_source=FRAMES,
            paper_figure=KEPT_MORE_THAN,
            threshold=50.0,
            control=None if c is None else {"what": "hard-label model with the distilled model's budget and inputs",
                                            "value": c, "unit": "% frame accuracy"},
            judged_by=f"the share kept of the ensemble's gain over the better of the baseline and the matched control "
            f"(here the {base_name}) must exceed 50 % by more than {K_NOISE:g} × noise",
        )  # fmt: skip
        if c is not None:
            judge(
                claims,
                f"05.distilled_beats_matched_control_{split}",
                "§4, Table 1",
                f"The distilled model beats a model trained on hard labels with exactly its budget and inputs (same "
                f"architecture, epochs, schedule and mixed copies of the frames): the gain is the soft targets' "
                f"({split} speakers).",
                "not measured in the paper (its baseline and distilled model were trained alike)",
                f"distilled {d:.1f} % vs matched control {c:.1f} %{_over(n)}",
                [di - ci for di, ci in zip(ds, cs)],
                unit="points",
                test_noise=_frame_noise(c, d, n_frames[split]),
                test_source=FRAMES,
                control={"what": "hard-label model with the distilled model's budget and inputs", "value": c,
                         "unit": "% frame accuracy"},
                judged_by=f"distilled minus matched control must exceed {K_NOISE:g} × noise",
            )  # fmt: skip
    table5_claims(claims, table5, table5_per_seed)


def _members(seeds: pd.DataFrame | None, model: str, split: str, first: float) -> list[float]:
    """A model's frame accuracies (%) on ``split`` per initialization, member order; ``[first]`` without a table."""
    if seeds is None or not (seeds.model == model).any():
        return [float(first)]
    return [float(v) for v in seeds[seeds.model == model].sort_values("member")[f"frame_acc_{split}"]]


def _mean(v: list[float]) -> float:
    return sum(v) / len(v)


def _over(n: int) -> str:
    return f" (means over {n} initializations)" if n > 1 else ""


def _frame_noise(a: float, b: float, n: int) -> float:
    """Binomial noise (points) of the difference of two frame accuracies (%), at least FLOOR."""
    p = (a + b) / 200
    return max(100 * math.sqrt(2 * p * (1 - p) / n), FLOOR)
