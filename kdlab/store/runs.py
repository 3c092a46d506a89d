"""The run store: every result kdlab shows lives in a run folder that says how it was made.

Layout (docs/architecture.md)::

    runs/<notebook>/<run_id>/
        params.json    all parameters, seed, profile
        env.json       versions, device, precision, git commit, host, wall time, peak memory
        metrics.json   headline numbers (flat or nested JSON)
        artifacts/     *.npz, *.csv, *.json, *.png written by the notebook
        notebook.ipynb the executed notebook (when run through `kdlab run`)
        COMPLETE       written last; a run without it is never shown as a result
        FAILED         the error, when an execution failed

Why the staging dance: a run is written under ``runs/<notebook>/.staging/<run_id>/`` and renamed into place only
when it is finished (COMPLETE or FAILED inside), so a crash mid-write can never leave a folder that looks like a
result. Readers are defensive: ``read_run`` never raises for a bad folder, it returns a ``RunInfo`` whose
``status``/``problem`` say what is wrong (the dashboard shows that message instead of a stack trace).

Here: the writer (``Run``, ``start_run``, ``finalize``); ``layout`` (root, ids, markers), ``provenance`` (env.json)
and ``reader`` (``read_run``, ``list_runs``) sit beside it and are re-exported, so ``kdlab.store.runs`` is the one name
to import.

The root is ``runs/`` at the project root (see ``kdlab.paths``) unless the ``KDLAB_RUNS`` environment variable says otherwise.
"""

from __future__ import annotations

import os
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kdlab.jsonio import write_json_atomic
from kdlab.store.layout import (
    COMPLETE,
    FAILED,
    RUN_DIR_ENV,
    SCHEMA_VERSION,
    STAGING,
    final_path,
    new_run_id,
    runs_root,
)
from kdlab.store.provenance import environment, git_commit, peak_memory_mb


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
        self.precision: str | None = None  # "fp32" | "bf16", as the notebook resolved it (env.json)
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
        env = environment(self.device, self.precision)
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
