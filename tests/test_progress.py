"""Progress a person can see: fit's compact lines under $KDLAB_PROGRESS=lines, and the terminal relay of `kdlab run`."""

import re

import pytest
import torch

from kdlab.core.config import TrainConfig
from kdlab.core.progress import ProgressLines, format_duration
from kdlab.core.train import fit
from kdlab.store.notebook_runs import TerminalRelay, kernel_config

LINE = re.compile(
    r"^\[tiny\] epoch (\d+)/3 · loss [0-9.e+-]+ · (?:val errors \d+ · )?(?:[0-9.]+ s/epoch · ETA .+|done in .+)$"
)


def _tiny_problem():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=gen)
    return torch.nn.Linear(4, 3), x, (x[:, 0] > 0).long()


def test_fit_prints_one_compact_line_per_epoch_instead_of_a_bar(monkeypatch, capsys):
    monkeypatch.setenv("KDLAB_PROGRESS", "lines")
    monkeypatch.setattr(ProgressLines, "every_s", 0.0)  # no rate limit: every epoch (and step) gets its line
    model, x, y = _tiny_problem()
    fit(model, x, y, config=TrainConfig(epochs=3, batch_size=16, desc="tiny"), x_val=x, y_val=y, device="cpu")
    err = capsys.readouterr().err
    steps = [ln for ln in err.splitlines() if " · step " in ln]
    lines = [ln for ln in err.splitlines() if " · step " not in ln]
    assert [LINE.match(ln).group(1) for ln in lines] == ["1", "2", "3"], err
    assert steps and all(re.fullmatch(r"\[tiny\] epoch [123]/3 · step [123]/4 · ETA .+ s", ln) for ln in steps), err
    assert "ETA" in lines[0] and "done in" in lines[-1] and "\r" not in err and "\x1b" not in err


def test_fit_lines_are_rate_limited_but_the_done_line_always_comes(monkeypatch, capsys):
    monkeypatch.setenv("KDLAB_PROGRESS", "lines")
    monkeypatch.setattr(ProgressLines, "every_s", 3600.0)
    monkeypatch.setattr(ProgressLines, "last_emit", float("-inf"))
    model, x, y = _tiny_problem()
    for _ in range(2):
        fit(model, x, y, config=TrainConfig(epochs=3, batch_size=16, desc="tiny"), device="cpu")
    lines = capsys.readouterr().err.splitlines()
    assert [LINE.match(ln).group(1) for ln in lines] == ["1", "3", "3"]  # first line, then only `done` lines


def test_without_the_environment_variable_fit_prints_no_lines(monkeypatch, capsys):
    monkeypatch.delenv("KDLAB_PROGRESS", raising=False)
    model, x, y = _tiny_problem()
    fit(model, x, y, config=TrainConfig(epochs=2, batch_size=16, desc="tiny", progress=False), device="cpu")
    assert "[tiny]" not in capsys.readouterr().err


def test_step_lines_inside_long_epochs(monkeypatch, capsys):
    clock = iter(range(0, 1000, 4))  # every call to perf_counter advances 4 s
    monkeypatch.setattr("kdlab.core.train.time.perf_counter", lambda: float(next(clock)))
    monkeypatch.setattr(ProgressLines, "last_emit", float("-inf"))
    lines = ProgressLines("teacher", epochs=2, steps_per_epoch=10, every_s=10.0)
    for step in range(10):
        lines.step(0, step)
    lines.epoch_end(0, 0.5)
    out = capsys.readouterr().err.splitlines()
    assert out[0] == "[teacher] epoch 1/2 · step 3/10 · ETA 1 min 08 s"  # 12 s for 3 steps: 17 left at 4 s
    assert all(" · step " in ln for ln in out[:-1]) and len(out) <= 4
    assert out[-1].startswith("[teacher] epoch 1/2 · loss 0.5 · 44 s/epoch · ETA 44 s")


@pytest.mark.parametrize(
    ("seconds", "text"), [(4.24, "4.2 s"), (42, "42 s"), (185, "3 min 05 s"), (7620, "2 h 07 min"), (-1, "0.0 s")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_relay_collapses_carriage_return_bars_and_strips_ansi(monkeypatch, capsys):
    now = [0.0]
    monkeypatch.setattr("kdlab.store.notebook_runs.time.monotonic", lambda: now[0])
    relay = TerminalRelay("stderr", prefix="> ", cr_every_s=5.0)
    for i in range(1000):  # a tqdm bar printing to a stream: one carriage-return update per step
        now[0] = i * 0.01
        relay.write(f"\r\x1b[32mtrain {i / 10:.0f}%\x1b[0m |{'█' * (i // 100)}|")
    relay.write("\n")
    relay.write("\x1b]0;title\x07plain \x1b[1mbold\x1b[0m line\nhalf ")
    relay.write("a line\n")
    relay.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[:2] == ["> train 0% ||", "> train 50% |█████|"]  # at most one state per 5 s
    assert len(lines) == 5, lines  # ... then the final state and the two lines
    assert lines[-1] == "> half a line" and lines[-2] == "> plain bold line"
    assert lines[-3] == "> train 100% |█████████|"
    assert not any("\x1b" in ln or "\r" in ln for ln in lines)


def test_relay_summarizes_a_flood_and_cuts_long_lines(capsys):
    relay = TerminalRelay("stdout", prefix="", burst=5, window_s=3600.0, max_width=20)
    relay.write("".join(f"line {i}\n" for i in range(100)) + "x" * 50 + "\n")
    relay.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"line {i}" for i in range(5)] + ["… 96 more lines not shown (they are in the executed notebook)"]
    relay = TerminalRelay("stdout", prefix="", max_width=20)
    relay.write("x" * 50 + "\n")
    assert capsys.readouterr().out == "x" * 19 + "…\n"


def test_kernel_config_asks_for_curve_encryption_where_available():
    zmq = pytest.importorskip("zmq")
    config = kernel_config()
    if zmq.has("curve"):
        assert config.KernelManager.transport_encryption == "auto"
