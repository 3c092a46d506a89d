"""Where runs live and what marks them: the store's root, run ids, the staging folder and the status markers.

Shared by the writer (``kdlab.store.runs``) and the reader (``kdlab.store.reader``), so neither imports the other.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

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
