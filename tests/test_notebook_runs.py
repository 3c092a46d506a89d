"""`kdlab run`: parameters validated before anything runs; failures end as FAILED runs, successes as COMPLETE;
the terminal shows the training progress of the running cell."""

import re
import subprocess
import sys

import nbformat
import pytest

from kdlab.store.notebook_runs import run_notebook
from kdlab.store.parameters import parse_value
from kdlab.store.reader import list_runs


def _notebook(path, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "quick"\nSEED = 0\nFAIL = False')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


BODY = (
    "from kdlab.store.runs import start_run\n"
    "run = start_run('99_tiny', {'PROFILE': PROFILE, 'SEED': SEED})\n"
    "run.log_metrics(seed=SEED)\n"
    "assert not FAIL, 'asked to fail'\n"
    "run.finish()\n"
)


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
    assert failed[0].env["papermill_wall_time_s"] > 0 and failed[0].duration_s > 0  # how long it ran, recorded
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


TRAINING = (
    "import torch\n"
    "from kdlab.store.runs import start_run\n"
    "from kdlab.core.train import TrainConfig, fit\n"
    "run = start_run('97_tiny_training', {'PROFILE': PROFILE, 'SEED': SEED})\n"
    "gen = torch.Generator().manual_seed(SEED)\n"
    "x = torch.randn(64, 4, generator=gen)\n"
    "y = (x[:, 0] > 0).long()\n"
    "history = fit(torch.nn.Linear(4, 3), x, y, device='cpu',\n"
    "              config=TrainConfig(epochs=2, batch_size=16, progress=True, desc='tiny model'))\n"
    "run.log_metrics(final_loss=history.train_loss[-1])\n"
    "print(f'run folder: {run.finish()}')\n"
)


@pytest.mark.slow
def test_run_notebook_shows_training_progress_and_the_final_path(tmp_path, runs_dir, capfd):
    nb = _notebook(tmp_path / "97_tiny_training.ipynb", TRAINING)
    final = run_notebook(str(nb), "quick", progress=True)
    out, err = capfd.readouterr()
    shown = out + err
    assert re.search(r"\[tiny model\] epoch 1/2 · loss [0-9.e+-]+ · [0-9.]+ s/epoch · ETA ", shown), shown
    assert re.search(r"\[tiny model\] epoch 2/2 · loss [0-9.e+-]+ · done in ", shown), shown
    assert f"run folder: {final}" in out and final.is_dir()  # the path the run has now, not its staging folder
    assert "cell/s" in err  # papermill's cell counter is still there
    assert "without encryption" not in shown  # the kernel's TCP warning (ipykernel) is gone: Curve is on
    assert shown.count("epoch 1/2") == 1  # a line, not a bar redrawn many times
    executed = nbformat.read(final / "notebook.ipynb", as_version=4)
    stderr_text = "".join(
        o.get("text", "") for c in executed.cells for o in c.get("outputs", []) if o.get("name") == "stderr"
    )
    assert "[tiny model] epoch 2/2" in stderr_text  # the executed notebook keeps the lines, not a widget


@pytest.mark.slow
def test_quiet_run_prints_nothing(tmp_path, runs_dir, capfd):
    nb = _notebook(tmp_path / "97_tiny_training.ipynb", TRAINING)
    run_notebook(str(nb), "quick", progress=False)
    out, err = capfd.readouterr()
    assert "epoch" not in out + err and "run folder" not in out + err


def test_run_all_passes_parameters_to_every_notebook_and_refuses_unknown_ones(tmp_path):
    """`kdlab run all -p SEED 1` must run every notebook with SEED 1 (it once dropped -p silently for `all`);
    a name some notebook lacks is refused before anything runs, naming the notebook."""
    from kdlab.store.notebook_runs import available_notebooks
    from kdlab.store.parameters import validate

    for path in available_notebooks():
        assert validate(path, "quick", {"SEED": 1}) == {"PROFILE": "quick", "SEED": 1}
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "kdlab.cli",
            "run",
            "all",
            "--profile",
            "quick",
            "-p",
            "THREADS",
            "2",
            "--runs",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and "has no parameter THREADS" in bad.stderr + bad.stdout
    assert not any(tmp_path.iterdir())  # nothing ran


def test_run_many_runs_notebooks_side_by_side_and_reports_each_failure(tmp_path, runs_dir):
    """`kdlab run all --jobs 2`: each notebook in its own process; a failing one is reported (with its log) and
    does not stop the other, which completes."""
    from kdlab.store.parallel_runs import run_many

    good = _notebook(tmp_path / "98_tiny.ipynb", BODY)
    bad = _notebook(tmp_path / "99_tiny.ipynb", BODY.replace("assert not FAIL", "assert FAIL"))
    lines = []
    done, failed = run_many([str(good), str(bad)], "quick", [("SEED", "3")], jobs=2, echo=lines.append)
    assert len(done) == 1 and done[0].parent.name == "98_tiny" and (done[0] / "COMPLETE").exists()
    assert len(failed) == 1 and failed[0].startswith(str(bad)) and "asked to fail" in failed[0]
    assert sum("started" in ln for ln in lines) == 2
    (info,) = [r for r in list_runs() if r.status == "complete"]
    assert info.params["SEED"] == 3
    with pytest.raises(ValueError, match="--jobs"):
        run_many([str(good)], "quick", jobs=0)


def test_run_refuses_jobs_below_one():
    r = _kdlab("run", "all", "--jobs", "0")
    assert r.returncode == 2 and "--jobs must be ≥ 1" in r.stderr
