"""Reading the run store for the dashboard: cached, defensive, numpy/pandas only (the dashboard never imports torch).

Every page goes through here, so three rules hold everywhere:
- runs are listed with ``kdlab.runs.list_runs`` and cached keyed by ``store_mtime`` (a new run changes the key, so it
  appears without restarting Streamlit);
- an artifact is read with its file's mtime in the cache key and checked against the contract in
  ``notebooks/README.md``; a missing or malformed one raises ``ArtifactError`` naming the run, which pages turn into
  a one-line warning and skip;
- a page body runs inside ``guard`` so an unexpected exception shows ``st.error`` with one line, never a stack trace.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from kdlab import runs as store
from kdlab.claims import FILE as CLAIMS_FILE
from kdlab.claims import Claim, read_claims

log = logging.getLogger("kdlab.dashboard")

NOTEBOOKS = {  # notebook number -> stem (the run store's folder name and the notebook file name)
    "01": "01_softmax_temperature",
    "02": "02_logit_matching_limit",
    "03": "03_mnist_distillation",
    "04": "04_missing_class_bias",
    "05": "05_speech_frames",
    "06": "06_specialists",
}

PROFILES = ("quick", "full", "paper")  # kdlab's run profiles, smallest first (the Claims page's column order)

# The artifact contract (notebooks/README.md): file -> required npz keys / csv columns / json keys.
CONTRACT: dict[str, dict[str, tuple[str, ...]]] = {
    "01": {
        "soft_targets.npz": ("images", "labels", "indices", "teacher_logits", "temperatures"),
        "entropy_vs_t.csv": ("temperature", "mean_entropy_bits"),
    },
    "02": {
        "gradient_error.csv": ("temperature", "zero_mean", "rel_error_eq3", "rel_error_logit_matching"),
        "convergence.csv": ("test_errors", "agreement_with_logit_matching", "logit_corr"),
    },
    "03": {
        "results.csv": ("model", "test_errors", "paper_errors", "wall_time_s"),
        "sweep.csv": ("width", "temperature", "seed", "test_errors", "hard_weight"),
        "soft_targets.npz": ("images", "labels", "indices", "teacher_logits", "temperatures", "student_logits"),
        "test_logits.npz": ("teacher", "baseline", "distilled", "labels"),
        "per_class_errors.csv": ("model", "class", "errors"),
    },
    "04": {
        "bias_scan_omit3.csv": ("shift", "total_errors", "errors_on_3"),
        "bias_scan_only78.csv": ("shift", "error_rate"),
        "confusion.npz": ("before", "after"),
    },
    "05": {
        "table1.csv": ("model", "frame_acc_seen", "frame_acc_unseen", "phone_error_rate"),
        "table5.csv": ("system", "train_frame_acc", "test_frame_acc"),
        "curves.csv": ("setting", "epoch", "train_acc", "test_acc"),
        "posteriors.npz": ("teacher", "distilled", "labels", "phones"),
    },
    "06": {
        "clusters.json": ("clusters",),
        "covariance.npz": ("cov", "order"),
        "class_images.npz": ("images",),
        "table3.csv": ("system", "test_accuracy", "conditional_accuracy"),
        "table4.csv": ("n_specialists", "n_test_examples", "n_changed_correct", "relative_improvement"),
    },
}


class ArtifactError(Exception):
    """An artifact a page wants is missing or does not follow the contract; the message names the run."""


# ----------------------------------------------------------------------------------------------- where and what


def runs_dir(argv: list[str] | None = None) -> Path:
    """The run store: ``--runs DIR`` after ``streamlit run dashboard/app.py --``, else ``$KDLAB_RUNS``, else ./runs."""
    argv = sys.argv[1:] if argv is None else argv
    flag = None
    for i, arg in enumerate(argv):
        if arg == "--runs" and i + 1 < len(argv):
            flag = argv[i + 1]
        elif arg.startswith("--runs="):
            flag = arg.split("=", 1)[1]
    return store.runs_root(flag).resolve()


def notebook_key(run: store.RunInfo) -> str:
    """'03' for a run of 03_mnist_distillation (the folder name's number)."""
    return run.notebook[:2]


def run_command(nb: str) -> str:
    """The command that produces a run of notebook ``nb`` in the quick profile."""
    return f"kdlab run notebooks/{NOTEBOOKS.get(nb, nb)}.ipynb --profile quick"


@st.cache_data(show_spinner=False, ttl=300, max_entries=8)
def _list_runs(root: str, stamp: float) -> list[store.RunInfo]:
    return store.list_runs(root)


def load_runs(root: Path | None = None) -> list[store.RunInfo]:
    """Every run (good and bad), newest first; cached until the store's modification time changes."""
    root = runs_dir() if root is None else root
    return _list_runs(str(root), store.store_mtime(root))


def artifact_names(run: store.RunInfo) -> set[str]:
    """File names in the run's artifacts/ folder (by full name: ``RunInfo.artifacts`` keys by stem, so a
    ``entropy_vs_t.png`` figure would hide the ``entropy_vs_t.csv`` table)."""
    folder = run.path / "artifacts"
    try:
        return {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}
    except OSError:
        return set()


def missing_artifacts(run: store.RunInfo) -> list[str]:
    """Contract artifacts this run lacks (empty for unknown notebooks)."""
    have = artifact_names(run)
    return [name for name in CONTRACT.get(notebook_key(run), {}) if name not in have]


def usable_runs(nbs: Iterable[str], artifact: str, runs: list[store.RunInfo] | None = None) -> list[store.RunInfo]:
    """Complete runs of the notebooks ``nbs`` ('01', '03', ...) that hold ``artifact`` (file name), newest first."""
    runs = load_runs() if runs is None else runs
    nbs = tuple(nbs)
    return [r for r in runs if r.ok and notebook_key(r) in nbs and artifact in artifact_names(r)]


def newest_complete(runs: list[store.RunInfo] | None = None) -> dict[tuple[str, str], store.RunInfo]:
    """The newest complete run per (notebook number, profile), e.g. ``{("03", "quick"): RunInfo, ...}``."""
    runs = load_runs() if runs is None else runs
    out: dict[tuple[str, str], store.RunInfo] = {}
    for r in runs:  # newest first, so the first complete run of a pair wins
        if r.ok:
            out.setdefault((notebook_key(r), r.profile), r)
    return out


# ----------------------------------------------------------------------------------------------- labels


def run_date(run: store.RunInfo) -> str:
    """UTC date of the run from its id (``YYYYmmdd-HHMMSS-xxxxxx``), else from the folder's mtime."""
    try:
        when = datetime.strptime(run.run_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        when = datetime.fromtimestamp(run.mtime or 0, tz=timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M")


def device(run: store.RunInfo) -> str:
    env = run.env or {}
    dev = env.get("device") or ("cuda" if env.get("cuda_available") else None) or "?"
    return f"{dev} ({env['gpu']})" if env.get("gpu") and "cuda" in str(dev) else str(dev)


def label(run: store.RunInfo) -> str:
    """Short label used in pickers and legends: notebook number, run id, profile."""
    return f"{notebook_key(run)} · {run.run_id} · {run.profile}"


def source(run: store.RunInfo) -> str:
    """The provenance line shown under every number: which run and profile it came from."""
    return (
        f"Source: run `{run.notebook}/{run.run_id}` · profile **{run.profile}** · device {device(run)} · "
        f"{run_date(run)} UTC"
    )


def caption_sources(runs: Iterable[store.RunInfo]) -> None:
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


def headline(run: store.RunInfo, n: int = 4) -> str:
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


# ----------------------------------------------------------------------------------------------- artifacts


def _path(run: store.RunInfo, name: str) -> Path:
    path = run.path / "artifacts" / name
    if not path.is_file():
        raise ArtifactError(
            f"run {run.notebook}/{run.run_id} has no {name} (re-run: `{run_command(notebook_key(run))}`)"
        )
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


def claims(run: store.RunInfo) -> tuple[list[Claim] | None, str]:
    """The run's ``claims.json`` as ``(claims, "")`` or ``(None, problem)``; never raises, the problem names the run.

    Read with ``kdlab.claims.read_claims`` and cached by the file's mtime and size (a re-written file is re-read).
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


def _required(run: store.RunInfo, name: str, required: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(required) if required is not None else CONTRACT.get(notebook_key(run), {}).get(name, ())


def table(run: store.RunInfo, name: str, required: Iterable[str] | None = None) -> pd.DataFrame:
    """``artifacts/<name>`` (csv) with the contract's columns checked; ArtifactError if missing or malformed."""
    path = _path(run, name)
    try:
        frame = _read_csv(str(path), path.stat().st_mtime)
    except Exception as e:  # pandas raises many kinds for a bad file
        raise ArtifactError(
            f"run {run.notebook}/{run.run_id}: {name} is not a readable CSV ({type(e).__name__})"
        ) from e
    lacking = [c for c in _required(run, name, required) if c not in frame.columns]
    if lacking:
        raise ArtifactError(f"run {run.notebook}/{run.run_id}: {name} lacks column(s) {', '.join(lacking)}")
    return frame.copy()


def arrays(run: store.RunInfo, name: str, required: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """``artifacts/<name>`` (npz) with the contract's keys checked; ArtifactError if missing or malformed."""
    path = _path(run, name)
    try:
        out = _read_npz(str(path), path.stat().st_mtime)
    except Exception as e:
        raise ArtifactError(
            f"run {run.notebook}/{run.run_id}: {name} is not a readable npz ({type(e).__name__})"
        ) from e
    lacking = [k for k in _required(run, name, required) if k not in out]
    if lacking:
        raise ArtifactError(f"run {run.notebook}/{run.run_id}: {name} lacks array(s) {', '.join(lacking)}")
    return out


def json_artifact(run: store.RunInfo, name: str, required: Iterable[str] | None = None) -> Any:
    """``artifacts/<name>`` (json) with the contract's keys checked; ArtifactError if missing or malformed."""
    path = _path(run, name)
    try:
        obj = _read_json(str(path), path.stat().st_mtime)
    except Exception as e:
        raise ArtifactError(f"run {run.notebook}/{run.run_id}: {name} is not valid JSON ({type(e).__name__})") from e
    lacking = [k for k in _required(run, name, required) if not isinstance(obj, dict) or k not in obj]
    if lacking:
        raise ArtifactError(f"run {run.notebook}/{run.run_id}: {name} lacks key(s) {', '.join(lacking)}")
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


# ----------------------------------------------------------------------------------------------- page helpers

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
    root = runs_dir() if root is None else root
    nbs = list(nbs)
    names = " or ".join(f"`{NOTEBOOKS.get(nb, nb)}`" for nb in nbs)
    commands = "\n".join(run_command(nb) for nb in nbs)
    st.info(f"No complete run of {names} with `{artifact}` in `{root}` yet. Produce one with:\n\n```\n{commands}\n```")


def skipped_note(nbs: Iterable[str], runs: list[store.RunInfo] | None = None) -> None:
    """A caption counting runs of these notebooks left out because they are not complete."""
    runs = load_runs() if runs is None else runs
    nbs = tuple(nbs)
    bad = [r for r in runs if notebook_key(r) in nbs and not r.ok]
    if bad:
        st.caption(
            f"{len(bad)} run(s) of these notebooks skipped here (not complete: "
            f"{', '.join(sorted({r.status for r in bad}))}); the Runs page says why."
        )


def pick_runs(runs: list[store.RunInfo], key: str, text: str, default_n: int = 3) -> list[store.RunInfo]:
    """Multiselect of runs (newest ``default_n`` preselected); returns the chosen RunInfos."""
    labels = [label(r) for r in runs]
    chosen = st.multiselect(text, labels, default=labels[:default_n], key=key)
    return [r for r in runs if label(r) in chosen]


def pick_run(runs: list[store.RunInfo], key: str, text: str) -> store.RunInfo:
    """Selectbox of runs, newest first."""
    labels = [label(r) for r in runs]
    chosen = st.selectbox(text, labels, index=0, key=key)
    return runs[labels.index(chosen)] if chosen in labels else runs[0]


def sidebar(root: Path | None = None) -> None:
    """Where the data comes from, shown on every page."""
    root = runs_dir() if root is None else root
    runs = load_runs(root)
    ok = sum(r.ok for r in runs)
    st.sidebar.caption(f"Run store: `{root}`")
    st.sidebar.caption(f"{len(runs)} run folder(s), {ok} complete" + ("" if root.is_dir() else " (folder missing)"))
    if (root / "TEST_FIXTURE").exists():
        st.sidebar.warning("This store holds generated TEST FIXTURE runs (tests/fixtures_runs.py), not results.")
