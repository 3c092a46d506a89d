"""Reading the run store defensively: ``read_run`` never raises for a bad folder; the ``RunInfo`` it returns says in
``status``/``problem`` what is wrong, so the dashboard shows that line instead of a stack trace."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kdlab.jsonio import read_json_object
from kdlab.store.layout import COMPLETE, FAILED, SCHEMA_VERSION, STAGING, runs_root


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

    @property
    def duration_s(self) -> float | None:
        """How long the run ran: its recorded wall time (the notebook's, else ``kdlab run``'s); for a run that failed
        before recording one, from its start (the run id's UTC time) to its FAILED marker; None if neither is known."""
        for key in ("wall_time_s", "papermill_wall_time_s"):
            value = self.env.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                return float(value)
        try:
            began = datetime.strptime(self.run_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=timezone.utc).timestamp()
            ended = (self.path / FAILED).stat().st_mtime
        except (ValueError, OSError):
            return None
        return ended - began if ended >= began else None

    @property
    def error(self) -> str:
        """A failed run's error as recorded in its FAILED marker (empty for other runs)."""
        if self.status != "failed":
            return ""
        try:
            return (self.path / FAILED).read_text(errors="replace").strip()
        except OSError:
            return ""

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
