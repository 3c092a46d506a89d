"""The Runs page and what it reads: runs counted per store, metrics in natural order, paths relative to the store
(also as `kdlab publish` writes them), and a failed run's error and how long it ran. Each check is also shown
failing on the input it guards against."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fixtures_runs, under any pytest import mode
from fixtures_runs import write_run  # noqa: E402

from dashboard import run_table as rt  # noqa: E402
from kdlab.store.layout import store_relative  # noqa: E402
from kdlab.store.reader import read_run  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "dashboard" / "app.py")
RUNS = "views/runs.py"
ELSEWHERE = "/home/someone/kdlab/runs/01_softmax_temperature/20261129-160942-da048c"  # another machine's store


def open_runs(monkeypatch, root: Path, reference: Path, run: str | None = None):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KDLAB_RUNS", str(root))
    monkeypatch.setenv("KDLAB_REFERENCE", str(reference))
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page(RUNS)
    if run:
        at.query_params["run"] = run
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_text(at) -> str:
    parts = [str(e.value) for kind in (at.markdown, at.caption, at.error, at.warning, at.info) for e in kind]
    parts += [t.value.to_string() for t in at.table] + [d.value.to_string() for d in at.dataframe]
    return "\n".join(parts)


# ----------------------------------------------------------------------------------------------- paths


def test_store_relative_paths():
    assert store_relative(ELSEWHERE) == "01_softmax_temperature/20261129-160942-da048c"
    assert store_relative(ELSEWHERE + "/artifacts/teacher.pt") == (
        "01_softmax_temperature/20261129-160942-da048c/artifacts/teacher.pt"
    )
    assert store_relative("/data/store/notes/a.txt", "/data/store") == "notes/a.txt"
    nested = store_relative({"a": [ELSEWHERE, 3, "cpu"], "b": {"c": "trained"}})
    assert nested == {"a": ["01_softmax_temperature/20261129-160942-da048c", 3, "cpu"], "b": {"c": "trained"}}
    # what it must leave alone: a path outside any store, relative paths, text
    assert store_relative("/usr/share/dict/words", "/data/store") == "/usr/share/dict/words"
    assert store_relative("runs/01_x") == "runs/01_x" and store_relative("auto") == "auto"


def test_publish_stores_paths_relative(tmp_path):
    from test_reference import finished_run

    from kdlab.store.reference import publish, verify_manifest

    source = finished_run(tmp_path / "runs")
    metrics = json.loads((source / "metrics.json").read_text())
    metrics["metrics"]["teacher_source"] = ELSEWHERE
    (source / "metrics.json").write_text(json.dumps(metrics))
    final = publish(source, tmp_path / "reference")
    published = json.loads((final / "metrics.json").read_text())["metrics"]
    assert published["teacher_source"] == "01_softmax_temperature/20261129-160942-da048c"
    assert published["teacher_errors"] == 63  # everything else as it was
    assert json.loads((source / "metrics.json").read_text())["metrics"]["teacher_source"] == ELSEWHERE  # untouched
    assert verify_manifest(tmp_path / "reference") == []


def test_a_reference_runs_absolute_path_is_shown_relative(monkeypatch, tmp_path):
    """A run published before publish made paths store-relative (reference/02 once held /work/main/runs/…): the page
    shows its teacher_source store-relative, and a run of the user's own store likewise."""
    ref = tmp_path / "reference"
    elsewhere = "/work/main/runs/01_softmax_temperature/20261129-160942-da048c"
    write_run(ref, "02_logit_matching_limit", "20261129-170000-cccccc", metrics={"teacher_source": elsewhere})
    write_run(
        tmp_path / "runs",
        "02_logit_matching_limit",
        "20261201-100000-aaaaaa",
        metrics={"teacher_source": str(tmp_path / "runs" / "01_softmax_temperature" / "20261201-090000-bbbbbb")},
    )
    at = open_runs(monkeypatch, tmp_path / "runs", ref, run="20261129-170000-cccccc")
    metrics = at.table[-1].value
    assert metrics.loc["teacher_source", "A"] == "01_softmax_temperature/20261129-160942-da048c"
    assert metrics.loc["teacher_source", "B"] == "01_softmax_temperature/20261201-090000-bbbbbb"
    assert "/work/main/runs/" not in shown_text(at)  # (the store's own folder may be shown: it is where it lives)


