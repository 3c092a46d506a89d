"""The Claims page's rows: each run's ``claims.json`` read into one shape whatever its schema, three verdicts and the
units of margin and noise.

- Schema ``kdlab.claims/2`` (when a run has it) records ``verdict`` (``holds`` / ``weaker`` / ``does not hold``),
  ``paper_figure``, ``ours`` (mean over seeds), ``spread`` ([min, max] over seeds), ``seeds``, ``noise`` and
  ``control``; each is read when present, as a number, a ``{"value", "unit"}`` object, a ``[value, unit]`` pair or
  text.
- Schema ``kdlab.claims/1`` has only ``holds``: its verdict is ``holds`` or ``does not hold`` and the row says
  ``schema 1``; the unit of margin and noise is read from the claim's own wording (``(11.0 errors)`` in its rule,
  ``errors`` / ``bits`` / ``%`` in its figure), and a fraction of a percentage is shown in points.
Nothing is recomputed: every figure and verdict is the run's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from dashboard import charts, data
from kdlab.claim_record import FILE
from kdlab.jsonio import read_json_object
from kdlab.store.reader import RunInfo

VERDICTS = ("holds", "weaker", "does not hold")
CHIP = {  # verdict -> (text colour, background): readable as text, no emoji font needed
    "holds": ("#0b5d1e", "#d7f2dd"),
    "weaker": ("#7a4b00", "#fdebc8"),
    "does not hold": ("#8a1111", "#fadada"),
}


@dataclass(frozen=True)
class Verdict:
    """One claim as one run judged it."""

    id: str
    title: str
    section: str
    statement: str
    judged_by: str
    paper: str  # the paper's figure, with its unit
    ours: str
    verdict: str  # one of VERDICTS
    margin: str  # "+61 errors" or "—"
    noise: str  # "11 errors (McNemar)" or "—"
    seeds: str = ""  # "3 seeds, 72–81 errors" or ""
    control: str = ""
    schema: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def title(claim_id: str) -> str:
    """``03.distilled_beats_baseline`` → ``distilled beats baseline``."""
    return claim_id.split(".", 1)[-1].replace("_", " ")


def number(x: float) -> str:
    """Three significant digits without exponents, U+2212 for minus: ``61``, ``0.977``, ``1,354``."""
    x = float(x)
    if abs(x) >= 1000:
        text = f"{x:,.0f}"
    elif x == 0 or abs(x) >= 0.001:
        text = f"{x:.3g}" if abs(x) >= 1 else f"{x:.3f}".rstrip("0").rstrip(".")
    else:
        text = f"{x:.1e}"
    return charts.minus(text)


def unit_of(item: dict[str, Any]) -> tuple[str, float]:
    """(unit, factor) of a schema-1 claim's margin and noise, read from its wording: a fraction of a percentage is
    shown ×100 in points; '' when the wording names no unit."""
    rule = str(item.get("judged_by") or "")
    words = " ".join(str(item.get(k) or "") for k in ("ours", "paper", "judged_by"))
    named = re.search(r"\(\s*[\d.,]+\s*([a-zA-Z]+)\s*\)", rule)
    if named:
        return named.group(1), 1.0
    for word in ("errors", "bits", "images", "points"):
        if word in words:
            return word, 1.0
    if "%" in words or "share" in rule or "half" in rule:
        margin = item.get("margin")
        small = isinstance(margin, (int, float)) and abs(margin) <= 1.5
        return "points", 100.0 if small else 1.0
    if "NLL" in words:
        return "nats", 1.0
    return "", 1.0


def figure(value: Any, unit: str = "", factor: float = 1.0) -> str:
    """A recorded figure as text: a number (with ``unit``), ``{"value", "unit", "how"}``, ``[value, unit]`` or text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        if not math.isfinite(float(value)):
            return "—"
        return f"{number(factor * value)} {unit}".strip()
    if isinstance(value, dict):
        inner = value.get("value", value.get("mean"))
        text = figure(inner, str(value.get("unit") or unit), factor if "unit" not in value else 1.0)
        how = value.get("how") or value.get("method") or value.get("what")
        return f"{text} ({how})" if how else text
    if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[1], str):
        return figure(value[0], value[1])
    if isinstance(value, (list, tuple)):
        return "–".join(figure(v, "", factor) for v in value) + (f" {unit}" if unit else "")
    return charts.minus(str(value))


def signed(value: Any, unit: str, factor: float) -> str:
    """A margin with its sign: ``+61 errors``, ``−4.4 errors``."""
    if isinstance(value, dict):
        unit, factor, value = str(value.get("unit") or unit), 1.0, value.get("value")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(float(value)):
        return "—"
    text = figure(value, unit, factor)
    return text if text.startswith(charts.MINUS) else "+" + text


def verdict_of(item: dict[str, Any]) -> str:
    v = str(item.get("verdict") or "").strip().lower()
    if v in VERDICTS:
        return v
    return "holds" if item.get("holds") else "does not hold"


