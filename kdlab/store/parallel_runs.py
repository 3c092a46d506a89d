"""``kdlab run all --jobs N``: several notebooks at once, each in its own ``kdlab run`` process.

Why processes: a run's staging folder and progress setting reach the notebook's kernel through environment
variables (``run_notebook``), so two runs cannot share one process. Why at all: on a GPU the lab's nets are small
and each training process leaves the device idle between its kernels; processes side by side fill it (one H100:
eight teacher processes gave about 6× the throughput of one, benchmarks/RESULTS.md). On a 2-core CPU there is
nothing to gain: keep ``--jobs 1``. Running side by side, notebook 04 trains its own teacher rather than waiting
for notebook 03's.

Each process writes its terminal output (cell counter, training progress) to ``<store>/.logs/<notebook>-<id>.log``;
this terminal shows one line when a notebook starts, when it ends, and every minute which are still running.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kdlab import paths
from kdlab.store.layout import new_run_id


def _last_line(path: Path, prefix: str = "") -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    picked = [ln for ln in lines if ln.startswith(prefix)] if prefix else lines
    return picked[-1] if picked else ""


def run_many(
    notebooks: Sequence[str],
    profile: str,
    params: Sequence[tuple[str, str]] = (),
    root: str | Path | None = None,
    jobs: int = 2,
    echo: Callable[[str], None] = print,
    heartbeat_s: float = 60.0,
) -> tuple[list[Path], list[str]]:
    """Run ``notebooks`` (names or paths) with ``profile`` and the ``-p NAME VALUE`` pairs ``params``, at most
    ``jobs`` at a time. Returns (final folders of the complete runs, one line per failed notebook)."""
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be a whole number ≥ 1, got {jobs!r}")
    store = paths.runs_root(root).resolve()
    logs = store / ".logs"
    logs.mkdir(parents=True, exist_ok=True)
    pending, running = list(notebooks), {}
    done: list[Path] = []
    failed: list[str] = []
    last_beat = time.monotonic()
    try:
        while pending or running:
            while pending and len(running) < jobs:
                name = pending.pop(0)
                log = logs / f"{Path(str(name)).stem}-{new_run_id()}.log"
                cmd = [sys.executable, "-m", "kdlab", "run", str(name), "--profile", profile, "--runs", str(store)]
                for key, value in params:
                    cmd += ["-p", key, value]
                with open(log, "w") as out:
                    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                running[proc] = (name, log, time.monotonic())
                echo(f"kdlab run: {name} ({profile}) started; its output: {log}")
            time.sleep(0.5)
            for proc, (name, log, began) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[proc]
                took = f"{(time.monotonic() - began) / 60:.1f} min"
                folder = _last_line(log, "complete: ").removeprefix("complete: ")
                if proc.returncode == 0 and folder:
                    done.append(Path(folder))
                    echo(f"  {name} complete in {took}: {folder}")
                else:
                    line = f"{name}: {_last_line(log) or f'exit code {proc.returncode}'} (log: {log})"
                    failed.append(line)
                    echo(f"  {name} FAILED after {took}: {line}")
            if running and time.monotonic() - last_beat >= heartbeat_s:
                last_beat = time.monotonic()
                now = time.monotonic()
                echo("  still running: " + ", ".join(f"{n} ({(now - b) / 60:.0f} min)" for n, _, b in running.values()))
    finally:
        for proc in running:  # interrupted: stop the children too, their runs end as failed or staging
            proc.terminate()
    return done, failed
