"""The run store: atomic finalization, crash mid-write, and a defensive reader for every kind of bad folder."""

import json
import subprocess
import sys

from kdlab.store.layout import SCHEMA_VERSION, STAGING
from kdlab.store.reader import latest_run, list_runs, read_run
from kdlab.store.runs import start_run


def test_complete_run_has_everything(runs_dir):
    import numpy as np

    run = start_run("03_mnist_distillation", {"PROFILE": "quick", "SEED": 1})
    run.device = "cpu"
    run.log_metrics(teacher_errors=80)
    run.save_arrays("test_logits", teacher=np.zeros((3, 10), np.float32))
    run.save_table("sweep", [{"width": 30, "temperature": 4.0, "test_errors": 300}])
    final = run.finish()
    assert final.parent == runs_dir / "03_mnist_distillation"
    info = read_run(final)
    assert info.status == "complete" and info.ok and info.problem == ""
    assert info.params == {"PROFILE": "quick", "SEED": 1} and info.profile == "quick"
    assert info.metrics == {"teacher_errors": 80}
    assert {"device", "wall_time_s", "peak_memory_mb", "torch", "python", "git_commit"} <= set(info.env)
    assert set(info.artifacts) == {"test_logits", "sweep"}
    (final / "artifacts" / "sweep.png").write_bytes(b"png")  # a figure sharing the table's stem
    assert info.artifacts["sweep"].name == "sweep.csv" and info.artifact("sweep.png").suffix == ".png"
    assert latest_run("03_mnist_distillation", require=("sweep.png", "sweep.csv")).path == final
    assert latest_run("03_mnist_distillation", profile="quick", require=("sweep",)).path == final
    assert latest_run("03_mnist_distillation", profile="full") is None


def test_crash_mid_write_never_looks_complete(runs_dir):
    code = (
        "from kdlab.store.runs import start_run; import os\n"
        "r = start_run('01_softmax_temperature', {'PROFILE': 'quick'})\n"
        "r.log_metrics(x=1)\n"
        "os._exit(9)  # killed before finish()\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    runs = list_runs()
    assert len(runs) == 1
    assert runs[0].status == "incomplete" and "COMPLETE" in runs[0].problem
    assert runs[0].path.parent.name == STAGING
    assert latest_run("01_softmax_temperature") is None
    assert not [p for p in (runs_dir / "01_softmax_temperature").iterdir() if p.name != STAGING]


def test_exception_inside_run_marks_it_failed(runs_dir):
    try:
        with start_run("02_logit_matching_limit", {"PROFILE": "quick"}):
            raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        pass
    (info,) = list_runs()
    assert info.status == "failed" and "boom" in info.problem


def test_reader_reports_every_kind_of_bad_folder(runs_dir):
    nb = runs_dir / "03_mnist_distillation"
    (nb / "empty").mkdir(parents=True)
    half = nb / "half"
    half.mkdir()
    (half / "params.json").write_text('{"schema_version": 1, "params": {"PROFILE": "quick"}}')
    bad_json = nb / "badjson"
    bad_json.mkdir()
    (bad_json / "params.json").write_text('{"schema_version": 1, "params": {')
    (bad_json / "metrics.json").write_text("{}")
    (bad_json / "env.json").write_text("{}")
    (bad_json / "COMPLETE").write_text("")
    future = nb / "future"
    future.mkdir()
    (future / "params.json").write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1, "params": {}}))
    (future / "COMPLETE").write_text("")
    no_metrics = nb / "nometrics"
    no_metrics.mkdir()
    (no_metrics / "params.json").write_text('{"schema_version": 1, "params": {}}')
    (no_metrics / "COMPLETE").write_text("")
    by_id = {r.run_id: r for r in list_runs()}
    assert by_id["empty"].status == "invalid" and "empty" in by_id["empty"].problem
    assert by_id["half"].status == "incomplete"
    assert by_id["badjson"].status == "invalid" and "params.json is not valid JSON" in by_id["badjson"].problem
    assert by_id["future"].status == "invalid" and "schema version" in by_id["future"].problem
    assert by_id["nometrics"].status == "invalid" and "metrics.json is missing" in by_id["nometrics"].problem
    assert latest_run("03_mnist_distillation") is None
    assert all(r.problem.count("\n") == 0 for r in by_id.values())


def test_missing_artifact_error_names_the_run(runs_dir):
    run = start_run("06_specialists", {"PROFILE": "quick"})
    info = read_run(run.finish())
    try:
        info.artifact("clusters")
    except FileNotFoundError as e:
        assert "06_specialists" in str(e) and "clusters" in str(e)
    else:
        raise AssertionError("expected FileNotFoundError")


def test_empty_store_lists_nothing(tmp_path):
    assert list_runs(tmp_path / "nope") == []


def test_finish_under_kdlab_run_returns_the_final_path_and_leaves_renaming_to_the_cli(runs_dir, monkeypatch):
    from kdlab.store.runs import finalize

    staging = runs_dir / "99_tiny" / STAGING / "20250101-000000-abcdef"
    monkeypatch.setenv("KDLAB_RUN_DIR", str(staging))
    run = start_run("99_tiny", {"PROFILE": "quick"})
    final = run.finish()
    assert final == runs_dir / "99_tiny" / "20250101-000000-abcdef" and not final.exists()
    assert run.dir == staging and (staging / "NOTEBOOK_DONE").is_file()  # still staged: the CLI renames it
    assert not (staging / "COMPLETE").exists()
    assert finalize(staging) == final and final.is_dir() and not staging.exists()
    assert read_run(final).status == "complete"


def test_fail_under_kdlab_run_also_names_the_final_path(runs_dir, monkeypatch):
    staging = runs_dir / "99_tiny" / STAGING / "20250101-000000-fedcba"
    monkeypatch.setenv("KDLAB_RUN_DIR", str(staging))
    run = start_run("99_tiny", {"PROFILE": "quick"})
    assert run.fail("boom") == runs_dir / "99_tiny" / "20250101-000000-fedcba"
    assert (staging / "FAILED").read_text() == "boom"


def test_external_run_dir_outside_a_staging_folder_is_its_own_final_path(tmp_path, monkeypatch):
    folder = tmp_path / "somewhere"
    monkeypatch.setenv("KDLAB_RUN_DIR", str(folder))
    assert start_run("99_tiny", {"PROFILE": "quick"}).finish() == folder
