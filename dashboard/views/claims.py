"""Claims: a scoreboard of every claim of the paper that a notebook tests — one row per claim, the paper's figure, the
reference run's figure and yours, each with its verdict (``holds`` / ``weaker`` / ``does not hold``), margin and noise
with units — read from the ``claims.json`` of the newest complete run of each notebook × profile (``kdlab/claim_record.py``;
``dashboard/scoreboard.py`` reads both schemas). Nothing on this page is typed in: a verdict exists only if a run
wrote it."""

from __future__ import annotations

import streamlit as st

from dashboard import board, data, scoreboard, ui
from dashboard.board import e
from dashboard.scoreboard import VERDICTS
from kdlab.syllabus import PAGES, STEMS, TITLES

INTRO = (
    "A *claim* is one statement of the paper turned into a test: the paper's figure, ours, and a rule that says "
    "whether the claim holds given the run's noise. Every verdict is computed by the notebook run it names and read "
    "from that run's `claims.json`. Hover a claim for its statement, or open it for the rule that judged it."
)


def columns(newest: dict) -> list[str]:
    """The run columns on the page: the reference's profiles first, then yours (quick, full, paper)."""
    names = {col for _, col in newest}
    return sorted(names, key=lambda c: (not c.endswith(data.REFERENCE), data.column_order(c)))


def heading(col: str) -> str:
    """``full · reference`` → ``reference · full``; ``quick`` → ``yours · quick``."""
    profile = col.split(" · ")[0]
    return f"{data.REFERENCE} · {profile}" if col.endswith(data.REFERENCE) else f"{data.YOURS} · {profile}"


def sections(nbs: list[str]) -> list[tuple[str, str]]:
    """A group row per notebook: ``03 · Distillation & sweeps · lesson page``."""
    out = []
    for nb in nbs:
        page = PAGES.get(nb, "").rsplit("/", 1)[-1].removesuffix(".py")
        link = f' · <a href="./{e(page)}" target="_self">lesson page</a>' if page else ""
        out.append((nb, f"{e(nb)} · {e(TITLES.get(nb, STEMS.get(nb, nb)))}{link}"))
    return out


def tallies(cols: list[str], newest: dict, rows: dict) -> None:
    """``reference · full: 20 hold, 2 weaker, 1 do not hold`` per run column, over every notebook."""
    lines = []
    for c in cols:
        mine = [v for (nb, col), found in rows.items() if col == c for v in found or []]
        nbs = sorted(nb for nb, col in newest if col == c)
        schema1 = any(v.schema < 2 for v in mine)
        counts = scoreboard.tally(mine)
        chips = " ".join(f"{scoreboard.chip(v)} {counts[v]}" for v in VERDICTS)
        lines.append(
            f"**{e(heading(c))}**: {scoreboard.tally_text(counts)} &nbsp; {chips} "
            f"<small>(notebooks {', '.join(nbs)}{'; schema 1: no weaker verdict' if schema1 else ''})</small>"
        )
    st.markdown("<br>".join(lines), unsafe_allow_html=True)


def main() -> None:
    st.title("Claims")
    st.markdown(INTRO)
    root = data.runs_dir()
    runs = data.load_runs(root)
    newest = data.newest_complete(runs)
    rows, problems = {}, []
    for key, run in newest.items():
        found, problem = scoreboard.read(run)
        rows[key] = found
        if found is None:
            problems.append(problem)
    cols = [c for c in columns(newest) if any(rows.get(k) for k in newest if k[1] == c)]  # readable columns only
    if not any(rows.values()):
        st.info(
            "No claims from a run yet. Each notebook writes its claims when it runs, e.g.\n\n"
            "```\nkdlab run 01 --profile quick\n```\n\n(or `kdlab run all --profile quick` for every notebook)."
        )
    tallies(cols, newest, rows)
    nbs = list(STEMS) + sorted({nb for nb, _ in newest} - set(STEMS))
    f1, f3 = st.columns(2)
    picked_nbs = f1.pills(
        "Notebooks", nbs, default=nbs, key="claims_nb", selection_mode="multi", format_func=lambda nb: f"{nb}"
    )
    picked_verdicts = f3.pills(
        "Verdicts", list(VERDICTS), default=list(VERDICTS), key="claims_verdict", selection_mode="multi"
    )
    picked_cols = st.pills(
        "Runs (newest complete run of each profile)",
        cols,
        default=cols,
        key="claims_profile",
        selection_mode="multi",
        format_func=heading,
    )
    picked_nbs = [nb for nb in nbs if nb in (picked_nbs or [])]
    picked_cols = [c for c in cols if c in (picked_cols or [])]
    columns_ = [
        (heading(c), {nb: (run, rows.get((nb, c))) for (nb, col), run in newest.items() if col == c})
        for c in picked_cols
    ]
    table, shown = board.render(sections(picked_nbs), columns_, set(picked_verdicts))
    if shown:
        st.markdown(table, unsafe_allow_html=True)
    else:
        st.caption("No claim matches these filters.")
    st.caption(
        "Each run column is the newest complete run of that profile: margin is how far inside (+) or outside (−) "
        "the claim's threshold the run landed, noise the yardstick it was judged against (— where the test is exact); "
        "for schema-1 runs the unit is read from the claim's wording."
    )
    for problem in problems:
        st.warning(problem)
    missing = [nb for nb in STEMS if not any(k == nb for k, _ in newest)]
    if missing:
        commands = "\n".join(f"kdlab run {nb} --profile quick" for nb in missing)
        st.info(f"No complete run yet of notebook(s) {', '.join(missing)}. Make one with:\n\n```\n{commands}\n```")
    ui.skipped_note(tuple(STEMS), runs)


ui.guard(main)
