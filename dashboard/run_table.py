"""What the Runs page shows about runs, as tables and lines (``views/runs.py`` lays them out): runs counted per store,
each run's status with why it is not a result and how long it ran, its values with the paths in them made
store-relative, and the compare table's rows in natural order (``test_errors.2`` before ``test_errors.100``)."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from dashboard import data, ui
from kdlab.store.layout import store_relative
from kdlab.store.reader import RunInfo


def status_text(run: RunInfo) -> str:
    """complete / incomplete / failed / invalid, plus missing contract artifacts for a complete run."""
    if not run.ok:
        return run.status
    missing = data.missing_artifacts(run)
    return "complete" if not missing else "complete (missing " + ", ".join(missing) + ")"


def counts(runs: list[RunInfo]) -> dict[str, int]:
    """Run folders per store: ``{"yours": 0, "reference": 6}`` (both keys always present)."""
    return {origin: sum(r.origin == origin for r in runs) for origin in (data.YOURS, data.REFERENCE)}


def counts_line(runs: list[RunInfo], shown: list[RunInfo]) -> str:
    """``**yours: 0** · **reference: 6** (6 complete) run folders``, and how many the filters show when fewer."""
    parts = []
    for origin, n in counts(runs).items():
        ok = sum(r.ok for r in runs if r.origin == origin)
        parts.append(f"**{origin}: {n}**" + (f" ({ok} complete)" if n else ""))
    text = " · ".join(parts) + " run folders"
    if len(shown) != len(runs):
        text += f" · {len(shown)} shown by the filters ({sum(r.ok for r in shown)} complete)"
    return text


def duration(seconds: float | None) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``; ``—`` where nothing says how long the run took."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 3600:
        minutes, secs = divmod(int(round(seconds)), 60)
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(int(round(seconds / 60)), 60)
    return f"{hours} h {minutes:02d} min"


def short_status(run: RunInfo) -> str:
    """The status in a word for the table (``complete, 2 missing`` for a complete run lacking artifacts); ``why``
    says the rest."""
    missing = data.missing_artifacts(run) if run.ok else []
    return f"complete, {len(missing)} missing" if missing else run.status


def why(run: RunInfo) -> str:
    """Why a run is not a (full) result, in one line: a failed run's error and how long it ran before failing, the
    artifacts a complete run lacks, or what is wrong with the folder."""
    if run.status == "failed":
        error = (run.error.splitlines() or ["no reason recorded"])[-1]
        return f"failed after {duration(run.duration_s)}: {error}"
    if run.ok:
        missing = data.missing_artifacts(run)
        return f"missing {', '.join(missing)}" if missing else ""
    return run.problem


def store_dir(run: RunInfo):
    """The store the run was read from."""
    return data.reference_dir() if run.origin == data.REFERENCE else data.runs_dir()


def relative(run: RunInfo, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (params, metrics) with the absolute paths in them relative to the run's store
    (``kdlab.store.layout.store_relative``): runs published before ``kdlab publish`` did that carry the publishing
    machine's paths."""
    return store_relative(values, store_dir(run))


def folder(run: RunInfo) -> str:
    """``01_softmax_temperature/<run_id> in your store (/abs/runs)`` or ``… in reference/ (/abs/reference)``."""
    base = store_dir(run)
    try:
        rel = run.path.resolve().relative_to(base).as_posix()
    except ValueError:
        return f"`{run.path}`"
    where = "your store" if run.origin == data.YOURS else "the reference store"
    return f"`{rel}` in {where} (`{base}`)"


def natural_key(name: str) -> tuple:
    """Sort key that reads numbers as numbers: ``test_errors.2`` < ``test_errors.10`` < ``test_errors.100``."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part)


def runs_table(runs: list[RunInfo]) -> pd.DataFrame:
    """One row per run: who made it, its status, its headline metrics (before the wide columns, so no sideways
    scroll hides them), how long it ran, and why it is not a result."""
    rows = []
    for r in runs:
        rows.append(
            {
                "run": r.run_id,
                "store": r.origin,
                "notebook": data.notebook_key(r),  # the number: the filters above name the notebooks
                "profile": r.profile,
                "status": short_status(r),
                "headline metrics": ui.headline(r, n=3),
                "ran for": duration(r.duration_s),
                "why not a result": why(r),
                "date (UTC)": ui.run_date(r),
                "device": ui.device(r) if r.env else "",
                "commit": str(r.env.get("git_commit") or "")[:10],
            }
        )
    return pd.DataFrame(rows)


def param_rows(keys: list[str], pa: dict, pb: dict) -> list[dict]:
    return [{"parameter": k, "A": ui.fmt(pa.get(k, "—")), "B": ui.fmt(pb.get(k, "—"))} for k in keys]


def metric_rows(a: RunInfo, b: RunInfo) -> tuple[list[dict], list[str]]:
    """The metrics both runs recorded, in natural order, with B − A where both are numbers; and those only one has."""
    ma, mb = ui.flatten(relative(a, a.metrics)), ui.flatten(relative(b, b.metrics))
    rows = []
    for k in sorted(set(ma) & set(mb), key=natural_key):
        va, vb = ma[k], mb[k]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (va, vb))
        rows.append({"metric": k, "A": ui.fmt(va), "B": ui.fmt(vb), "B − A": ui.fmt(vb - va) if numeric else ""})
    return rows, sorted(set(ma) ^ set(mb), key=natural_key)
