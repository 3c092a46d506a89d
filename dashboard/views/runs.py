"""Runs: every run folder in the store, its status (with the reason when it is not a result), and a side-by-side
comparison of two runs (parameters that differ, metrics). ``/runs?run=<run id>`` (the Claims page links here so)
shows that run first and preselects it as run A of the comparison."""

import pandas as pd
import streamlit as st

from dashboard import data


def status_text(run) -> str:
    """complete / incomplete / failed / invalid, plus missing contract artifacts for a complete run."""
    if not run.ok:
        return run.status
    missing = data.missing_artifacts(run)
    return "complete" if not missing else "complete (missing " + ", ".join(missing) + ")"


def runs_table(runs) -> pd.DataFrame:
    rows = []
    for r in runs:
        wall = r.env.get("wall_time_s")
        rows.append(
            {
                "run": r.run_id,
                "notebook": r.notebook,
                "profile": r.profile,
                "status": status_text(r),
                "reason": r.problem,
                "date (UTC)": data.run_date(r),
                "device": data.device(r) if r.env else "",
                "wall time (s)": float(wall) if isinstance(wall, (int, float)) else None,
                "headline metrics": data.headline(r),
            }
        )
    return pd.DataFrame(rows)


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
        text = f"**Selected run** `{run.notebook}/{run.run_id}` — **{status_text(run)}**"
        st.markdown(text + (f": {run.problem}" if run.problem else ""))
        st.caption(data.source(run))
        st.caption(f"Folder: `{run.path}`")
        if run.ok:
            claims, problem = data.claims(run)
            if claims is None:
                st.caption(f"Claims: {problem}")
            else:
                held = sum(c.holds for c in claims)
                st.caption(f"Claims: {held} of {len(claims)} hold (the Claims page shows them)")
        if run.metrics:
            st.caption(f"Headline metrics: {data.headline(run)}")
    return run


def compare(runs, first=None) -> None:
    st.subheader("Compare two runs")
    complete = [r for r in runs if r.ok]
    readable = complete + [r for r in runs if not r.ok and (r.params or r.metrics)]
    if len(readable) < 2:
        st.info("Two runs with readable parameters are needed for a comparison.")
        return
    labels = [data.label(r) for r in readable]
    # default: the selected (else the newest complete) run against the next run of the same notebook (quick vs full)
    a = next((k for k, r in enumerate(readable) if first is not None and r.run_id == first.run_id), 0)
    same = [k for k, r in enumerate(readable) if k != a and r.notebook == readable[a].notebook]
    left, right = st.columns(2)
    a_label = left.selectbox("Run A", labels, index=a, key="compare_a")
    b_label = right.selectbox("Run B", labels, index=same[0] if same else (1 if a == 0 else 0), key="compare_b")
    a, b = readable[labels.index(a_label)], readable[labels.index(b_label)]
    left.caption(data.source(a))
    right.caption(data.source(b))
    pa, pb = data.flatten(a.params), data.flatten(b.params)
    keys = sorted(set(pa) | set(pb))
    diff = [
        {"parameter": k, "A": data.fmt(pa.get(k, "—")), "B": data.fmt(pb.get(k, "—"))}
        for k in keys
        if pa.get(k, "—") != pb.get(k, "—")
    ]
    st.markdown(f"**Parameters that differ** ({len(diff)} of {len(keys)})")
    if diff:
        st.table(pd.DataFrame(diff).set_index("parameter"))
    else:
        st.caption("All parameters are equal.")
    with st.expander("All parameters"):
        st.table(
            pd.DataFrame(
                [{"parameter": k, "A": data.fmt(pa.get(k, "—")), "B": data.fmt(pb.get(k, "—"))} for k in keys]
            ).set_index("parameter")
        )
    ma, mb = data.flatten(a.metrics), data.flatten(b.metrics)
    mkeys = sorted(set(ma) | set(mb))
    st.markdown("**Metrics**")
    if not mkeys:
        st.caption("Neither run recorded metrics.")
        return
    rows = []
    for k in mkeys:
        va, vb = ma.get(k), mb.get(k)
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (va, vb))
        rows.append(
            {
                "metric": k,
                "A": data.fmt(va) if k in ma else "—",
                "B": data.fmt(vb) if k in mb else "—",
                "B − A": data.fmt(vb - va) if numeric else "",
            }
        )
    st.table(pd.DataFrame(rows).set_index("metric"))


def main() -> None:
    st.title("Runs")
    root = data.runs_dir()
    runs = data.load_runs(root)
    if not runs:
        st.info(
            f"No runs in `{root}` yet. Start with the first lesson:\n\n```\n{data.run_command('01')}\n```\n\n"
            "Every notebook run through `kdlab run` lands here (set `KDLAB_RUNS` or pass `--runs DIR` to read "
            "another store)."
        )
        return
    chosen = selected_run(runs)
    notebooks = sorted({r.notebook for r in runs})
    profiles = sorted({r.profile for r in runs})
    c1, c2, c3 = st.columns(3)
    # an empty filter means "all", so runs of a notebook that appears later are not hidden by a stale selection
    pick_nb = c1.multiselect("Notebook", notebooks, key="filter_notebook", placeholder="all notebooks")
    pick_profile = c2.multiselect("Profile", profiles, key="filter_profile", placeholder="all profiles")
    statuses = ["complete", "incomplete", "failed", "invalid"]
    pick_status = c3.multiselect("Status", statuses, key="filter_status", placeholder="all statuses")
    shown = [
        r
        for r in runs
        if (not pick_nb or r.notebook in pick_nb)
        and (not pick_profile or r.profile in pick_profile)
        and (not pick_status or r.status in pick_status)
    ]
    n_ok = sum(r.ok for r in shown)
    st.markdown(f"**{len(shown)}** of {len(runs)} run folders shown · **{n_ok}** complete · store `{root}`")
    st.dataframe(
        runs_table(shown),
        hide_index=True,
        width="stretch",
        column_config={"wall time (s)": st.column_config.NumberColumn(format="%.1f")},
    )
    bad = [r for r in shown if not r.ok or data.missing_artifacts(r)]
    if bad:
        st.subheader("Runs that are not (full) results")
        st.caption(
            "These are skipped on the other pages (a complete run with a missing artifact is skipped only "
            "where that artifact is needed)."
        )
        for r in bad:
            text = f"`{r.notebook}/{r.run_id}` — **{status_text(r)}**"
            if r.problem:
                text += f": {r.problem}"
            (st.error if r.status in ("failed", "invalid") else st.warning)(text)
    compare(shown, chosen)


data.guard(main)