# ----------------------------------------------------------------------------------------------- counts, order


def test_counts_per_store(monkeypatch, tmp_path):
    at = open_runs(monkeypatch, tmp_path / "empty", REPO / "reference")
    assert "**yours: 0** · **reference: 6** (6 complete) run folders" in shown_text(at)
    write_run(tmp_path / "mine", "03_mnist_distillation", "20261201-100000-cccccc")
    at = open_runs(monkeypatch, tmp_path / "mine", REPO / "reference")
    assert "**yours: 1** (1 complete) · **reference: 6** (6 complete) run folders" in shown_text(at)
    at.multiselect(key="filter_store").set_value(["yours"]).run()
    assert "1 shown by the filters" in shown_text(at) and list(at.dataframe[0].value["store"]) == ["yours"]


def test_metrics_in_natural_order(tmp_path):
    a = read_run(write_run(tmp_path, "03_mnist_distillation", "20261201-100000-aaaaaa", metrics=METRICS))
    b = read_run(write_run(tmp_path, "03_mnist_distillation", "20261201-110000-bbbbbb", metrics=METRICS))
    rows, _ = rt.metric_rows(a, b)
    assert [r["metric"] for r in rows] == ["test_errors.1", "test_errors.2", "test_errors.10", "test_errors.100"]
    assert sorted(r["metric"] for r in rows) != [r["metric"] for r in rows]  # text order would differ


METRICS = {"test_errors": {"100": 3, "2": 5, "10": 4, "1": 9}}


def test_headline_metrics_come_before_the_wide_columns(tmp_path):
    run = read_run(write_run(tmp_path, "03_mnist_distillation", "20261201-100000-aaaaaa", metrics={"x_errors": 1}))
    columns = list(rt.runs_table([run]).columns)
    assert columns.index("headline metrics") <= 5 and columns[:2] == ["run", "store"]
    assert rt.runs_table([run]).loc[0, "headline metrics"] == "x_errors=1"


# ----------------------------------------------------------------------------------------------- failed runs


def test_a_failed_run_says_why_and_how_long_it_ran(monkeypatch, tmp_path):
    """A run that failed before run.finish() has no env.json: its duration comes from its id (start) and its FAILED
    marker (end); the page shows both, never 'None'."""
    folder = write_run(tmp_path / "runs", "01_softmax_temperature", "20261201-100000-dddddd", marker="FAILED",
                       message="Traceback …\nValueError: SEED must be an int")  # fmt: skip
    (folder / "env.json").unlink()
    start = 1_796_119_200  # 2026-12-01 10:00:00 UTC, the run id's time
    os.utime(folder / "FAILED", (start + 65, start + 65))
    run = read_run(folder)
    assert run.status == "failed" and run.duration_s == pytest.approx(65)
    assert rt.why(run) == "failed after 1 min 05 s: ValueError: SEED must be an int"
    os.utime(folder / "FAILED", (start - 5, start - 5))  # a marker older than the run's start: unknown, not negative
    assert read_run(folder).duration_s is None and rt.duration(None) == "—"
    os.utime(folder / "FAILED", (start + 65, start + 65))
    at = open_runs(monkeypatch, tmp_path / "runs", tmp_path / "no-reference")
    row = at.dataframe[0].value.iloc[0]
    assert row["ran for"] == "1 min 05 s" and "ValueError: SEED must be an int" in row["why not a result"]
    assert "None" not in row.to_string()
    assert "failed after 1 min 05 s: ValueError: SEED must be an int" in shown_text(at)
