"""Runs: every run folder in the store, its status (with the reason when it is not a result), and a side-by-side
comparison of two runs of one notebook by default (parameters that differ, metrics; runs of two notebooks on request). ``/runs?run=<run id>`` (the Claims page links here so)
shows that run first and preselects it as run A of the comparison."""

import pandas as pd
import streamlit as st

from dashboard import data, ui


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
                "store": r.origin,
                "notebook": r.notebook,
                "profile": r.profile,
                "status": status_text(r),
                "reason": r.problem,
                "date (UTC)": ui.run_date(r),
                "device": ui.device(r) if r.env else "",
                "commit": str(r.env.get("git_commit") or "")[:10],
                "wall time (s)": float(wall) if isinstance(wall, (int, float)) else None,
                "headline metrics": ui.headline(r),
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
        st.caption(ui.source(run))
        st.caption(f"Folder: `{run.path}`")
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


def param_rows(keys, pa: dict, pb: dict) -> list[dict]:
    return [{"parameter": k, "A": ui.fmt(pa.get(k, "—")), "B": ui.fmt(pb.get(k, "—"))} for k in keys]


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
    pa, pb = ui.flatten(a.params), ui.flatten(b.params)
    shared = sorted(set(pa) & set(pb))
    only = sorted(set(pa) ^ set(pb))
    diff = [k for k in shared if pa[k] != pb[k]]
    st.markdown(f"**Parameters that differ** ({len(diff)} of the {len(shared)} both runs set)")
    if diff:
        st.table(pd.DataFrame(param_rows(diff, pa, pb)).set_index("parameter"))
    else:
        st.caption("All the parameters both runs set are equal.")
    if only:
        with st.expander(f"Parameters only one of the runs sets ({len(only)})"):
            st.table(pd.DataFrame(param_rows(only, pa, pb)).set_index("parameter"))
    with st.expander("All parameters"):
        st.table(pd.DataFrame(param_rows(sorted(set(pa) | set(pb)), pa, pb)).set_index("parameter"))
    ma, mb = ui.flatten(a.metrics), ui.flatten(b.metrics)
    both = sorted(set(ma) & set(mb))
    st.markdown("**Metrics both runs recorded**")
    lone = sorted(set(ma) ^ set(mb))
    if lone:
        st.caption(
            f"Recorded by one run only (not compared): {', '.join(lone[:12])}" + (" …" if len(lone) > 12 else "")
        )
    if not both:
        st.caption("The two runs recorded no metric in common.")
        return
    rows = []
    for k in both:
        va, vb = ma[k], mb[k]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (va, vb))
        rows.append({"metric": k, "A": ui.fmt(va), "B": ui.fmt(vb), "B − A": ui.fmt(vb - va) if numeric else ""})
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
    if any(r.origin == data.REFERENCE for r in runs):
        st.caption(
            f"Runs marked `reference` are the published full- and paper-profile results in `{data.reference_dir()}` "
            "(`kdlab publish`); `yours` are the runs you made."
        )
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


ui.guard(main)
