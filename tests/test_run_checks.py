"""`kdlab run` checks before it makes anything: parameter types against the notebook's parameters cell, the data the
notebook reads, and `--help` that describes every option. Each check is shown failing and passing."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kdlab.cli import build_parser
from kdlab.data.errors import DataError
from kdlab.data.mnist import FILES as MNIST_FILES
from kdlab.data.preflight import check, missing
from kdlab.notebook_data import fetch_command, sources
from kdlab.store.notebook_runs import available_notebooks, resolve_notebook
from kdlab.store.parameters import parse_for, type_problem, typed_overrides, validate

NB01 = resolve_notebook("01")


def _kdlab(*args, env=None):
    return subprocess.run([sys.executable, "-m", "kdlab", *args], capture_output=True, text=True, env=env, timeout=300)


def _one_line(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


# ----------------------------------------------------------------------------------------------- parameter types


def test_wrong_type_is_one_line_naming_parameter_type_and_value_and_nothing_is_written(tmp_path):
    store = tmp_path / "runs"
    line = _one_line(_kdlab("run", "01", "-p", "SEED", "abc", "--runs", str(store)))
    assert "SEED" in line and "an integer" in line and "'abc'" in line and "-p SEED 1" in line
    assert "TypeError" not in line and not store.exists()


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("SEED", "1.5", "an integer"),
        ("HIGH_T", "hot", "a number"),
        ("REUSE_TEACHER", "1", "True or False"),
        ("REUSE_TEACHER", "yes", "True or False"),
    ],
)
def test_each_type_is_checked(name, text, words):
    with pytest.raises(ValueError, match=f"parameter {name} of 01_softmax_temperature takes {words}"):
        validate(NB01, "quick", typed_overrides(NB01, [(name, text)]))


def test_values_of_the_right_type_pass_and_are_typed_like_the_default():
    typed = typed_overrides(NB01, [("SEED", "3"), ("HIGH_T", "4"), ("DEVICE", "0"), ("REUSE_TEACHER", "false")])
    assert typed == {"SEED": 3, "HIGH_T": 4, "DEVICE": "0", "REUSE_TEACHER": False}
    params = validate(NB01, "full", typed)
    assert params["HIGH_T"] == 4.0 and isinstance(params["HIGH_T"], float) and params["PROFILE"] == "full"
    assert isinstance(params["SEED"], int) and params["DEVICE"] == "0"  # text where the default is text


def test_type_rules():
    assert parse_for("auto", "7") == "7" and parse_for(0, "7") == 7 and parse_for(None, "7") == 7
    assert type_problem("nb", "X", 0, True)  # a bool is not an integer
    assert type_problem("nb", "X", 1.0, False) and not type_problem("nb", "X", 1.0, 2)
    assert not type_problem("nb", "X", None, "anything")  # a None default accepts any value
    assert type_problem("nb", "X", "cpu", 3) and not type_problem("nb", "X", "cpu", "3")


def test_python_callers_are_checked_too(tmp_path, runs_dir):
    from kdlab.store.notebook_runs import run_notebook

    with pytest.raises(ValueError, match="SEED .* takes an integer"):
        run_notebook("01", "quick", {"SEED": "abc"}, progress=False)
    assert not runs_dir.exists()


def test_every_notebook_parameter_has_a_typed_literal_default():
    """The check reads types from the defaults; a default that is not a literal would silently accept anything."""
    from kdlab.store.parameters import notebook_parameters

    for path in available_notebooks():
        loose = [name for name, default in notebook_parameters(path).items() if default is None]
        assert not loose, f"{path.name}: parameters without a literal default: {loose}"


# ----------------------------------------------------------------------------------------------- data on disk


def test_sources_are_read_off_each_notebooks_imports(tmp_path):
    found = {path.stem[:2]: sources(path) for path in available_notebooks()}
    assert found == {"01": ["mnist"], "02": ["mnist"], "03": ["mnist"], "04": ["mnist"], "05": ["speech"],
                     "06": ["mnist"]}  # fmt: skip
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np")]
    nbformat.write(nb, tmp_path / "99_tiny.ipynb")
    assert sources(tmp_path / "99_tiny.ipynb") == []
    assert fetch_command("speech", "full") == "kdlab fetch speech --profile full"


def test_run_without_mnist_is_one_line_with_the_fetch_command_and_no_run_folder(tmp_path):
    import os

    store = tmp_path / "runs"
    env = dict(os.environ, KDLAB_DATA=str(tmp_path / "empty"), KDLAB_RUNS=str(store))
    line = _one_line(_kdlab("run", "01", env=env))
    assert "`kdlab fetch mnist`" in line and "01_softmax_temperature" in line
    assert not store.exists()


def test_data_checks_fail_and_pass(tmp_path):
    nb01, nb05 = resolve_notebook("01"), resolve_notebook("05")
    with pytest.raises(DataError, match=r"run `kdlab fetch mnist` and `kdlab fetch speech --profile full` first"):
        check([nb01, nb05], "full", root=tmp_path)
    (tmp_path / "mnist").mkdir()
    for name in MNIST_FILES:
        (tmp_path / "mnist" / name).write_bytes(b"")  # presence only: the notebook's loader verifies the SHA-256
    assert missing("mnist", root=tmp_path) == ""
    with pytest.raises(DataError, match="05_speech_frames reads data") as e:
        check([nb01, nb05], "full", root=tmp_path)
    assert "mnist" not in str(e.value)
    corpus = tmp_path / "speech" / "full"
    corpus.mkdir(parents=True)
    (corpus / "manifest.json").write_text(json.dumps({"files": {}}))
    check([nb01, nb05], "full", root=tmp_path)  # everything there: no error
    with pytest.raises(DataError, match="`kdlab fetch speech` first"):
        check([nb05], "quick", root=tmp_path)


# ----------------------------------------------------------------------------------------------- --help


def undescribed(parser: argparse.ArgumentParser, prefix: str = "kdlab") -> list[str]:
    """Every argument of ``parser`` and its subcommands whose help is empty, as ``kdlab run --profile``."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += undescribed(sub, f"{prefix} {name}")
        elif not isinstance(action, argparse._HelpAction) and not (action.help or "").strip():
            out.append(f"{prefix} {'/'.join(action.option_strings) or action.dest}")
    return out


def test_every_option_of_every_subcommand_has_help():
    assert undescribed(build_parser()) == []


def test_the_help_walk_finds_an_undescribed_option():
    parser = argparse.ArgumentParser(prog="x")
    sub = parser.add_subparsers(dest="cmd")
    p = sub.add_parser("go", help="go")
    p.add_argument("--port", type=int)
    p.add_argument("--runs", help="  ")
    p.add_argument("--ok", help="described")
    assert undescribed(parser, "x") == ["x go --port", "x go --runs"]


def test_dashboard_help_describes_runs_and_port():
    text = _kdlab("dashboard", "--help").stdout
    assert "run store" in text and "port on 127.0.0.1" in text


def test_the_dashboards_first_run_hint_names_the_fetch(monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from dashboard import data

    assert data.first_run("01")[0] == "kdlab fetch mnist" and data.first_run("05")[0] == "kdlab fetch speech"
    assert data.first_run_text("01").startswith(
        "`kdlab fetch mnist` (once), then `kdlab run notebooks/01_softmax_temperature.ipynb"
    )