def seeds_text(item: dict[str, Any], unit: str) -> str:
    """``3 seeds, range 72–81 errors`` from ``seeds`` and ``spread`` (schema 2); '' when absent."""
    seeds, spread = item.get("seeds"), item.get("spread")
    n = len(seeds) if isinstance(seeds, (list, tuple)) else seeds if isinstance(seeds, int) else None
    parts = [f"{n} seed{'s' if n != 1 else ''}"] if n is not None else []
    if isinstance(spread, (list, tuple)) and len(spread) == 2 and all(isinstance(v, (int, float)) for v in spread):
        parts.append(f"range {number(spread[0])}–{number(spread[1])}" + (f" {unit}" if unit else ""))
    elif spread is not None and not isinstance(spread, (list, tuple)):
        parts.append(f"spread {figure(spread, unit)}")
    return ", ".join(parts)


def noise_text(item: dict[str, Any], unit: str, factor: float) -> str:
    """``10 % of the gap (test set (McNemar))``: the noise with the yardstick that decided (schema 2's
    ``noise_source``), ``—`` where the test is exact."""
    text = figure(item.get("noise"), unit, factor)
    source = str(item.get("noise_source") or "")
    return f"{text} ({source})" if source and text != "—" else text


def schema_number(obj: dict[str, Any]) -> int | None:
    m = re.fullmatch(r"kdlab\.claims/(\d+)", str(obj.get("schema", "")))
    return int(m.group(1)) if m else None


def row(item: dict[str, Any], schema: int) -> Verdict:
    ours = item.get("ours")
    unit, factor = unit_of(item) if schema < 2 else (str(item.get("unit") or ""), 1.0)
    if schema >= 2 and not unit:  # the unit of the mean over seeds, else the wording's
        unit, factor = (str(ours["unit"]), 1.0) if isinstance(ours, dict) and ours.get("unit") else unit_of(item)
    paper = item.get("paper_figure") if item.get("paper_figure") is not None else item.get("paper")
    control = item.get("control")
    return Verdict(
        id=str(item["id"]),
        title=str(item.get("title") or title(str(item["id"]))),
        section=str(item.get("section") or ""),
        statement=charts.minus(str(item.get("statement") or "")),
        judged_by=charts.minus(str(item.get("judged_by") or "")),
        paper=figure(paper, unit) if paper is not None else "—",
        ours=figure(item.get("ours"), unit),
        verdict=verdict_of(item),
        margin=signed(item.get("margin"), unit, factor),
        noise=noise_text(item, unit, factor),
        seeds=seeds_text(item, unit),
        control=figure(control) if control is not None else "",
        schema=schema,
    )


def read(run: RunInfo) -> tuple[list[Verdict] | None, str]:
    """The run's claims as rows, or ``(None, one line naming the run and what is wrong)``; never raises."""
    where = f"run {run.notebook}/{run.run_id} (profile {run.profile})"
    path = run.path / FILE
    if not path.exists():
        return (
            None,
            f"{where}: {FILE} is missing (the run predates claims, or its notebook did not reach its last cell)",
        )
    obj, problem = read_json_object(path)
    if obj is None:
        return None, f"{where}: {problem}"
    schema = schema_number(obj)
    if schema is None or schema > 2:
        return None, f"{where}: {FILE} has unknown schema {obj.get('schema')!r} (this dashboard reads kdlab.claims/1–2)"
    if schema == 1:  # the strict reader of schema 1: the same verdicts the notebook printed
        found, problem = data.claims(run)
        if found is None:
            return None, problem
    items = obj.get("claims")
    if not isinstance(items, list):
        return None, f"{where}: {FILE} has no list of claims"
    out, nb = [], data.notebook_key(run)
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not re.fullmatch(r"\d\d\.[a-z0-9_]+", str(item.get("id", ""))):
            return None, f"{where}: {FILE}: claim {i} is malformed (no valid id)"
        if not str(item["id"]).startswith(nb + "."):
            return None, f"{where}: {FILE} holds a claim of another notebook: {item['id']}"
        out.append(row(item, schema))
    return out, ""


def tally(rows: list[Verdict]) -> dict[str, int]:
    """How many rows say each verdict, in VERDICTS order."""
    return {v: sum(r.verdict == v for r in rows) for v in VERDICTS}


def tally_text(counts: dict[str, int]) -> str:
    """``20 hold, 2 weaker, 1 do not hold``."""
    hold, weaker, fail = (counts.get(v, 0) for v in VERDICTS)
    return f"{hold} hold, {weaker} weaker, {fail} do not hold"


def chip(verdict: str) -> str:
    """The verdict as a coloured text chip (HTML)."""
    fg, bg = CHIP.get(verdict, ("#333333", "#eeeeee"))
    return (
        f'<span class="kd-chip" style="color:{fg};background:{bg};border:1px solid {fg}33;border-radius:0.8em;'
        f'padding:0.05em 0.6em;white-space:nowrap;font-weight:600;font-size:0.85em">{verdict}</span>'
    )
