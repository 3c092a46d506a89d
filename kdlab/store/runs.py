"""The run store: every result kdlab shows lives in a run folder that says how it was made.

Layout (DESIGN.md §3)::

    runs/<notebook>/<run_id>/
        params.json    all parameters, seed, profile
        env.json       versions, device, git commit, host, wall time, peak memory
        metrics.json   headline numbers (flat or nested JSON)
        artifacts/     *.npz, *.csv, *.json, *.png written by the notebook
        notebook.ipynb the executed notebook (when run through `kdlab run`)
        COMPLETE       written last; a run without it is never shown as a result
        FAILED         the error, when an execution failed

Why the staging dance: a run is written under ``runs/<notebook>/.staging/<run_id>/`` and renamed into place only
when it is finished (COMPLETE or FAILED inside), so a crash mid-write can never leave a folder that looks like a
result. Readers are defensive: ``read_run`` never raises for a bad folder, it returns a ``RunInfo`` whose
``status``/``problem`` say what is wrong (the dashboard shows that message instead of a stack trace).

The root is ``runs/`` at the project root (see ``kdlab.paths``) unless the ``KDLAB_RUNS`` environment variable says otherwise.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kdlab import paths as _paths
from kdlab.jsonio import read_json_object, to_strict_json, write_json_atomic  # noqa: F401  (part of this API)
from kdlab.paths import PROGRESS_ENV  # noqa: F401  (part of this API)

SCHEMA_VERSION = 1
STAGING = ".staging"
COMPLETE = "COMPLETE"
FAILED = "FAILED"
RUN_DIR_ENV = "KDLAB_RUN_DIR"  # set by `kdlab run`: the notebook writes into this staging folder


def runs_root(root: str | Path | None = None) -> Path:
    """The run store's root: ``root`` if given, else ``$KDLAB_RUNS``, else ``<project>/runs``."""
    return _paths.runs_root(root)


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique run id: UTC timestamp plus a short random suffix."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def git_commit() -> str | None:
    """The repository's HEAD commit (with ``+dirty`` if the tree has changes), or None outside git."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return sha.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def peak_memory_mb() -> float:
    """Peak resident memory of this process and its finished children, in MiB (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20
    return round(max(own, kids) * scale, 1)


def environment(device: str | None = None) -> dict[str, Any]:
    """Versions, device and git commit: what a reader needs to repeat a run."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "git_commit": git_commit(),
        "kdlab": _version("kdlab"),
    }
    torch = sys.modules.get("torch")  # the store knows no models: it reports torch only where the caller loaded it
    env["torch"] = torch.__version__ if torch is not None else _version("torch")
    if torch is not None:
        env["cuda_available"] = torch.cuda.is_available()
        env["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            env["gpu"] = torch.cuda.get_device_name(0)
            env["gpu_peak_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    for pkg in ("numpy", "papermill", "streamlit"):
        env[pkg] = _version(pkg)
    if device is not None:
        env["device"] = str(device)
    return env


def _version(pkg: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


class Run:
    """A run being written. Use ``start_run``; call ``finish()`` (or use it as a context manager).

    Inside a notebook executed by ``kdlab run`` the staging folder comes from ``$KDLAB_RUN_DIR`` and the CLI
    finalizes it after papermill has saved the executed notebook; run interactively (JupyterLab), ``finish()``
    finalizes it itself.
    """

    def __init__(self, notebook: str, params: dict[str, Any], root: str | Path | None = None):
        self.notebook = notebook
        self.params = dict(params)
        self.started = time.time()
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        # The commit of the code that runs, read now: a commit made while a long run trains must not be credited.
        self.commit = git_commit()
        self.device: str | None = None
        self.finished = False
        external = os.environ.get(RUN_DIR_ENV)
        if external:
            self.dir = Path(external)
            self.external = True
        else:
            self.root = runs_root(root)
            self.run_id = new_run_id()
            self.dir = self.root / notebook / STAGING / self.run_id
            self.external = False
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "artifacts").mkdir(exist_ok=True)
        self._metrics: dict[str, Any] = {}
        write_json_atomic(
            self.dir / "params.json", {"schema_version": SCHEMA_VERSION, "notebook": notebook, "params": self.params}
        )

    @property
    def artifacts(self) -> Path:
        return self.dir / "artifacts"

    def log_metrics(self, **metrics: Any) -> None:
        """Merge headline metrics into metrics.json (rewritten atomically each time)."""
        self._metrics.update(metrics)
        write_json_atomic(self.dir / "metrics.json", {"schema_version": SCHEMA_VERSION, "metrics": self._metrics})

    def save_arrays(self, name: str, **arrays: Any) -> Path:
        """Save named arrays (numpy or torch) as ``artifacts/<name>.npz``."""
        import numpy as np

        out = {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)) for k, v in arrays.items()}
        path = self.artifacts / f"{name}.npz"
        tmp = self.artifacts / f".{name}.tmp.npz"
        np.savez_compressed(tmp, **out)
        os.replace(tmp, path)
        return path

    def save_table(self, name: str, table: Any) -> Path:
        """Save a pandas DataFrame (or list of dicts) as ``artifacts/<name>.csv``."""
        import pandas as pd

        frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
        path = self.artifacts / f"{name}.csv"
        tmp = self.artifacts / f".{name}.tmp.csv"
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
        return path

    def save_json(self, name: str, obj: Any) -> Path:
        """Save any JSON-able object as ``artifacts/<name>.json``."""
        path = self.artifacts / f"{name}.json"
        write_json_atomic(path, obj)
        return path

    def save_figure(self, name: str, fig: Any, dpi: int = 110) -> Path:
        """Save a matplotlib figure as ``artifacts/<name>.png``."""
        path = self.artifacts / f"{name}.png"
        tmp = self.artifacts / f".{name}.tmp.png"
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
        os.replace(tmp, path)
        return path

    def save_model(self, name: str, model: Any) -> Path:
        """Save a torch module's state_dict (CPU tensors) as ``artifacts/<name>.pt``."""
        import torch

        path = self.artifacts / f"{name}.pt"
        tmp = self.artifacts / f".{name}.tmp.pt"
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
        os.replace(tmp, path)
        return path

    def finish(self) -> Path:
        """Record env (versions, device, wall time, peak memory); finalize unless ``kdlab run`` will.

        Returns the run's final folder: under ``kdlab run`` the path it will have once the CLI has saved the
        executed notebook and renamed the staging folder into place.
        """
        env = environment(self.device)
        env["git_commit"] = self.commit
        env["started_utc"] = self.started_at
        env["wall_time_s"] = round(time.time() - self.started, 2)
        env["peak_memory_mb"] = peak_memory_mb()
        env["schema_version"] = SCHEMA_VERSION
        if not (self.dir / "metrics.json").exists():
            self.log_metrics()
        write_json_atomic(self.dir / "env.json", env)
        self.finished = True
        if self.external:
            (self.dir / "NOTEBOOK_DONE").write_text(datetime.now(timezone.utc).isoformat())
            return self.final_dir
        self.dir = finalize(self.dir, status=COMPLETE)
        return self.dir

    @property
    def final_dir(self) -> Path:
        """Where the run will live once finalized: ``runs/<notebook>/<run_id>`` for a staging folder.

        Under ``kdlab run`` the folder is renamed only after the kernel has finished, so ``finish()`` and ``fail()``
        return this path (the staging path would no longer exist by the time anyone reads it); ``self.dir`` stays
        the staging folder the notebook is still writing into.
        """
        return final_path(self.dir)

    def fail(self, error: str) -> Path:
        """Finalize as failed with ``error`` (never shown as a result)."""
        if self.external:
            (self.dir / FAILED).write_text(error)
            return self.final_dir
        self.dir = finalize(self.dir, status=FAILED, message=error)
        return self.dir

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self.fail("".join(traceback.format_exception_only(exc_type, exc)).strip())
        elif not self.finished:
            self.finish()


def start_run(notebook: str, params: dict[str, Any], root: str | Path | None = None) -> Run:
    """Open a run for ``notebook`` with its parameters (must include PROFILE and SEED by convention)."""
    return Run(notebook, params, root)


def finalize(staging: Path, status: str = COMPLETE, message: str = "") -> Path:
    """Write the status marker last, then rename the staging folder into ``runs/<notebook>/<run_id>``."""
    staging = Path(staging)
    marker = staging / status
    marker.write_text(message or datetime.now(timezone.utc).isoformat())
    final = final_path(staging)
    if final != staging:
        os.replace(staging, final)
    return final


def final_path(staging: str | Path) -> Path:
    """The path ``finalize`` renames a staging folder to (``…/.staging/<id>`` → ``…/<id>``); others stay put."""
    staging = Path(staging)
    return staging.parent.parent / staging.name if staging.parent.name == STAGING else staging


# ----------------------------------------------------------------------------------------------- reading


@dataclass
class RunInfo:
    """What a reader knows about one run folder; never raises, ``problem`` says what is wrong."""

    path: Path
    notebook: str
    run_id: str
    status: str  # "complete" | "failed" | "incomplete" | "invalid"
    problem: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    schema_version: int | None = None
    mtime: float = 0.0
    origin: str = "yours"  # the store it was read from: "yours" (the run store) or "reference" (kdlab.store.reference)

    @property
    def ok(self) -> bool:
        return self.status == "complete"

    @property
    def profile(self) -> str:
        return str(self.params.get("PROFILE", "?"))

    @property
    def artifact_files(self) -> dict[str, Path]:
        """Every artifact by full file name (``entropy_vs_t.csv`` and ``entropy_vs_t.png`` both appear)."""
        folder = self.path / "artifacts"
        if not folder.is_dir():
            return {}
        return {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}

    @property
    def artifacts(self) -> dict[str, Path]:
        """Artifacts by stem; where a figure shares a stem with data (``x.png`` beside ``x.csv``) the data wins."""
        out: dict[str, Path] = {}
        for path in sorted(self.artifact_files.values(), key=lambda p: p.suffix == ".png", reverse=True):
            out[path.stem] = path
        return out

    def artifact(self, name: str) -> Path:
        """Path of artifact ``name`` (a full file name, or a stem); FileNotFoundError naming the run if missing."""
        found = self.artifact_files.get(name) or self.artifacts.get(name)
        if found is None:
            raise FileNotFoundError(f"run {self.notebook}/{self.run_id} has no artifact '{name}'")
        return found


def read_run(path: str | Path) -> RunInfo:
    """Read one run folder defensively: its status and, where it is bad, a one-line ``problem``."""
    path = Path(path)
    staged = path.parent.name == STAGING
    notebook = path.parent.parent.name if staged else path.parent.name
    info = RunInfo(path=path, notebook=notebook, run_id=path.name, status="invalid")
    try:
        info.mtime = path.stat().st_mtime
        names = {p.name for p in path.iterdir()}
    except OSError as e:
        info.problem = f"cannot read folder ({e.strerror})"
        return info
    if not names:
        info.problem = "empty run folder"
        return info
    problems = []
    params, err = read_json_object(path / "params.json")
    if params is None:
        problems.append(err)
    else:
        info.schema_version = params.get("schema_version")
        info.params = params.get("params", {}) if isinstance(params.get("params", {}), dict) else {}
        if info.schema_version is not None and info.schema_version > SCHEMA_VERSION:
            info.problem = (
                f"unknown schema version {info.schema_version} (this kdlab reads ≤ {SCHEMA_VERSION}); "
                "upgrade kdlab to read it"
            )
            return info
    metrics, err = read_json_object(path / "metrics.json")
    if metrics is None:
        if COMPLETE in names:
            problems.append(err)
    else:
        info.metrics = metrics.get("metrics", {}) if isinstance(metrics.get("metrics", {}), dict) else {}
    env, err = read_json_object(path / "env.json")
    if env is None:
        if COMPLETE in names:
            problems.append(err)
    else:
        info.env = env
    if FAILED in names:
        info.status = "failed"
        try:
            reason = (path / FAILED).read_text(errors="replace").strip().splitlines()
        except OSError:
            reason = []
        info.problem = "execution failed: " + (reason[-1] if reason else "no reason recorded")
        return info
    if COMPLETE not in names:
        info.status = "incomplete"
        info.problem = (
            "still running or interrupted (no COMPLETE marker)"
            if staged
            else "no COMPLETE marker: half-written or copied; re-run the notebook"
        )
        return info
    if problems:
        info.status = "invalid"
        info.problem = "; ".join(problems)
        return info
    info.status = "complete"
    return info


def list_runs(
    root: str | Path | None = None, notebook: str | None = None, include_staging: bool = True
) -> list[RunInfo]:
    """Every run under the store (newest first), good and bad; filter by ``notebook`` prefix if given."""
    base = runs_root(root)
    if not base.is_dir():
        return []
    out: list[RunInfo] = []
    for nb_dir in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if notebook and not nb_dir.name.startswith(notebook):
            continue
        candidates = [p for p in nb_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if include_staging and (nb_dir / STAGING).is_dir():
            candidates += [p for p in (nb_dir / STAGING).iterdir() if p.is_dir()]
        out.extend(read_run(p) for p in candidates)
    return sorted(out, key=lambda r: (r.run_id, r.mtime), reverse=True)


def latest_run(
    notebook: str, root: str | Path | None = None, profile: str | None = None, require: tuple[str, ...] = ()
) -> RunInfo | None:
    """Newest complete run of ``notebook`` (optionally of ``profile``) that has every artifact in ``require``."""
    for info in list_runs(root, notebook, include_staging=False):
        if not info.ok or (profile is not None and info.profile != profile):
            continue
        if all(name in info.artifacts or name in info.artifact_files for name in require):
            return info
    return None


def store_mtime(root: str | Path | None = None) -> float:
    """Newest modification time anywhere in the store's top two levels: a cache key that changes with new runs."""
    base = runs_root(root)
    if not base.exists():
        return 0.0
    stamps = [base.stat().st_mtime]
    for nb_dir in base.iterdir():
        try:
            stamps.append(nb_dir.stat().st_mtime)
            if nb_dir.is_dir():
                stamps.extend(p.stat().st_mtime for p in nb_dir.iterdir())
        except OSError:
            continue
    return max(stamps)


def remove_run(path: str | Path) -> None:
    """Delete a run folder (used by tests and by users cleaning up failed runs)."""
    shutil.rmtree(path, ignore_errors=True)
