"""The claims as an HTML table (the Claims page's scoreboard and each lesson page's claims box): one row per claim,
the paper's figure, then one column per run with its verdict chip, its figure and, in small print, margin · noise ·
seeds · the link to the run. The claim's statement is its tooltip and opens below its title with the rule that judged
it. Each run cell carries ``data-claim`` / ``data-run`` / ``data-verdict`` for the tests."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from dashboard import scoreboard
from kdlab.store.reader import RunInfo

STYLE = (
    "<style>.kd-board{border-collapse:collapse;width:100%;max-width:100%;font-size:0.88rem}"
    ".kd-board th,.kd-board td{border-bottom:1px solid #e3e3e3;padding:0.35em 0.5em;vertical-align:top;"
    "text-align:left;overflow-wrap:normal;word-break:normal;hyphens:none}"
    ".kd-board th{font-weight:600}.kd-board tr.kd-nb td{background:#f4f5f7;font-weight:600}"
    ".kd-board small{color:#555}.kd-board details summary{cursor:pointer;font-weight:600}"
    ".kd-board .kd-claim{width:22%}.kd-board .kd-paper{width:17%}</style>"
)

# a run column: its heading and, per notebook, (the run, its rows or None when its claims cannot be read)
Column = tuple[str, dict[str, tuple[RunInfo, Any]]]


def e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def cell(found: scoreboard.Verdict | None, run: RunInfo | None, column: str) -> str:
    """A run's verdict chip, its figure and, below, margin · noise · seeds · control and the link to the run."""
    if found is None or run is None:
        return f'<td data-run="{e(column)}"><small>not tested in this run</small></td>'
    details = [f"margin {found.margin}", f"noise {found.noise}"]
    details += [found.seeds] if found.seeds else []
    details += [f"control: {found.control}"] if found.control else []
    details += ["schema 1"] if found.schema < 2 else []
    link = f'<a href="./runs?run={e(run.run_id)}" target="_self">run {e(run.run_id[-6:])}</a>'
    return (
        f'<td data-claim="{e(found.id)}" data-run="{e(column)}" data-verdict="{e(found.verdict)}">'
        f"{scoreboard.chip(found.verdict)} {e(found.ours)}<br><small>{e(' · '.join(details))} · {link}</small></td>"
    )


def claim_cell(first: scoreboard.Verdict) -> str:
    tip = f"{first.statement} ({first.section})"
    return (
        f'<td><details title="{e(tip)}"><summary>{e(first.title)}</summary>'
        f"<small>{e(first.statement)} ({e(first.section)})<br>judged by: {e(first.judged_by)}<br>"
        f"id <code>{e(first.id)}</code></small></details></td>"
    )


def render(
    sections: Sequence[tuple[str, str | None]], columns: Sequence[Column], verdicts: set[str]
) -> tuple[str, int]:
    """The table and how many claim rows it shows. ``sections``: (notebook, header HTML or None for no group row);
    a claim shows when one of its run verdicts is in ``verdicts``."""
    head = "".join(f'<th class="kd-run">{e(name)}</th>' for name, _ in columns)
    out = [
        STYLE,
        f'<table class="kd-board"><thead><tr><th class="kd-claim">claim</th><th class="kd-paper">the paper</th>'
        f"{head}</tr></thead><tbody>",
    ]
    shown = 0
    for nb, header in sections:
        by_col = [{v.id: v for v in (col.get(nb, (None, None))[1] or [])} for _, col in columns]
        ids = list(dict.fromkeys(i for rows in by_col for i in rows))
        keep = [i for i in ids if {rows[i].verdict for rows in by_col if i in rows} & verdicts]
        if not keep:
            continue
        if header is not None:
            out.append(f'<tr class="kd-nb"><td colspan="{2 + len(columns)}">{header}</td></tr>')
        for cid in keep:
            first = next(rows[cid] for rows in by_col if cid in rows)
            runs = "".join(
                cell(rows.get(cid), col.get(nb, (None, None))[0], name)
                for rows, (name, col) in zip(by_col, columns, strict=True)
            )
            out.append(f"<tr>{claim_cell(first)}<td>{e(first.paper)}</td>{runs}</tr>")
            shown += 1
    out.append("</tbody></table>")
    return "".join(out), shown
