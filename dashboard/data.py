"""Reading the run store for the dashboard: cached, defensive, numpy/pandas only (the dashboard never imports torch).

Every page goes through here, so three rules hold everywhere:
- runs are listed from two stores — the user's (``runs/``, labelled ``yours``) and the published reference results
  (``reference/``, labelled ``reference``; ``kdlab.store.reference``) — with ``kdlab.store.reader.list_runs``, and
  cached keyed by ``store_mtime`` (a new run changes the key, so it appears without restarting Streamlit);
- an artifact is read with its file's mtime in the cache key and checked against the artifact contract,
  ``kdlab.artifacts`` (``CONTRACT``, and ``EXTRA`` for the extra artifacts a notebook writes); a missing or malformed
  one raises ``ArtifactError``, one line naming the run, its notebook and the command that writes the artifact,
  which pages show as a warning and skip;
- a page body runs inside ``ui.guard`` so an unexpected exception shows ``st.error`` with one line, never a stack
  trace (page helpers live in ``dashboard/ui.py``).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from kdlab import paths
from kdlab.artifacts import CONTRACT, required_fields
from kdlab.claim_record import FILE as CLAIMS_FILE
from kdlab.claim_record import Claim, read_claims
from kdlab.notebook_data import fetch_command
from kdlab.notebook_data import sources as data_sources
from kdlab.store import layout as store_layout
from kdlab.store import reader
from kdlab.store import reference as published
from kdlab.syllabus import STEMS

log = logging.getLogger("kdlab.dashboard")

PROFILES = ("quick", "full", "paper")  # kdlab's run profiles, smallest first (the Claims page's column order)


class ArtifactError(Exception):
    """An artifact a page wants is missing or does not follow the contract; the message names the run."""


# ----------------------------------------------------------------------------------------------- where and what


def _flag(name: str, argv: list[str] | None) -> str | None:
    """The value of ``--name DIR`` / ``--name=DIR`` after ``streamlit run dashboard/app.py --``, else None."""
    argv = sys.argv[1:] if argv is None else argv
    value = None
    for i, arg in enumerate(argv):
        if arg == f"--{name}" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(f"--{name}="):
            value = arg.split("=", 1)[1]
    return value


def runs_dir(argv: list[str] | None = None) -> Path:
    """The run store: ``--runs DIR`` after ``streamlit run dashboard/app.py --``, else ``$KDLAB_RUNS``, else ./runs."""
    return store_layout.runs_root(_flag("runs", argv)).resolve()


def reference_dir(argv: list[str] | None = None) -> Path:
    """The reference store: ``--reference DIR`` after ``streamlit run dashboard/app.py --``, else
    ``$KDLAB_REFERENCE``, else ``<project>/reference``."""
    return published.reference_root(_flag("reference", argv)).resolve()


YOURS, REFERENCE = "yours", "reference"


def column(run: reader.RunInfo) -> str:
    """The Claims page's column of a run: its profile, with ``· reference`` for a published run."""
    return run.profile if run.origin != REFERENCE else f"{run.profile} · {REFERENCE}"


def column_order(name: str) -> tuple[bool, int, str]:
    """Your runs' profiles first (quick, full, paper), then the reference ones."""
    profile = name.split(" · ")[0]
    return (name.endswith(REFERENCE), PROFILES.index(profile) if profile in PROFILES else len(PROFILES), name)


def notebook_key(run: reader.RunInfo) -> str:
    """'03' for a run of 03_mnist_distillation (the folder name's number)."""
    return run.notebook[:2]


def run_command(nb: str, profile: str = "quick") -> str:
    """The command that produces a run of notebook ``nb`` (in the quick profile unless told)."""
    return f"kdlab run notebooks/{STEMS.get(nb, nb)}.ipynb --profile {profile}"


