"""How `kdlab dashboard` starts the app: ``command(runs_dir, port)`` is the argv to hand to ``subprocess``."""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def command(runs_dir: str | Path | None = None, port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """argv for ``streamlit run dashboard/app.py`` on ``address:port`` reading ``runs_dir`` (None: $KDLAB_RUNS/./runs)."""
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        address,  # loopback only by default: the dashboard has no authentication
        "--server.port",
        str(int(port)),
        "--server.headless",
        "true",  # print the URL instead of trying to open a browser
        "--browser.gatherUsageStats",
        "false",
        "--client.showErrorDetails",
        "type",  # pages catch their own errors; never show a traceback to a reader
        "--client.toolbarMode",
        "minimal",
    ]
    if runs_dir is not None:
        argv += ["--", "--runs", str(Path(runs_dir).expanduser().resolve())]
    return argv
