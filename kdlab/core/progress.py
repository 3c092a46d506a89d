"""Training progress a person can see: compact, rate-limited lines in notebooks and ``kdlab run``, a text tqdm bar
in a terminal script.

``fit`` (``kdlab.core.train``) reports through ``ProgressLines`` when ``$KDLAB_PROGRESS`` is ``lines`` — set by
``kdlab run`` for the notebook's kernel, whose stderr it relays to the terminal — and in any Jupyter kernel, where a
tqdm widget would not survive saving the notebook.
"""

from __future__ import annotations

import math
import os
import sys
import time

from kdlab.paths import PROGRESS_ENV


def in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, papermill, nbval): its stderr is ipykernel's stream."""
    return type(sys.stderr).__module__.split(".")[0] == "ipykernel"


def progress_lines_enabled() -> bool:
    """True when ``$KDLAB_PROGRESS`` is ``lines`` (``kdlab run`` sets it for the kernel) or inside any Jupyter
    kernel: print lines, not a bar.

    A tqdm bar in a kernel is a widget (or thousands of carriage-return updates) that a terminal running the
    notebook through papermill never sees, and that a saved notebook, reopened, shows as "Error displaying widget:
    model not found"; a compact line on stderr is streamed to the terminal by ``kdlab run``, shows live in
    JupyterLab, and reads the same in the saved notebook. A terminal script keeps tqdm's text bar.
    """
    return os.environ.get(PROGRESS_ENV, "").strip().lower() == "lines" or in_kernel()


def format_duration(seconds: float) -> str:
    """``4.2 s``, ``42 s``, ``3 min 05 s``, ``2 h 07 min``: short enough for a progress line."""
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        minutes, secs = divmod(int(round(seconds)), 60)
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(int(round(seconds / 60)), 60)
    return f"{hours} h {minutes:02d} min"


class ProgressLines:
    """Compact, rate-limited progress lines on stderr, e.g.::

        [teacher] epoch 3/10 · step 120/469 · ETA 1 min 02 s
        [teacher] epoch 3/10 · loss 0.2134 · 4.2 s/epoch · ETA 29 s
        [teacher] epoch 10/10 · loss 0.0213 · done in 42 s

    The rate limit is shared by every ``ProgressLines`` of the process (a sweep of many short fits does not flood
    the terminal); step lines appear only inside epochs longer than ``every``, and such an epoch's end, like the
    last epoch of each fit (its ``done`` line), is always reported. ETA = time per step so far × steps
    left in this call (a resumed fit counts only the steps it runs).
    """

    every_s = 10.0
    last_emit = -math.inf  # perf_counter() of the last line printed by any instance

    def __init__(
        self, desc: str, epochs: int, steps_per_epoch: int, start_epoch: int = 0, every_s: float | None = None
    ):
        self.desc = desc
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.start_epoch = start_epoch
        self.every = self.every_s if every_s is None else every_s
        self.began = self.epoch_began = time.perf_counter()

    def _due(self, now: float) -> bool:
        return now - ProgressLines.last_emit >= self.every

    def _emit(self, text: str, now: float) -> None:
        ProgressLines.last_emit = now
        stream = sys.stderr
        stream.write(f"[{self.desc}] {text}\n")
        stream.flush()

    def _eta(self, epoch: int, steps_done_in_epoch: int, now: float) -> str:
        done = (epoch - self.start_epoch) * self.steps_per_epoch + steps_done_in_epoch
        left = (self.epochs - self.start_epoch) * self.steps_per_epoch - done
        return format_duration((now - self.began) / max(done, 1) * left)

    def step(self, epoch: int, step: int) -> None:
        """After step ``step`` (0-based) of epoch ``epoch`` (0-based): a line if none was printed for a while."""
        now = time.perf_counter()
        if not self._due(now) or now - self.epoch_began < self.every or step + 1 >= self.steps_per_epoch:
            return  # only inside an epoch longer than `every`; shorter ones get their epoch line
        self._emit(
            f"epoch {epoch + 1}/{self.epochs} · step {step + 1}/{self.steps_per_epoch} · "
            f"ETA {self._eta(epoch, step + 1, now)}",
            now,
        )

    def epoch_end(self, epoch: int, loss: float, val_errors: float | None = None) -> None:
        """After epoch ``epoch`` (0-based): its loss (and validation errors), then the ETA or, last, the total."""
        now = time.perf_counter()
        last = epoch + 1 >= self.epochs
        long_epoch = now - self.epoch_began >= self.every  # it had step lines; its loss is always worth a line
        self.epoch_began = now
        if not (last or long_epoch or self._due(now)):
            return
        parts = [f"epoch {epoch + 1}/{self.epochs}", f"loss {loss:.4g}"]
        if val_errors is not None:
            parts.append(f"val errors {val_errors:g}")
        elapsed = now - self.began
        if last:
            parts.append(f"done in {format_duration(elapsed)}")
        else:
            parts.append(f"{format_duration(elapsed / (epoch + 1 - self.start_epoch))}/epoch")
            parts.append(f"ETA {self._eta(epoch + 1, 0, now)}")
        self._emit(" · ".join(parts), now)
