"""Page helpers shared by every dashboard page: labels and provenance lines for runs, number formatting, the guard
that turns an unexpected exception into one line, the matplotlib lock, run pickers, the "no data yet" message and
the sidebar. Reading the store is ``dashboard/data.py``'s job; this module only shows what it read."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.data import notebook_key
from kdlab.store.reader import RunInfo
from kdlab.syllabus import STEMS

log = logging.getLogger("kdlab.dashboard")


def run_date(run: RunInfo) -> str:
    """UTC date of the run from its id (``YYYYmmdd-HHMMSS-xxxxxx``), else from the folder's mtime."""
    try:
        when = datetime.strptime(run.run_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        when = datetime.fromtimestamp(run.mtime or 0, tz=timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M")


def device(run: RunInfo) -> str:
    env = run.env or {}
    dev = env.get("device") or ("cuda" if env.get("cuda_available") else None) or "?"
    return f"{dev} ({env['gpu']})" if env.get("gpu") and "cuda" in str(dev) else str(dev)


def label(run: RunInfo) -> str:
    """Short label used in pickers and legends: notebook number, run id, profile (and ``reference`` for a
    published run)."""
    tail = f" · {data.REFERENCE}" if run.origin == data.REFERENCE else ""
    return f"{notebook_key(run)} · {run.run_id} · {run.profile}{tail}"


def source(run: RunInfo) -> str:
    """The provenance line shown under every number: whose run (``yours`` or ``reference``), which run and profile,
    device, date and commit."""
    commit = str((run.env or {}).get("git_commit") or "?")[:10]
    return (
        f"Source: run `{run.notebook}/{run.run_id}` · profile **{run.profile}** · {run.origin} · device {device(run)} · "
        f"{run_date(run)} UTC · commit `{commit}`"
    )


def caption_sources(runs: Iterable[RunInfo]) -> None:
    for run in runs:
        st.caption(source(run))


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metrics as ``a.b`` keys."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def fmt(v: Any) -> str:
    """Numbers readable at a glance: integers as integers, floats to 4 significant digits."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e12 else f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return json.dumps(v)[:80]
    return str(v)


HEADLINE_WORDS = ("errors", "accuracy", "acc", "error_rate", "kept", "improvement")


def headline(run: RunInfo, n: int = 4) -> str:
    """A few scalar metrics as ``name=value``: top-level errors/accuracies first, then the rest in saved order."""
    flat = {
        k: v
        for k, v in flatten(run.metrics).items()
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    }

    def rank(key: str) -> tuple[bool, bool]:
        words = key.split(".")[-1].split("_")
        return ("." in key, not any(w in HEADLINE_WORDS for w in words))

    keys = sorted(flat, key=rank)  # stable: saved order within each rank
    return ", ".join(f"{k}={fmt(flat[k])}" for k in keys[:n])


def pct(values: Any) -> Any:
    """Accuracies / rates as percent: a column (or number) whose values all lie in [0, 1] is a fraction (× 100);
    the notebooks write some tables in percent and some as fractions, the pages always show percent."""
    arr = pd.to_numeric(pd.Series(np.atleast_1d(values), dtype="object"), errors="coerce").astype(float)
    finite = arr[np.isfinite(arr)]
    scale = 100.0 if len(finite) and finite.abs().max() <= 1.0 else 1.0
    if np.ndim(values) == 0:
        return float(arr.iloc[0]) * scale
    out = arr * scale
    return out.set_axis(values.index) if isinstance(values, pd.Series) else out


def cell(text: Any) -> str:
    """Text for a ``st.table`` cell, which renders Markdown: a leading ``+ `` or ``- `` (``+ 16 specialist models``)
    would become a bullet, so the space after it is made non-breaking."""
    text = str(text)
    return text[0] + "\u00a0" + text[2:] if text[:2] in ("+ ", "- ", "* ") else text


def fmt_pct(x: Any, digits: int = 1, sign: bool = False) -> str:
    """``58.9 %`` (``—`` for a missing value); ``sign`` gives ``+1.4 %`` / ``−1.4 %`` (U+2212, as the charts)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(x):
        return "—"
    text = f"{x:+.{digits}f} %" if sign else f"{x:.{digits}f} %"
    return text.replace("-", "\u2212")  # the charts' minus sign (U+2212), everywhere


def fmt_t(t: Any) -> str:
    """A temperature as ``T = 2`` (``—`` where the row has none, e.g. a model trained on hard labels)."""
    try:
        t = float(t)
    except (TypeError, ValueError):
        return "—"
    return "—" if not math.isfinite(t) else f"T = {t:g}"


_MPL_LOCK = threading.Lock()  # Streamlit runs each browser session in its own thread; matplotlib (mathtext) is not
# thread-safe, so two sessions drawing at once can fail with a pyparsing ValueError. Draw one figure at a time.


def pyplot(make: Callable[[], Any], where: Any = None) -> None:
    """Build a figure with ``make()`` and show it with ``st.pyplot`` (or ``where.pyplot``), both under one lock."""
    with _MPL_LOCK:
        (where or st).pyplot(make(), clear_figure=True)


def guard(body: Callable[[], None]) -> None:
    """Run a page body; an unexpected exception becomes one ``st.error`` line (traceback to the server log only)."""
    try:
        body()
    except Exception as e:  # Streamlit's rerun/stop signals derive from BaseException and pass through
        log.exception("dashboard page failed")
        first = (str(e).strip().splitlines() or [""])[0][:200]
        st.error(
            f"This page could not be drawn ({type(e).__name__}: {first}). "
            "The Runs page lists every run and what is wrong with it."
        )


def no_data(nbs: Iterable[str], artifact: str, root: Path | None = None) -> None:
    """Say which notebook and command produce the missing data."""
    root = data.runs_dir() if root is None else root
    nbs = list(nbs)
    names = " or ".join(f"`{STEMS.get(nb, nb)}`" for nb in nbs)
    commands = "\n".join(dict.fromkeys(c for nb in nbs for c in data.first_run(nb)))  # each fetch once
    st.info(f"No complete run of {names} with `{artifact}` in `{root}` yet. Produce one with:\n\n```\n{commands}\n```")


def skipped_note(nbs: Iterable[str], runs: list[RunInfo] | None = None) -> None:
    """A caption counting runs of these notebooks left out because they are not complete."""
    runs = data.load_runs() if runs is None else runs
    nbs = tuple(nbs)
    bad = [r for r in runs if notebook_key(r) in nbs and not r.ok]
    if bad:
        st.caption(
            f"{len(bad)} run(s) of these notebooks skipped here (not complete: "
            f"{', '.join(sorted({r.status for r in bad}))}); the Runs page says why."
        )


def pick_runs(runs: list[RunInfo], key: str, text: str, default_n: int = 3) -> list[RunInfo]:
    """Multiselect of runs (newest ``default_n`` preselected); returns the chosen RunInfos."""
    labels = [label(r) for r in runs]
    chosen = st.multiselect(text, labels, default=labels[:default_n], key=key)
    return [r for r in runs if label(r) in chosen]


def pick_run(runs: list[RunInfo], key: str, text: str) -> RunInfo:
    """Selectbox of runs, newest first."""
    labels = [label(r) for r in runs]
    chosen = st.selectbox(text, labels, index=0, key=key)
    return runs[labels.index(chosen)] if chosen in labels else runs[0]


def sidebar(root: Path | None = None) -> None:
    """Where the data comes from, shown on every page."""
    root = data.runs_dir() if root is None else root
    runs = data.load_runs(root)
    ok = sum(r.ok for r in runs if r.origin != data.REFERENCE)
    st.sidebar.caption(f"Your run store: `{root}`")
    reference = data.reference_dir()
    published = [r for r in runs if r.origin == data.REFERENCE]
    if published:
        st.sidebar.caption(f"Reference results: `{reference}`, {len(published)} published run(s)")
    mine = sum(r.origin != data.REFERENCE for r in runs)
    st.sidebar.caption(f"{mine} run folder(s) of yours, {ok} complete" + ("" if root.is_dir() else " (folder missing)"))
    if (root / "TEST_FIXTURE").exists():
        st.sidebar.warning("This store holds generated TEST FIXTURE runs (tests/fixtures_runs.py), not results.")
