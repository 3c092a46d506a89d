"""Where data and runs live, the same from the CLI, a notebook (cwd ``notebooks/``) and the dashboard.

``KDLAB_DATA`` and ``KDLAB_RUNS`` override; otherwise ``data/`` and ``runs/`` at the project root (the folder
holding kdlab's pyproject.toml, found from the package itself for an editable install, else from the working
directory upwards), else the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

PROGRESS_ENV = "KDLAB_PROGRESS"  # "lines": `kdlab.core.train.fit` prints compact progress lines instead of a tqdm bar


def project_root() -> Path:
    """The kdlab checkout this package belongs to, or the working directory if it is installed elsewhere."""
    here = Path(__file__).resolve().parents[1]
    if (here / "pyproject.toml").is_file() and (here / "kdlab").is_dir():
        return here
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "pyproject.toml").is_file() and (folder / "kdlab").is_dir():
            return folder
    return Path.cwd()


def data_root(root: str | Path | None = None) -> Path:
    """Download cache: ``root`` if given, else ``$KDLAB_DATA``, else ``<project>/data``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("KDLAB_DATA")
    return Path(env).expanduser() if env else project_root() / "data"


def runs_root(root: str | Path | None = None) -> Path:
    """Run store: ``root`` if given, else ``$KDLAB_RUNS``, else ``<project>/runs``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("KDLAB_RUNS")
    return Path(env).expanduser() if env else project_root() / "runs"