def first_run(nb: str, profile: str = "quick") -> list[str]:
    """The commands a first run of notebook ``nb`` takes: fetching the data it reads (``kdlab.notebook_data``, from
    the notebook's imports), then ``run_command``. ``kdlab run`` refuses to start without the data and says so."""
    path = paths.project_root() / "notebooks" / f"{STEMS.get(nb, nb)}.ipynb"
    fetch = [fetch_command(source, profile) for source in data_sources(path)] if path.is_file() else []
    return [*fetch, run_command(nb, profile)]


def first_run_text(nb: str, profile: str = "quick") -> str:
    """The fetch and run commands as one phrase for a sentence, each a Markdown code span."""
    *fetch, run = first_run(nb, profile)
    return " and ".join(f"`{c}`" for c in fetch) + " (once), then " + f"`{run}`" if fetch else f"`{run}`"


@st.cache_data(show_spinner=False, ttl=300, max_entries=8)
def _list_runs(root: str, stamp: float) -> list[reader.RunInfo]:
    return reader.list_runs(root)


def load_runs(root: Path | None = None, reference: Path | None = None) -> list[reader.RunInfo]:
    """Every run of both stores (good and bad), newest first, each labelled ``origin`` ``yours`` or ``reference``;
    cached until a store's modification time changes."""
    root = runs_dir() if root is None else root
    reference = reference_dir() if reference is None else reference
    runs = [replace(r, origin=YOURS) for r in _list_runs(str(root), reader.store_mtime(root))]
    if Path(reference).resolve() != Path(root).resolve():
        ref = _list_runs(str(reference), reader.store_mtime(reference))
        runs += [replace(r, origin=REFERENCE) for r in ref if r.path.parent.name != store_layout.STAGING]
    return sorted(runs, key=lambda r: (r.run_id, r.mtime), reverse=True)


def artifact_names(run: reader.RunInfo) -> set[str]:
    """File names in the run's artifacts/ folder (by full name: ``RunInfo.artifacts`` keys by stem, so a
    ``entropy_vs_t.png`` figure would hide the ``entropy_vs_t.csv`` table)."""
    folder = run.path / "artifacts"
    try:
        return {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}
    except OSError:
        return set()


def missing_artifacts(run: reader.RunInfo) -> list[str]:
    """Contract artifacts this run lacks (empty for unknown notebooks)."""
    have = artifact_names(run)
    return [name for name in CONTRACT.get(notebook_key(run), {}) if name not in have]


def usable_runs(nbs: Iterable[str], artifact: str, runs: list[reader.RunInfo] | None = None) -> list[reader.RunInfo]:
    """Complete runs of the notebooks ``nbs`` ('01', '03', ...) that hold ``artifact`` (file name), newest first."""
    runs = load_runs() if runs is None else runs
    nbs = tuple(nbs)
    return [r for r in runs if r.ok and notebook_key(r) in nbs and artifact in artifact_names(r)]


def newest_complete(runs: list[reader.RunInfo] | None = None) -> dict[tuple[str, str], reader.RunInfo]:
    """The newest complete run per (notebook number, column): ``{("03", "quick"): RunInfo,
    ("03", "full · reference"): RunInfo, ...}`` — a published run never hides yours, nor yours a published one."""
    runs = load_runs() if runs is None else runs
    out: dict[tuple[str, str], reader.RunInfo] = {}
    for r in runs:  # newest first, so the first complete run of a pair wins
        if r.ok:
            out.setdefault((notebook_key(r), column(r)), r)
    return out


# ----------------------------------------------------------------------------------------------- artifacts


def rerun_hint(run: reader.RunInfo) -> str:
    """``(notebook 03_mnist_distillation writes it: `kdlab run notebooks/....ipynb --profile quick`)``"""
    return f"(notebook {run.notebook} writes it: `{run_command(notebook_key(run), run.profile or 'quick')}`)"


def _problem(run: reader.RunInfo, text: str) -> ArtifactError:
    """One line: the run, what is wrong, and the notebook and command that write the artifact."""
    return ArtifactError(f"run {run.notebook}/{run.run_id}: {text} {rerun_hint(run)}")


def _path(run: reader.RunInfo, name: str) -> Path:
    path = run.path / "artifacts" / name
    if not path.is_file():
        raise _problem(run, f"has no {name}")
    return path


