"""Runs: every run folder of both stores (yours and the reference), counted per store, with its status (with why it
is not a result and how long it ran), and a side-by-side comparison of two runs of one notebook by default
(parameters that differ, metrics in natural order; runs of two notebooks on request). ``/runs?run=<run id>`` (the
Claims page links here so) shows that run first and preselects it as run A of the comparison. The tables and lines
come from ``dashboard/run_table.py``."""

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard import run_table as rt


def selected_run(runs):
    """The run named by the ``run`` query parameter, shown in a box with its folder and claims; None if none/unknown."""
    wanted = st.query_params.get("run")
    if not wanted:
        return None
    run = next((r for r in runs if r.run_id == wanted), None)
    if run is None:
        st.warning(f"No run `{wanted}` in this store (the link may come from another store, or the run was removed).")
        return None
    with st.container(border=True):
        text = f"**Selected run** `{run.notebook}/{run.run_id}` — **{rt.status_text(run)}**"
        st.markdown(text + (f": {rt.why(run)}" if not run.ok else ""))
        st.caption(ui.source(run) + f" · ran for {rt.duration(run.duration_s)}")
        st.caption(f"Folder: {rt.folder(run)}")
        if run.ok:
            claims, problem = data.claims(run)
            if claims is None:
                st.caption(f"Claims: {problem}")
            else:
                held = sum(c.holds for c in claims)
                st.caption(f"Claims: {held} of {len(claims)} hold (the Claims page shows them)")
        if run.metrics:
            st.caption(f"Headline metrics: {ui.headline(run)}")
    return run


def pick_pair(runs, first):
    """Run A (the selected, else the newest complete run) and run B: by default another run of A's notebook; runs of
    other notebooks only when asked for (their parameters hardly overlap, so the comparison would be mostly '—')."""
    complete = [r for r in runs if r.ok]
    readable = complete + [r for r in runs if not r.ok and (r.params or r.metrics)]
    if len(readable) < 2:
        st.info("Two runs with readable parameters are needed for a comparison.")
        return None
    labels = [ui.label(r) for r in readable]
    a = next((k for k, r in enumerate(readable) if first is not None and r.run_id == first.run_id), 0)
    left, right = st.columns(2)
    a = readable[labels.index(left.selectbox("Run A", labels, index=a, key="compare_a"))]
    any_notebook = st.checkbox(
        "Let run B be a run of another notebook",
        key="compare_any",
        help="Off: run B is another run of run A's notebook (another seed, profile or date).",
    )
    pool = [r for r in readable if r.run_id != a.run_id and (any_notebook or r.notebook == a.notebook)]
    if not pool:
        right.info(
            f"No other run of `{a.notebook}` here to compare with. Make one (another seed or profile), e.g. "
            f"`{data.run_command(data.notebook_key(a), 'full')}`, or tick the box to pick a run of another notebook."
        )
        return None
    b_labels = [ui.label(r) for r in pool]
    b = pool[b_labels.index(right.selectbox("Run B", b_labels, index=0, key="compare_b"))]
    left.caption(ui.source(a))
    right.caption(ui.source(b))
    return a, b


def compare(runs, first=None) -> None:
    st.subheader("Compare two runs")
    pair = pick_pair(runs, first)
    if pair is None:
        return
    a, b = pair
    pa, pb = ui.flatten(rt.relative(a, a.params)), ui.flatten(rt.relative(b, b.params))
    shared = sorted(set(pa) & set(pb), key=rt.natural_key)
    only = sorted(set(pa) ^ set(pb), key=rt.natural_key)
    diff = [k for k in shared if pa[k] != pb[k]]
    st.markdown(f"**Parameters that differ** ({len(diff)} of the {len(shared)} both runs set)")
    if diff:
        st.table(pd.DataFrame(rt.param_rows(diff, pa, pb)).set_index("parameter"))
    else:
        st.caption("All the parameters both runs set are equal.")
    if only:
        with st.expander(f"Parameters only one of the runs sets ({len(only)})"):
            st.table(pd.DataFrame(rt.param_rows(only, pa, pb)).set_index("parameter"))
    with st.expander("All parameters"):
        st.table(
            pd.DataFrame(rt.param_rows(sorted(set(pa) | set(pb), key=rt.natural_key), pa, pb)).set_index("parameter")
        )
    rows, lone = rt.metric_rows(a, b)
    st.markdown("**Metrics both runs recorded**")
    if lone:
        st.caption(
            f"Recorded by one run only (not compared): {', '.join(lone[:12])}" + (" …" if len(lone) > 12 else "")
        )
    if not rows:
        st.caption("The two runs recorded no metric in common.")
        return
    st.table(pd.DataFrame(rows).set_index("metric"))


def main() -> None:
    st.title("Runs")
    root = data.runs_dir()
    runs = data.load_runs(root)
    if not runs:
        st.info(
            f"No runs in `{root}` yet. Start with the first lesson:\n\n```\n{chr(10).join(data.first_run('01'))}\n```\n\n"
            "Every notebook run through `kdlab run` lands here (set `KDLAB_RUNS` or pass `--runs DIR` to read "
            "another store)."
        )
        return
    chosen = selected_run(runs)
    notebooks = sorted({r.notebook for r in runs})
    profiles = sorted({r.profile for r in runs})
    c0, c1, c2, c3 = st.columns([1, 2, 1, 1])
    # an empty filter means "all", so runs of a notebook that appears later are not hidden by a stale selection
    pick_store = c0.multiselect("Store", [data.YOURS, data.REFERENCE], key="filter_store", placeholder="both")
    pick_nb = c1.multiselect("Notebook", notebooks, key="filter_notebook", placeholder="all notebooks")
    pick_profile = c2.multiselect("Profile", profiles, key="filter_profile", placeholder="all profiles")
    statuses = ["complete", "incomplete", "failed", "invalid"]
    pick_status = c3.multiselect("Status", statuses, key="filter_status", placeholder="all statuses")
    shown = [
        r
        for r in runs
        if (not pick_store or r.origin in pick_store)
        and (not pick_nb or r.notebook in pick_nb)
        and (not pick_profile or r.profile in pick_profile)
        and (not pick_status or r.status in pick_status)
    ]
    st.markdown(rt.counts_line(runs, shown))
    st.caption(
        f"`yours`: the runs you made, in `{root}`; `reference`: the published full- and paper-profile results in "
        f"`{data.reference_dir()}` (`kdlab publish`). Paths inside a run are shown relative to its store."
    )
    st.dataframe(
        rt.runs_table(shown),
        hide_index=True,
        width="stretch",
        column_config={  # the run and its headline metrics fit 1280 px; the provenance columns may scroll
            "run": st.column_config.TextColumn(width=170),
            "store": st.column_config.TextColumn(width=75),
            "notebook": st.column_config.TextColumn(width=70),
            "profile": st.column_config.TextColumn(width=55),
            "status": st.column_config.TextColumn(width=140),
            "headline metrics": st.column_config.TextColumn(width=420),
            "why not a result": st.column_config.TextColumn(width=300),
        },
    )
    bad = [r for r in shown if not r.ok or data.missing_artifacts(r)]
    if bad:
        st.subheader("Runs that are not (full) results")
        st.caption(
            "These are skipped on the other pages (a complete run with a missing artifact is skipped only "
            "where that artifact is needed)."
        )
        for r in bad:
            text = f"`{r.notebook}/{r.run_id}` — **{rt.status_text(r)}**"
            if not r.ok:
                text += f": {rt.why(r)}"
            (st.error if r.status in ("failed", "invalid") else st.warning)(text)
    compare(shown, chosen)


ui.guard(main)
