"""Where runs live and what marks them: the store's root, run ids, the staging folder and the status markers.

Shared by the writer (``kdlab.store.runs``) and the reader (``kdlab.store.reader``), so neither imports the other.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from kdlab import paths as _paths

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


def final_path(staging: str | Path) -> Path:
    """The path ``finalize`` renames a staging folder to (``…/.staging/<id>`` → ``…/<id>``); others stay put."""
    staging = Path(staging)
    return staging.parent.parent / staging.name if staging.parent.name == STAGING else staging


_RUN_TAIL = re.compile(r"(?:^|/)(\d\d_[A-Za-z0-9_]+/\d{8}-\d{6}-[0-9a-f]{6}(?:/.*)?)$")  # <notebook>/<run_id>[/...]


def store_relative(value: Any, store: str | Path | None = None) -> Any:
    """An absolute path in a run's JSON (``teacher_source``: the run a teacher was reloaded from), as it reads
    anywhere: ``01_softmax_temperature/20261129-160942-da048c`` for a run folder of any store on any machine, else
    relative to ``store``; anything else unchanged. Applied to nested dicts and lists too.

    Why: a run folder written on one machine (``/work/main/runs/...``) is published to ``reference/`` and read on
    another; the absolute path is neither true there nor readable, the run's id within its store is both.
    """
    if isinstance(value, dict):
        return {k: store_relative(v, store) for k, v in value.items()}
    if isinstance(value, list):
        return [store_relative(v, store) for v in value]
    if not isinstance(value, str) or not value.startswith("/"):
        return value
    found = _RUN_TAIL.search(value)
    if found:
        return found.group(1)
    if store is not None:
        try:
            return PurePosixPath(value).relative_to(Path(store).resolve().as_posix()).as_posix()
        except ValueError:
            pass
    return value
