"""`kdlab run`: parameters validated before anything runs; failures end as FAILED runs, successes as COMPLETE."""

import subprocess
import sys

import nbformat
import pytest

from kdlab.notebook_runs import parse_value, run_notebook
from kdlab.runs import list_runs


def _notebook(path, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "quick"\nSEED = 0\nFAIL = False')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


BODY = ("from kdlab.runs import start_run\n"
        "run = start_run('99_tiny', {'PROFILE': PROFILE, 'SEED': SEED})\n"
        "run.log_metrics(seed=SEED)\n"
        "assert not FAIL, 'asked to fail'\n"
        "run.finish()\n")


def _kdlab(*args, env=None):
    return subprocess.run([sys.executable, "-m", "kdlab", *args], capture_output=True, text=True, env=env, timeout=300)


def test_unknown_profile_and_parameter_are_refused_before_running(tmp_path, runs_dir):
    nb = _notebook(tmp_path / "99_tiny.ipynb", BODY)
    with pytest.raises(ValueError, match="valid profiles: quick, full, paper"):
        run_notebook(str(nb), "fast")
    with pytest.raises(ValueError, match="valid parameters: FAIL, PROFILE, SEED"):
        run_notebook(str(nb), "quick", {"EPOCHS": 3})
    assert not runs_dir.exists()
    proc = _kdlab("run", str(nb), "--profile", "quick", "-p", "EPOCHS", "3")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "valid parameters" in proc.stderr


@pytest.mark.slow
def test_run_notebook_complete_and_failed(tmp_path, runs_dir):
    nb = _notebook(tmp_path / "99_tiny.ipynb", BODY)
    final = run_notebook(str(nb), "full", {"SEED": 5}, progress=False)
    (info,) = list_runs()
    assert info.path == final and info.status == "complete"
    assert info.params["PROFILE"] == "full" and info.params["SEED"] == 5 and info.metrics == {"seed": 5}
    assert (final / "notebook.ipynb").is_file() and info.env["executed_by"] == "kdlab run"
    assert info.env["peak_memory_mb"] > 0 and info.env["wall_time_s"] >= 0
    with pytest.raises(RuntimeError, match="asked to fail"):
        run_notebook(str(nb), "quick", {"FAIL": True}, progress=False)
    failed = [r for r in list_runs() if r.status == "failed"]
    assert len(failed) == 1 and "asked to fail" in failed[0].problem
    assert not (failed[0].path / "COMPLETE").exists()


@pytest.mark.slow
def test_notebook_that_never_finishes_its_run_is_failed(tmp_path, runs_dir):
    nb = _notebook(tmp_path / "98_forgetful.ipynb", "x = 1")
    with pytest.raises(RuntimeError, match="run.finish"):
        run_notebook(str(nb), "quick", progress=False)
    assert [r.status for r in list_runs()] == ["failed"]


def test_parse_value_types_like_papermill():
    assert parse_value("3") == 3 and parse_value("2.5") == 2.5 and parse_value("True") is True
    assert parse_value("cpu") == "cpu" and parse_value("[1, 2]") == [1, 2] and parse_value("None") is None