@st.cache_data(show_spinner=False, max_entries=64)
def _read_csv(path: str, mtime: float) -> pd.DataFrame:
    return pd.read_csv(path)


@st.cache_data(show_spinner=False, max_entries=32)
def _read_npz(path: str, mtime: float) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@st.cache_data(show_spinner=False, max_entries=32)
def _read_json(path: str, mtime: float) -> Any:
    return json.loads(Path(path).read_text())


@st.cache_data(show_spinner=False, max_entries=128)
def _read_claims(folder: str, stamp: tuple[int, int]) -> tuple[list[Claim] | None, str]:
    return read_claims(folder)


def claims(run: reader.RunInfo) -> tuple[list[Claim] | None, str]:
    """The run's ``claims.json`` as ``(claims, "")`` or ``(None, problem)``; never raises, the problem names the run.

    Read with ``kdlab.claim_record.read_claims`` and cached by the file's mtime and size (a re-written file is re-read).
    Claims whose id is not of this run's notebook are refused too: the page files each claim under its notebook.
    """
    try:
        stat = (run.path / CLAIMS_FILE).stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (-1, -1)  # missing: read_claims says so
    found, problem = _read_claims(str(run.path), stamp)
    if found is not None:
        stray = [c.id for c in found if not c.id.startswith(notebook_key(run) + ".")]
        if stray:
            found, problem = None, f"{CLAIMS_FILE} holds claim(s) of another notebook: {', '.join(stray[:3])}"
    if found is None:
        return None, f"run {run.notebook}/{run.run_id} (profile {run.profile}): {problem}"
    return found, ""


def _required(run: reader.RunInfo, name: str, required: Iterable[str] | None) -> tuple[str, ...]:
    if required is not None:
        return tuple(required)
    return required_fields(notebook_key(run), name)


def table(run: reader.RunInfo, name: str, required: Iterable[str] | None = None) -> pd.DataFrame:
    """``artifacts/<name>`` (csv) with the contract's columns checked; ArtifactError if missing or malformed."""
    path = _path(run, name)
    try:
        frame = _read_csv(str(path), path.stat().st_mtime)
    except Exception as e:  # pandas raises many kinds for a bad file
        raise _problem(run, f"{name} is not a readable CSV ({type(e).__name__})") from e
    lacking = [c for c in _required(run, name, required) if c not in frame.columns]
    if lacking:
        raise _problem(run, f"{name} lacks column(s) {', '.join(lacking)}")
    return frame.copy()


def arrays(run: reader.RunInfo, name: str, required: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """``artifacts/<name>`` (npz) with the contract's keys checked; ArtifactError if missing or malformed."""
    path = _path(run, name)
    try:
        out = _read_npz(str(path), path.stat().st_mtime)
    except Exception as e:
        raise _problem(run, f"{name} is not a readable npz ({type(e).__name__})") from e
    lacking = [k for k in _required(run, name, required) if k not in out]
    if lacking:
        raise _problem(run, f"{name} lacks array(s) {', '.join(lacking)}")
    return out


def json_artifact(run: reader.RunInfo, name: str, required: Iterable[str] | None = None) -> Any:
    """``artifacts/<name>`` (json) with the contract's keys checked; ArtifactError if missing or malformed."""
    path = _path(run, name)
    try:
        obj = _read_json(str(path), path.stat().st_mtime)
    except Exception as e:
        raise _problem(run, f"{name} is not valid JSON ({type(e).__name__})") from e
    lacking = [k for k in _required(run, name, required) if not isinstance(obj, dict) or k not in obj]
    if lacking:
        raise _problem(run, f"{name} lacks key(s) {', '.join(lacking)}")
    return obj


# ----------------------------------------------------------------------------------------------- math (numpy only)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Eq. 1 of the paper, q_i = exp(z_i/T) / Σ_j exp(z_j/T), over the last axis (numpy, max-shifted)."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def entropy_bits(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits over the last axis."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-300, 1.0)
    return -(p * np.log2(p)).sum(axis=-1)
