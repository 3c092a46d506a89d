"""``kdlab run``: execute a notebook through papermill into the run store, never leaving a fake result.

The notebook's parameters cell defines which names may be set; an unknown profile or parameter is refused before
anything runs. Execution happens in a staging folder (``runs/<stem>/.staging/<run_id>``) whose path the kernel
gets as ``$KDLAB_RUN_DIR``; the notebook's ``run.finish()`` writes its metrics and env there, papermill saves the
executed notebook next to them, and only then is ``COMPLETE`` written and the folder renamed into place. A failed
cell, a notebook that never called ``run.finish()``, or Ctrl-C leaves the run marked ``FAILED`` with the reason.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from kdlab import paths
from kdlab.runs import COMPLETE, FAILED, RUN_DIR_ENV, STAGING, finalize, new_run_id, peak_memory_mb, write_json_atomic

PROFILES = ("quick", "full", "paper")


def notebooks_dir() -> Path:
    return paths.project_root() / "notebooks"


def available_notebooks() -> list[Path]:
    """The lab's notebooks in teaching order."""
    return sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb"))


def resolve_notebook(name: str) -> Path:
    """A path, a stem (``03_mnist_distillation``) or a number prefix (``03``) → the notebook's path."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.is_file():
        return path.resolve()
    matches = [p for p in available_notebooks() if p.stem == path.stem or p.stem.startswith(path.stem + "_")
               or p.stem.split("_")[0] == path.stem]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(p.stem for p in available_notebooks()) or "none found"
    raise ValueError(f"unknown notebook {name!r}; choose one of: {names}")


def notebook_parameters(path: Path) -> dict[str, Any]:
    """Names and defaults of the notebook's ``parameters`` cell (via papermill's inspection)."""
    import papermill

    found = papermill.inspect_notebook(str(path))
    if not found:
        raise ValueError(f"{path.name} has no cell tagged 'parameters'; papermill cannot set its parameters")
    return {name: info.get("default") for name, info in found.items()}


def parse_value(text: str) -> Any:
    """Type a command-line value the way papermill's ``-p`` does: bool, int, float, None, else string."""
    lowered = text.strip()
    if lowered in ("True", "true"):
        return True
    if lowered in ("False", "false"):
        return False
    if lowered in ("None", "none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(lowered)
        except ValueError:
            pass
    try:
        value = json.loads(lowered)
        if isinstance(value, (list, dict)):
            return value
    except json.JSONDecodeError:
        pass
    return text


def validate(path: Path, profile: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Check profile and parameter names against the notebook; returns the parameters to inject."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    known = notebook_parameters(path)
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ValueError(f"{path.name} has no parameter {', '.join(unknown)}; valid parameters: {', '.join(sorted(known))}")
    if "PROFILE" not in known:
        raise ValueError(f"{path.name}'s parameters cell defines no PROFILE; add PROFILE = \"quick\" to it")
    return {"PROFILE": profile, **overrides}


def run_notebook(notebook: str, profile: str = "quick", overrides: dict[str, Any] | None = None,
                 root: str | Path | None = None, progress: bool = True) -> Path:
    """Execute ``notebook`` with papermill into the run store; returns the final run folder (complete or failed).

    Raises ``RuntimeError`` (one line, naming the run folder) when the execution failed.
    """
    import papermill

    path = resolve_notebook(notebook)
    params = validate(path, profile, dict(overrides or {}))
    store = paths.runs_root(root)
    staging = store / path.stem / STAGING / new_run_id()
    staging.mkdir(parents=True)
    (staging / "artifacts").mkdir()
    write_json_atomic(staging / "params.json", {"schema_version": 1, "notebook": path.stem, "params": params})
    saved = {k: os.environ.get(k) for k in (RUN_DIR_ENV, "KDLAB_RUNS")}
    os.environ[RUN_DIR_ENV] = str(staging.resolve())
    os.environ["KDLAB_RUNS"] = str(store.resolve())
    began = time.time()
    error = ""
    try:
        papermill.execute_notebook(str(path), str(staging / "notebook.ipynb"), parameters=params,
                                   kernel_name="python3", cwd=str(path.parent), progress_bar=progress)
    except KeyboardInterrupt:
        error = "interrupted (KeyboardInterrupt)"
    except Exception as e:  # papermill raises PapermillExecutionError with the failing cell's error
        lines = [ln for ln in str(e).strip().splitlines() if ln.strip()]
        error = f"{type(e).__name__}: {lines[-1] if lines else e}"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if not error and (staging / FAILED).exists():
        error = (staging / FAILED).read_text().strip() or "the notebook marked its run failed"
    if not error and not (staging / "NOTEBOOK_DONE").exists():
        error = "the notebook finished without calling run.finish(); its results are incomplete"
    if error:
        final = finalize(staging, status=FAILED, message=error)
        raise RuntimeError(f"{path.name} failed: {error} (run marked failed: {final})")
    env_path = staging / "env.json"
    env = json.loads(env_path.read_text()) if env_path.exists() else {}
    env.update({"executed_by": "kdlab run", "papermill_wall_time_s": round(time.time() - began, 2),
                "peak_memory_mb": max(env.get("peak_memory_mb", 0.0), peak_memory_mb())})
    write_json_atomic(env_path, env)
    return finalize(staging, status=COMPLETE)
