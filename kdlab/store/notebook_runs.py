"""``kdlab run``: execute a notebook through papermill into the run store, never leaving a fake result.

The notebook's parameters cell defines which names may be set, and their types; an unknown profile or parameter, or
a value of the wrong type, is refused before anything runs (``kdlab.store.parameters``). Execution happens in a
staging folder (``runs/<stem>/.staging/<run_id>``) whose path the kernel gets as ``$KDLAB_RUN_DIR``; the notebook's ``run.finish()`` writes its metrics and env there, papermill saves the
executed notebook next to them, and only then is ``COMPLETE`` written and the folder renamed into place. A failed
cell, a notebook that never called ``run.finish()``, or Ctrl-C leaves the run marked ``FAILED`` with the reason.

What the terminal shows: papermill's cell counter, and under it the kernel's output as it arrives — the
notebook's ``print``s and, with ``$KDLAB_PROGRESS=lines`` set for the kernel, ``kdlab.core.train.fit``'s compact
progress lines (``[teacher] epoch 3/10 · loss 0.2134 · 4.2 s/epoch · ETA 29 s``). ``TerminalRelay`` keeps that
readable: whole lines only, carriage-return bars collapsed to their latest state every few seconds, ANSI escape
codes removed, long lines cut, floods summarized. The kernel talks to us over CurveZMQ-encrypted sockets where
its kernelspec supports it (ipykernel's does), which also ends its "running over TCP without encryption" warning.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from kdlab import paths
from kdlab.jsonio import write_json_atomic
from kdlab.paths import PROGRESS_ENV
from kdlab.store.layout import COMPLETE, FAILED, RUN_DIR_ENV, STAGING, new_run_id
from kdlab.store.parameters import validate
from kdlab.store.provenance import peak_memory_mb
from kdlab.store.runs import finalize


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
    matches = [
        p
        for p in available_notebooks()
        if p.stem == path.stem or p.stem.startswith(path.stem + "_") or p.stem.split("_")[0] == path.stem
    ]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(p.stem for p in available_notebooks()) or "none found"
    raise ValueError(f"unknown notebook {name!r}; choose one of: {names}")


# Escape sequences (CSI like colours and cursor moves, OSC titles, two-byte ESC codes) and other control characters
# a terminal would interpret; tabs survive.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class TerminalRelay:
    """A file-like sink for papermill's ``stdout_file``/``stderr_file``: the kernel's stream output, tidied.

    Whole lines are printed as they arrive (prefixed, so they read as the notebook's); a carriage-return update
    (a tqdm bar printing to a stream) is shown at most once per ``cr_every_s`` seconds, as its latest state; ANSI
    escapes and control characters are dropped; a line longer than ``max_width`` is cut; more than ``burst``
    lines within ``window_s`` seconds are counted, not printed, and the count is reported when output calms down
    (the executed notebook keeps everything). Printing goes through ``tqdm.write`` so papermill's cell counter is
    redrawn below the line instead of being broken by it. ``name`` picks the terminal stream (``stdout`` or
    ``stderr``), looked up at each write so a redirected ``sys.stdout`` is honoured.
    """

    def __init__(
        self,
        name: str = "stderr",
        prefix: str = "  │ ",
        cr_every_s: float = 5.0,
        max_width: int = 240,
        burst: int = 60,
        window_s: float = 10.0,
    ):
        self.name = name
        self.prefix = prefix
        self.cr_every_s = cr_every_s
        self.max_width = max_width
        self.burst = burst
        self.window_s = window_s
        self._pending = ""  # text after the last newline: a partial line or a carriage-return update
        self._shown_cr = ""
        self._last_cr = -float("inf")
        self._window_start = -float("inf")
        self._in_window = 0
        self._dropped = 0

    # file protocol used by papermill
    def write(self, text: str) -> int:
        *complete, self._pending = (self._pending + str(text)).split("\n")
        for line in complete:
            self._line(line.split("\r"))
        if "\r" in self._pending:
            self._carriage_return()
        return len(text)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        """Print what is left: a last partial line and the count of lines a flood left out."""
        rest, self._pending = self._pending, ""
        if rest.strip():
            self._line(rest.split("\r"), force=True)
        if self._dropped:
            self._print(f"… {self._dropped} more lines not shown (they are in the executed notebook)")
            self._dropped = 0

    # internals
    def _line(self, segments: list[str], force: bool = False) -> None:
        text = next((self._clean(seg) for seg in reversed(segments) if self._clean(seg).strip()), "")
        if len(segments) > 1 and not text.strip():
            return  # a bar cleared itself (tqdm leave=False): nothing to keep
        if len(segments) > 1 and text == self._shown_cr:
            return  # the final state of a bar we have just shown
        now = time.monotonic()
        if now - self._window_start >= self.window_s:
            if self._dropped:
                self._print(f"… {self._dropped} lines not shown (they are in the executed notebook)")
            self._window_start, self._in_window, self._dropped = now, 0, 0
        if self._in_window >= self.burst and not force:
            self._dropped += 1
            return
        self._in_window += 1
        self._print(text)

    def _carriage_return(self) -> None:
        head, _, tail = self._pending.rpartition("\r")
        self._pending = "\r" + tail  # earlier states of the bar are superseded
        latest = self._clean(tail) if self._clean(tail).strip() else self._clean(head.rpartition("\r")[2])
        now = time.monotonic()
        if latest.strip() and latest != self._shown_cr and now - self._last_cr >= self.cr_every_s:
            self._last_cr = now
            self._shown_cr = latest
            self._print(latest)

    def _clean(self, text: str) -> str:
        text = _CONTROL.sub("", _ANSI.sub("", text)).rstrip()
        return text if len(text) <= self.max_width else text[: self.max_width - 1] + "…"

    def _print(self, text: str) -> None:
        from tqdm import tqdm

        stream = sys.stdout if self.name == "stdout" else sys.stderr
        try:
            tqdm.write(self.prefix + text, file=stream)
            stream.flush()
        except (OSError, ValueError, UnicodeError):  # a closed or narrow terminal must not fail the run
            pass


def kernel_config() -> Any:
    """traitlets config for papermill's kernel manager: CurveZMQ transport encryption where the kernel supports it.

    ``transport_encryption="auto"`` makes jupyter_client provision CurveZMQ keys when the kernelspec declares
    ``supported_encryption: curve`` (ipykernel ≥ 7 does); the kernel then no longer logs "Kernel is running over
    TCP without encryption" at every start. Nothing is set where pyzmq lacks Curve or jupyter_client predates the
    option, so an older setup runs exactly as before (warning included).
    """
    from traitlets.config import Config

    try:
        import zmq
        from jupyter_client.manager import KernelManager

        if zmq.has("curve") and "transport_encryption" in KernelManager.class_trait_names():
            return Config({"KernelManager": {"transport_encryption": "auto"}})
    except ImportError:
        pass
    return Config()


def run_notebook(
    notebook: str,
    profile: str = "quick",
    overrides: dict[str, Any] | None = None,
    root: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Execute ``notebook`` with papermill into the run store; returns the final run folder (complete or failed).

    With ``progress`` the terminal shows papermill's cell counter and the kernel's output (``TerminalRelay``),
    training progress included (``$KDLAB_PROGRESS=lines`` for the kernel); without it, nothing is printed.
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
    saved = {k: os.environ.get(k) for k in (RUN_DIR_ENV, "KDLAB_RUNS", PROGRESS_ENV)}
    os.environ[RUN_DIR_ENV] = str(staging.resolve())
    os.environ["KDLAB_RUNS"] = str(store.resolve())
    if progress:
        os.environ[PROGRESS_ENV] = "lines"  # the kernel inherits it: fit prints lines the relay can show
    relays = [TerminalRelay("stdout"), TerminalRelay("stderr")] if progress else [None, None]
    began = time.time()
    error = ""
    try:
        papermill.execute_notebook(
            str(path),
            str(staging / "notebook.ipynb"),
            parameters=params,
            kernel_name="python3",
            cwd=str(path.parent),
            progress_bar=progress,
            stdout_file=relays[0],
            stderr_file=relays[1],
            config=kernel_config(),
        )
    except KeyboardInterrupt:
        error = "interrupted (KeyboardInterrupt)"
    except Exception as e:  # papermill raises PapermillExecutionError with the failing cell's error
        lines = [ln for ln in str(e).strip().splitlines() if ln.strip()]
        error = f"{type(e).__name__}: {lines[-1] if lines else e}"
    finally:
        for relay in relays:
            if relay is not None:
                relay.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if not error and (staging / FAILED).exists():
        error = (staging / FAILED).read_text().strip() or "the notebook marked its run failed"
    if not error and not (staging / "NOTEBOOK_DONE").exists():
        error = "the notebook finished without calling run.finish(); its results are incomplete"
    _record_execution(staging, began)  # a failed run too: how long it ran before it failed
    if error:
        final = finalize(staging, status=FAILED, message=error)
        raise RuntimeError(f"{path.name} failed: {error} (run marked failed: {final})")
    return finalize(staging, status=COMPLETE)


def _record_execution(staging: Path, began: float) -> None:
    """Add who executed the run, its wall time and peak memory to env.json (written by ``run.finish()``, or here
    alone for a run that failed before it)."""
    env_path = staging / "env.json"
    try:
        env = json.loads(env_path.read_text()) if env_path.exists() else {}
    except (OSError, ValueError):
        env = {}
    env.update(
        {
            "executed_by": "kdlab run",
            "papermill_wall_time_s": round(time.time() - began, 2),
            "peak_memory_mb": max(env.get("peak_memory_mb", 0.0), peak_memory_mb()),
        }
    )
    write_json_atomic(env_path, env)
