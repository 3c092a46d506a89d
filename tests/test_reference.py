"""Reference results: `kdlab publish` refuses what is not a finished committed run, copies what the run store wrote
(weights left out), keeps reference/MANIFEST exact; `kdlab report` regenerates README's table and RESULTS.md, and
the committed ones match it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kdlab.store import reference, report
from kdlab.store.reference import PublishError, publish, verify_manifest
from tests.fixtures_runs import write_run

REPO = Path(__file__).resolve().parent.parent

CLAIM = {
    "id": "03.distilled_beats_baseline",
    "section": "§3",
    "statement": "The distilled net beats the same net trained on hard labels.",
    "paper": "74 vs 146 errors",
    "ours": "72 vs 162 errors",
    "holds": True,
    "margin": 90.0,
    "noise": 12.0,
    "judged_by": "difference > 2 × McNemar noise",
}


def finished_run(store: Path, run_id: str = "20261129-100000-aaaaaa", profile: str = "full", **kw) -> Path:
    """A run folder as `kdlab run` leaves it: claims, executed notebook, a table and model weights."""
    import pandas as pd

    folder = write_run(
        store,
        "03_mnist_distillation",
        run_id,
        params={"PROFILE": profile},
        metrics={"teacher_errors": 63},
        env={"git_commit": kw.pop("commit", "f228dc9" + "0" * 33)},
        artifacts={"results.csv": pd.DataFrame({"model": ["teacher"], "test_errors": [63]})},
        claims=kw.pop("claims_override", [CLAIM]),
        **kw,
    )
    (folder / "artifacts" / "teacher.pt").write_bytes(b"\0" * 1000)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# executed")])
    nbformat.write(nb, folder / "notebook.ipynb")
    return folder


def test_publish_copies_the_run_without_weights_and_writes_the_manifest(tmp_path):
    ref = tmp_path / "reference"
    final = publish(finished_run(tmp_path / "runs"), ref)
    assert final == ref / "03_mnist_distillation" / "20261129-100000-aaaaaa"
    names = {p.relative_to(final).as_posix() for p in final.rglob("*") if p.is_file()}
    assert {"params.json", "env.json", "metrics.json", "claims.json", "COMPLETE", "notebook.html"} <= names
    assert "artifacts/results.csv" in names and "artifacts/teacher.pt" not in names
    assert "notebook.ipynb" not in names  # rendered to HTML instead
    published = json.loads((final / "PUBLISHED.json").read_text())
    assert published["left_out"] == [{"file": "artifacts/teacher.pt", "mb": 0.0, "why": "model weights"}]
    assert verify_manifest(ref) == []
    assert reference.reference_run("03", "full", ref).run_id == final.name


def test_publish_replaces_the_previous_run_of_that_notebook_and_profile(tmp_path):
    ref = tmp_path / "reference"
    first = publish(finished_run(tmp_path / "runs", "20261129-100000-aaaaaa"), ref)
    paper = publish(finished_run(tmp_path / "runs", "20261129-100500-cccccc", profile="paper"), ref)
    second = publish(finished_run(tmp_path / "runs", "20261129-110000-bbbbbb"), ref)
    assert not first.exists() and second.exists() and paper.exists()  # the paper run is another profile: kept
    assert verify_manifest(ref) == []
    listed = (ref / "MANIFEST").read_text()
    assert first.name not in listed and second.name in listed and paper.name in listed


@pytest.mark.parametrize(
    "breakage, needle",
    [
        ("staging", "staging folder"),
        ("failed", "failed"),
        ("incomplete", "incomplete"),
        ("quick", "only full and paper runs are published"),
        ("no_notebook", "no executed notebook"),
        ("dirty", "uncommitted changes"),
        ("no_claims", "claims.json is missing"),
    ],
)
def test_publish_refuses_what_is_not_a_finished_committed_run(tmp_path, breakage, needle):
    store, ref = tmp_path / "runs", tmp_path / "reference"
    kw = {
        "staging": {"staging": True, "marker": None},
        "failed": {"marker": "FAILED", "message": "RuntimeError: boom"},
        "incomplete": {"marker": None},
        "quick": {"profile": "quick"},
        "dirty": {"commit": "f228dc9+dirty"},
    }.get(breakage, {})
    folder = finished_run(store, **kw)
    if breakage == "no_notebook":
        (folder / "notebook.ipynb").unlink()
    if breakage == "no_claims":
        (folder / "claims.json").unlink()
    with pytest.raises(PublishError, match=needle) as e:
        publish(folder, ref)
    assert "\n" not in str(e.value)
    assert not ref.exists() or not any(p.is_file() for p in ref.rglob("*"))  # nothing written


def test_publish_refuses_to_go_over_the_size_budget(tmp_path, monkeypatch):
    ref = tmp_path / "reference"
    kept = publish(finished_run(tmp_path / "runs", "20261129-100000-aaaaaa", profile="paper"), ref)
    monkeypatch.setattr(reference, "BUDGET_MB", 0.001)
    with pytest.raises(PublishError, match="over its 0.001 MB budget"):
        publish(finished_run(tmp_path / "runs", "20261129-110000-bbbbbb"), ref)
    assert kept.exists() and not (ref / "03_mnist_distillation" / "20261129-110000-bbbbbb").exists()
    assert verify_manifest(ref) == []


def test_verify_manifest_catches_edits_additions_and_removals(tmp_path):
    ref = tmp_path / "reference"
    final = publish(finished_run(tmp_path / "runs"), ref)
    metrics = final / "metrics.json"
    metrics.write_text(metrics.read_text().replace("63", "60"))
    (final / "artifacts" / "extra.csv").write_text("a\n1\n")
    (final / "COMPLETE").unlink()
    problems = "\n".join(verify_manifest(ref))
    assert "metrics.json: SHA-256 differs" in problems
    assert "extra.csv: not in MANIFEST" in problems
    assert "COMPLETE: listed in MANIFEST but missing" in problems
    (ref / "MANIFEST").unlink()
    assert "MANIFEST is missing" in verify_manifest(ref)[0]


def test_committed_reference_matches_its_manifest():
    """Every file in reference/ is what `kdlab publish` wrote: no hand edits, nothing added or lost."""
    root = REPO / "reference"
    assert (root / "MANIFEST").is_file(), "reference/MANIFEST is missing; publish the reference runs"
    assert verify_manifest(root) == []


def test_committed_readme_and_results_equal_kdlab_report():
    assert report.check(REPO) == [], "run `kdlab report --write` and commit the result"


def test_report_lists_every_claim_with_its_run(tmp_path):
    ref = tmp_path / "reference"
    final = publish(finished_run(tmp_path / "runs"), ref)
    table = report.readme_table(ref)
    assert "`03.distilled_beats_baseline` | 74 vs 146 errors | 72 vs 162 errors (holds)" in table
    assert final.name in table
    page = report.results_md(ref)
    assert f"[`{final.name}`](../reference/03_mnist_distillation/{final.name}/notebook.html)" in page
    assert "No reference run yet: `kdlab run 05 --profile full`" in page
    assert "1 hold, 0 weaker, 0 do not hold |" in page


def test_report_shows_a_schema_1_run_as_such(tmp_path):
    ref = tmp_path / "reference"
    folder = finished_run(tmp_path / "runs")
    (folder / "claims.json").write_text(json.dumps({"schema": "kdlab.claims/1", "claims": [CLAIM]}))
    publish(folder, ref)
    table, page = report.readme_table(ref), report.results_md(ref)
    assert "| 72 vs 162 errors (holds) |" in table
    assert "full profile: 1 hold, 0 weaker, 0 do not hold (schema 1: no `weaker` verdict)." in table
    assert "1 hold, 0 weaker, 0 do not hold (schema 1: no `weaker` verdict) |" in page


def test_report_says_when_a_claim_does_not_hold(tmp_path):
    ref = tmp_path / "reference"
    folder = finished_run(tmp_path / "runs")
    data = json.loads((folder / "claims.json").read_text())
    data["claims"][0].update(verdict="does not hold", holds=False)
    (folder / "claims.json").write_text(json.dumps(data))
    publish(folder, ref)
    assert "(does not hold)" in report.readme_table(ref)
    page = report.results_md(ref)
    assert "**does not hold**" in page and "0 hold, 0 weaker, 1 do not hold" in page


def test_report_shows_a_weaker_claim_with_the_paper_figure_and_our_seed_range(tmp_path):
    ref = tmp_path / "reference"
    weaker = {
        **CLAIM,
        "result": "83% of the gap",
        "verdict": "weaker",
        "paper_figure": {"value": 91.1, "unit": "% of the gap"},
        "ours": 83.0,
        "unit": "% of the gap",
        "spread": [80.0, 86.0],
        "seeds": 3,
        "noise": 9.0,
        "noise_source": "test set (McNemar)",
    }
    del weaker["ours"], weaker["holds"]
    weaker["ours"] = 83.0
    publish(finished_run(tmp_path / "runs", claims_override=[weaker]), ref)
    table, page = report.readme_table(ref), report.results_md(ref)
    assert "74 vs 146 errors [91.1 % of the gap]" in table
    assert "83% of the gap [mean of 3: 83 % of the gap, seeds 80–86] (weaker)" in table
    assert "full profile: 0 hold, 1 weaker, 0 do not hold." in table and "schema 1" not in table
    assert "| **weaker** |" in page and "0 hold, 1 weaker, 0 do not hold" in page


def test_report_check_fails_on_a_hand_edit(tmp_path):
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "README.md").write_text(f"# x\n\n{report.BEGIN}\nold\n{report.END}\n")
    assert len(report.check(project)) == 2
    report.write(project)
    assert report.check(project) == []
    results = project / "notebooks" / "RESULTS.md"
    results.write_text(results.read_text() + "a number typed by hand: 42\n")
    assert report.check(project) == [str(results)]
    (project / "README.md").write_text("# no markers\n")
    with pytest.raises(ValueError, match="lacks the report markers"):
        report.check(project)


def test_notebook_summary_reads_the_reference_claims(tmp_path):
    ref = tmp_path / "reference"
    assert "No full-profile reference run" in reference.summary_markdown("03_mnist_distillation", ref)
    final = publish(finished_run(tmp_path / "runs"), ref)
    text = reference.summary_markdown("03_mnist_distillation", ref)
    assert final.name in text and "**Holds here.**" in text and "72 vs 162 errors" in text


def test_cli_publish_prints_one_line_for_a_bad_folder(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "kdlab", "publish", str(tmp_path / "nope"), "--reference", str(tmp_path / "ref")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "is not a run folder" in proc.stderr
