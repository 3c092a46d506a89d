"""The frame of a lesson page: its title and two-sentence opening (what the lesson shows, which figure of the paper it
is compared with), the run picker, the run's own claims (read from its ``claims.json``, never recomputed here) and
a wrapper that turns a missing or malformed artifact into one warning line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from dashboard import data, ui
from kdlab.store.reader import RunInfo

T = TypeVar("T")

PAGE = {  # notebook -> its lesson page (the script app.py registers; its url_path is the file's stem)
    "01": "views/temperature.py",
    "02": "views/logit_matching.py",
    "03": "views/distillation.py",
    "04": "views/missing_classes.py",
    "05": "views/speech.py",
    "06": "views/specialists.py",
}


def header(nb: str, title: str, shows: str, compared: str) -> None:
    """``01 · Soft targets`` and the lesson's two sentences: what it shows, and the paper's figure beside it."""
    st.title(f"{nb} · {title}")
    st.markdown(f"{shows} {compared}".replace(" %", "\u00a0%"))  # never "25.0" at a line's end and "%" below
    stem = data.NOTEBOOKS.get(nb, nb)
    st.caption(f"Lesson notebook `notebooks/{stem}.ipynb` · make a run of it with `{data.run_command(nb)}`.")


def pick(nb: str, artifacts: Iterable[str], key: str, all_runs: list[RunInfo] | None = None):
    """The run of notebook ``nb`` this page shows (complete, holding one of ``artifacts``), picked in a selectbox,
    newest first; ``None`` after saying which command makes one."""
    all_runs = data.load_runs() if all_runs is None else all_runs
    artifacts = list(artifacts)
    ui.skipped_note((nb,), all_runs)
    runs = [r for r in all_runs if r.ok and data.notebook_key(r) == nb and set(artifacts) & data.artifact_names(r)]
    if not runs:
        ui.no_data((nb,), artifacts[0])
        return None
    return ui.pick_run(runs, key, f"Run (notebook {nb})")


def shown(make: Callable[[], T], where: Any = None) -> T | None:
    """``make()``, or ``None`` after one warning line when an artifact it reads is missing or malformed."""
    try:
        return make()
    except data.ArtifactError as e:
        (where or st).warning(str(e))
        return None


def verdict(claim) -> str:
    """``✅ holds`` or ``❌ does not hold``."""
    return ("✅ " if claim.holds else "❌ ") + claim.verdict


def margin_noise(claim) -> str:
    """``+89 / 21.3``: how far inside (+) or outside (−) the threshold, then the yardstick (``—`` for an exact test)."""
    if claim.margin is None:
        return "—"
    margin = ("+" if claim.margin > 0 else "") + ui.fmt(claim.margin)
    return f"{margin} / {ui.fmt(claim.noise) if claim.noise is not None else '—'}"


def run_claims(run: RunInfo) -> dict[str, Any]:
    """The run's claims by id ({} when its claims.json cannot be read)."""
    found, _ = data.claims(run)
    return {c.id: c for c in found or []}


def claims_box(run: RunInfo, prefix: str | None = None) -> None:
    """The paper's claims as this run tested them (its ``claims.json``): statement, the paper's figure, ours, verdict.

    ``prefix`` keeps only ids that start with it (e.g. ``"03.sweep"`` under the sweep)."""
    found, problem = data.claims(run)
    if found is None:
        st.warning(f"{problem} {data.rerun_hint(run)}")
        return
    found = [c for c in found if prefix is None or c.id.startswith(prefix)]
    if not found:
        st.caption("This run recorded no claims here.")
        return
    rows = [
        {
            "claim (§)": f"{c.statement} ({c.section})",
            "paper": c.paper,
            "this run": c.result,
            "verdict": verdict(c),
            "judged by": c.judged_by,
        }
        for c in found
    ]
    st.table(pd.DataFrame(rows), hide_index=True)
    st.caption(
        f"Read from the run's `claims.json` ({sum(c.holds for c in found)} of {len(found)} hold); the verdicts are the "
        "notebook's, computed from its numbers and their noise. " + ui.source(run)
    )
