"""The frame of a lesson page: its title and two-sentence opening (what the lesson shows, which figure of the paper it
is compared with), the run picker, the run's own claims (read from its ``claims.json``, never recomputed here) and
a wrapper that turns a missing or malformed artifact into one warning line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import streamlit as st

from dashboard import board, data, overlay, scoreboard, ui
from kdlab.store.reader import RunInfo
from kdlab.syllabus import STEMS

T = TypeVar("T")


def header(nb: str, title: str, shows: str, compared: str) -> None:
    """``01 · Soft targets`` and the lesson's two sentences: what it shows, and the paper's figure beside it."""
    st.title(f"{nb} · {title}")
    st.markdown(f"{shows} {compared}".replace(" %", "\u00a0%"))  # never "25.0" at a line's end and "%" below
    stem = STEMS.get(nb, nb)
    st.caption(f"Lesson notebook `notebooks/{stem}.ipynb` · make a run of it with {data.first_run_text(nb)}.")


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
    """``holds`` / ``weaker`` / ``does not hold`` in words (no emoji: it must read without an emoji font)."""
    return scoreboard.verdict_of({"verdict": getattr(claim, "verdict", ""), "holds": getattr(claim, "holds", False)})


def run_claims(run: RunInfo) -> dict[str, Any]:
    """The run's claims by id ({} when its claims.json cannot be read)."""
    found, _ = scoreboard.read(run)
    return {c.id: c for c in found or []}


def claims_box(runs: RunInfo | list[RunInfo], prefix: str | None = None, page_nb: str | None = None):
    """The paper's claims as these runs tested them (their ``claims.json``): one row per claim, the paper's figure,
    then a column per run with its verdict chip, figure, margin and noise (``dashboard/board.py``).

    ``prefix`` keeps only ids that start with it (e.g. ``"03.sweep"`` under the sweep)."""
    runs = [runs] if isinstance(runs, RunInfo) else list(runs)
    everything = data.load_runs()
    columns, problems = [], []
    for run in runs:
        found, problem = scoreboard.read(run)
        if found is None:
            problems.append(f"{problem} {data.rerun_hint(run)}")
            continue
        found = [c for c in found if prefix is None or c.id.startswith(prefix)]
        columns.append((overlay.series(run, everything, page_nb), {data.notebook_key(run): (run, found)}))
    nbs = list(dict.fromkeys(nb for _, col in columns for nb in col))
    table, shown = board.render([(nb, None) for nb in nbs], columns, set(scoreboard.VERDICTS))
    if shown:
        st.markdown(table, unsafe_allow_html=True)
        counts = scoreboard.tally([v for _, col in columns for _, rows in col.values() for v in rows])
        st.caption(
            f"Read from each run's `claims.json` ({scoreboard.tally_text(counts)}); the verdicts are the notebook's, "
            "computed from its numbers and their noise. Open a claim for its statement and the rule that judged it."
        )
    elif columns:
        st.caption("These runs recorded no claims here.")
    for problem in problems:
        st.warning(problem)
