"""Claims: every claim of the paper that a notebook tests — the paper's figure, ours, and whether it holds — per
notebook and profile, read from the ``claims.json`` of the newest complete run of each notebook × profile — your
runs, and beside them the published reference runs (``reference/``, full and paper profiles) — (schema and reader:
``kdlab/claim_record.py``). Nothing on this page is typed in: a verdict exists only if a run wrote it."""

import pandas as pd
import streamlit as st

from dashboard import data, lesson, ui
from dashboard.lesson import margin_noise, verdict

INTRO = (
    "A *claim* is one statement of the paper turned into a test — the paper's figure, our figure, and a rule that "
    "says whether the claim holds given the run's noise (for example: the distilled net makes fewer test errors "
    "than the same net trained on hard labels, by more than twice the McNemar noise). "
    "Every verdict below is computed by the notebook run it names and read from that run's `claims.json`; "
    "nothing on this page is pasted in."
)


def claims_table(found: dict[str, list]) -> pd.DataFrame:
    """One row per claim id (in the order the runs test them): the paper beside each profile's figure and verdict."""
    first: dict[str, object] = {}  # id -> the claim as the first profile words it
    for claims in found.values():
        for claim in claims:
            first.setdefault(claim.id, claim)
    rows = []
    for cid, claim in first.items():
        row = {"claim": cid, "§": claim.section, "statement": claim.statement, "paper": claim.paper}
        for profile, claims in found.items():
            mine = next((c for c in claims if c.id == cid), None)
            row[f"{profile}: ours"] = mine.result if mine else "—"
            row[f"{profile}: verdict"] = verdict(mine) if mine else "not tested"
            row[f"{profile}: margin / noise"] = margin_noise(mine) if mine else "—"
        row["judged by"] = claim.judged_by
        rows.append(row)
    return pd.DataFrame(rows).set_index("claim")


def headline(found: dict[tuple[str, str], list], profiles: list[str]) -> None:
    """The count of claims that hold in the newest quick runs, and the same count for the other profiles."""
    counts = {}
    for profile in profiles:
        mine = [c for (_, p), claims in found.items() if p == profile for c in claims]
        if mine:
            counts[profile] = (sum(c.holds for c in mine), len(mine))
    if "quick" in counts:
        held, total = counts["quick"]
        notebooks = sorted(nb for nb, p in found if p == "quick")
        st.markdown(
            f"**{held} of {total} claims hold in your newest quick runs** "
            f"(notebook{'s' if len(notebooks) > 1 else ''} {', '.join(notebooks)})."
        )
    else:
        st.info(
            "No claims from a quick run yet. Each notebook writes its claims when it runs, e.g.\n\n"
            "```\nkdlab run 01 --profile quick\n```\n\n(or `kdlab run all --profile quick` for every notebook)."
        )
    others = [f"{p}: {h} of {t} hold" for p, (h, t) in counts.items() if p != "quick"]
    if others:
        st.caption(
            "In the newest runs of the other profiles (`· reference`: published in `reference/`, made by the lab's "
            "authors with `kdlab run … --profile full`) — " + " · ".join(others) + "."
        )


def notebook_section(nb: str, newest: dict, found: dict, problems: dict, profiles: list[str], runs: list) -> None:
    stem = data.NOTEBOOKS.get(nb) or next(r.notebook for (k, _), r in newest.items() if k == nb)
    st.subheader(f"{nb} · {stem}")
    if nb in lesson.PAGE:
        st.page_link(
            lesson.PAGE[nb], label=f"Lesson {nb}'s page: the figures behind these claims", icon=":material/school:"
        )
    here = [(p, newest[(nb, p)]) for p in profiles if (nb, p) in newest]
    if not here:
        st.info(f"No complete run of `{stem}` yet. Make one with:\n\n```\nkdlab run {nb} --profile quick\n```")
        ui.skipped_note((nb,), runs)
        return
    for p, _ in here:
        if (nb, p) in problems:
            st.warning(problems[(nb, p)])
    readable = {p: found[(nb, p)] for p, _ in here if (nb, p) in found}
    if readable and any(readable.values()):
        st.table(claims_table(readable))
    elif readable:
        st.caption("The run(s) recorded no claims.")
    columns = st.columns(len(here))
    for col, (p, run) in zip(columns, here, strict=True):
        col.caption(f"**{p}** — {ui.source(run)} · folder `{run.path}`")
        col.page_link(
            "views/runs.py",
            label=f"Run {run.run_id} on the Runs page",
            icon=":material/table_rows:",
            query_params={"run": run.run_id},
        )
    lacking = [p for p in data.PROFILES if (nb, p) not in newest and (nb, f"{p} · {data.REFERENCE}") not in newest]
    if lacking:
        st.caption(
            f"No complete {' or '.join(lacking)} run of this notebook yet "
            f"(`kdlab run {nb} --profile {lacking[0]}` makes one)."
        )
    ui.skipped_note((nb,), runs)


def main() -> None:
    st.title("Claims")
    st.markdown(INTRO)
    root = data.runs_dir()
    runs = data.load_runs(root)
    newest = data.newest_complete(runs)
    nbs = list(data.NOTEBOOKS) + sorted({nb for nb, _ in newest} - set(data.NOTEBOOKS))
    profiles = sorted(set(data.PROFILES) | {p for _, p in newest}, key=data.column_order)
    found: dict[tuple[str, str], list] = {}  # (notebook, profile) -> claims of its newest complete run
    problems: dict[tuple[str, str], str] = {}  # (notebook, profile) -> why its claims cannot be read
    for key, run in newest.items():
        claims, problem = data.claims(run)
        if claims is None:
            problems[key] = problem
        else:
            found[key] = claims
    headline(found, profiles)
    if not runs:
        st.caption(f"The run store `{root}` holds no runs yet.")
    st.caption(
        "Columns per profile: our figure, the verdict, and margin / noise — how far inside (+) or outside (−) the "
        "claim's threshold the run landed, and the noise it was judged against (— where the test is exact)."
    )
    for nb in nbs:
        notebook_section(nb, newest, found, problems, profiles, runs)


ui.guard(main)
