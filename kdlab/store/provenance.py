"""How a run was made: versions, device, git commit (with ``+dirty`` for uncommitted changes), host, peak memory.

Written into ``env.json``; without it a number in a run folder could not be reproduced or trusted.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

GIT_TIMEOUT_S = 120


def git_commit() -> str | None:
    """The repository's HEAD commit (with ``+dirty`` if the tree has changes), or None outside git.

    The first ``git status`` after a checkout re-reads every tracked file (their times match the index's); on a busy
    2-core machine that took 17 s, so a short timeout would record a run as made outside git."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=GIT_TIMEOUT_S
        )
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
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


def environment(device: str | None = None, precision: str | None = None) -> dict[str, Any]:
    """Versions, device, the precision training multiplied in ("fp32" | "bf16") and git commit: what a reader
    needs to repeat a run."""
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
    if precision is not None:
        env["precision"] = precision
    return env


def _version(pkg: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return None
