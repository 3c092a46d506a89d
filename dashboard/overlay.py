"""Several runs on one chart: which runs a lesson page overlays, what each series is called and which colour it gets.

- ``series(run)``: the name a run's series carries in every legend and table, ``yours · quick · 2026-12-04 15:40`` or
  ``reference · full`` (the date is added to a reference run only when two reference runs share a profile);
- ``colour(run)``: one colour per run, the same on every page. It depends only on the run's place in its store: the
  newest reference run of a profile, your newest run of a profile, your second newest, ... — so ``yours · quick``
  (newest) is orange everywhere and the reference blue, whatever else is on the page;
- ``pick(...)``: the page's multiselect; by default your newest complete run of each profile and the reference run.
The paper's figures are black marks (``dashboard/charts.py``), never a run colour.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import altair as alt
import streamlit as st

from dashboard import charts, data, ui
from kdlab.store.reader import RunInfo

# (origin, profile) -> the colour of that store's newest run of that profile; older runs take OLDER in turn
FIRST = {
    (data.REFERENCE, "full"): "#1f77b4",
    (data.REFERENCE, "paper"): "#17becf",
    (data.REFERENCE, "quick"): "#aec7e8",
    (data.YOURS, "quick"): "#ff7f0e",
    (data.YOURS, "full"): "#2ca02c",
    (data.YOURS, "paper"): "#9467bd",
}
OLDER = ("#d62728", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94")


def _peers(run: RunInfo, runs: list[RunInfo]) -> list[RunInfo]:
    """Complete runs of the same notebook, store and profile, newest first."""
    return [
        r for r in runs if r.ok and r.notebook == run.notebook and r.origin == run.origin and r.profile == run.profile
    ]


def _rank(run: RunInfo, runs: list[RunInfo]) -> int:
    ids = [r.run_id for r in _peers(run, runs)]
    return ids.index(run.run_id) if run.run_id in ids else len(ids)


def series(run: RunInfo, runs: list[RunInfo] | None = None, page_nb: str | None = None) -> str:
    """``yours · quick · 2026-12-04 15:40`` / ``reference · full``; `` · notebook 03`` appended for a run of another notebook
    than the page's (lesson 01 also reads notebook 03's soft targets)."""
    runs = data.load_runs() if runs is None else runs
    peers = _peers(run, runs)
    if run.origin == data.REFERENCE and len(peers) <= 1:
        name = f"{data.REFERENCE} · {run.profile}"
    else:
        name = f"{run.origin} · {run.profile} · {ui.run_date(run)}"
        if sum(ui.run_date(r) == ui.run_date(run) for r in peers) > 1:  # two runs in one minute
            name += f" · {run.run_id[-6:]}"
    nb = data.notebook_key(run)
    return name + (f" · notebook {nb}" if page_nb and nb != page_nb else "")


def colour(run: RunInfo, runs: list[RunInfo] | None = None) -> str:
    """The run's colour on every page (see the module docstring)."""
    runs = data.load_runs() if runs is None else runs
    rank = _rank(run, runs)
    first = FIRST.get((run.origin, run.profile))
    if rank == 0 and first:
        return first
    offset = 0 if run.origin == data.YOURS else len(OLDER) // 2  # yours and the reference's older runs apart
    return OLDER[(max(rank - 1, 0) + offset) % len(OLDER)]


def scale(chosen: Iterable[RunInfo], page_nb: str | None = None) -> alt.Scale:
    """The colour scale of a chart whose ``run`` field holds ``series(...)`` names."""
    runs = data.load_runs()
    chosen = list(chosen)
    return alt.Scale(domain=[series(r, runs, page_nb) for r in chosen], range=[colour(r, runs) for r in chosen])


def color(chosen: Iterable[RunInfo], page_nb: str | None = None, field: str = "run", title: str = "run"):
    """``alt.Color`` of the run series with the legend below the plot."""
    return alt.Color(f"{field}:N", title=title, scale=scale(chosen, page_nb), sort=None, legend=charts.legend(title))


def defaults(runs: list[RunInfo]) -> list[RunInfo]:
    """Your newest complete run of each profile, then the newest reference run of each profile."""
    out: dict[tuple[str, str], RunInfo] = {}
    for r in runs:  # newest first
        out.setdefault((r.origin, r.profile), r)
    return sorted(out.values(), key=lambda r: (r.origin == data.REFERENCE, data.column_order(r.profile)))


def pick(runs: list[RunInfo], key: str, page_nb: str, text: str = "Runs to draw (overlaid)"):
    """The page's run picker: a multiselect of ``runs`` (complete, newest first), ``defaults`` preselected; returns the
    chosen runs in the order shown. Empty when the reader clears it (the page says so)."""
    everything = data.load_runs()
    names = {series(r, everything, page_nb): r for r in runs}
    default = [series(r, everything, page_nb) for r in defaults(runs)]
    chosen = st.multiselect(text, list(names), default=default, key=key)
    if not chosen:
        st.info("Pick at least one run.")
    return [names[n] for n in chosen if n in names]


def name_of(runs: Iterable[RunInfo], page_nb: str | None = None) -> dict[str, str]:
    """run_id -> series name, for pages that build frames keyed by run."""
    everything = data.load_runs()
    return {r.run_id: series(r, everything, page_nb) for r in runs}


def key_html(chosen: Iterable[RunInfo], page_nb: str | None = None, paper: Iterable[str] = ()) -> str:
    """The runs' colours (and the paper's marks) as one line of HTML, for a row of small panels whose own legends
    would be cut: ``● yours · quick · … ● reference · full ★ the paper: …``."""
    runs = data.load_runs()
    items = [
        f'<span style="color:{colour(r, runs)};font-size:1.2em">&#9679;</span>&nbsp;{html.escape(series(r, runs, page_nb))}'
        for r in chosen
    ]
    items += [f'<span style="font-size:1.1em">&#9733;</span>&nbsp;{html.escape(p)}' for p in paper]
    return '<div style="line-height:1.8">' + " &nbsp; ".join(items) + "</div>"


def pick_one(chosen: list[RunInfo], key: str, page_nb: str, text: str) -> RunInfo:
    """One of the drawn runs (for a page's per-run tables), by its series name; the first when only one is drawn."""
    if len(chosen) == 1:
        return chosen[0]
    names = name_of(chosen, page_nb)
    label = st.selectbox(text, [names[r.run_id] for r in chosen], index=0, key=key)
    return next((r for r in chosen if names[r.run_id] == label), chosen[0])
