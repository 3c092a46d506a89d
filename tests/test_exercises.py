"""Exercises (exercises/, nbgrader's source format): every source notebook passes all its checks, every student
version executes to its checks and fails each of them, filling in the solutions makes them pass, and the CLI."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kdlab import exercises as ex
from kdlab.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
POINTER = re.compile(r"\]\(\.\./notebooks/([\w.]+\.ipynb)\), sections? ((?:“[^”]+”(?:,| and)? ?)+)")
CHEAP = ["01_softmax_temperature", "02_logit_matching_limit", "05_speech_frames", "06_specialists"]  # no training


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def by_id(nb) -> dict:
    return {nbgrader(c)["grade_id"]: c for c in nb.cells if "grade_id" in nbgrader(c)}


def filled_in(student: Path, source: Path, out: Path, replace: dict | None = None) -> Path:
    """The student notebook with the source's solutions typed in (``replace``: grade_id → other code)."""
    nb = nbformat.read(student, as_version=4)
    solutions = {
        gid: c.source for gid, c in by_id(nbformat.read(source, as_version=4)).items() if nbgrader(c).get("solution")
    }
    for gid, cell in by_id(nb).items():
        if gid in solutions:
            cell.source = (replace or {}).get(gid, solutions[gid])
    nbformat.write(nb, out)
    return out


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("exercises") / "my-exercises"
    ex.write_exercises(dest)
    return dest


def test_one_exercise_notebook_per_lesson():
    assert [p.name for p in SOURCES] == [p.name for p in LESSONS], "exercises/ must mirror notebooks/ 01-06"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_source_format(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    from nbgrader.preprocessors import CheckCellMetadata

    CheckCellMetadata().preprocess(nb, {})  # nbgrader's own metadata schema
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [c.id for c in code if c.outputs or c.execution_count], f"{path.name}: commit without outputs"
    ids = ex.exercise_ids(nb)
    assert 2 <= len(ids) <= 3 and all(re.fullmatch(rf"ex{path.name[:2]}_[a-z0-9_]+", i) for i in ids), ids
    lesson_headings = {}
    for i, cell in enumerate(nb.cells):
        if not nbgrader(cell).get("grade"):
            continue
        solution = nb.cells[i - 1]
        explanation = next(c for c in reversed(nb.cells[:i]) if c.cell_type == "markdown")
        gid = nbgrader(cell)["grade_id"]
        assert nbgrader(solution).get("solution") and "### BEGIN SOLUTION" in solution.source, (
            f"{gid}: no solution cell"
        )
        assert cell.source.startswith(f"# Check {gid}"), f"{gid}: the check cell must say which exercise it checks"
        assert explanation.cell_type == "markdown" and f"(`{gid}`)" in explanation.source, f"{gid}: no explanation"
        pointers = POINTER.findall(explanation.source)
        assert pointers, f"{gid}: the explanation must point to the lesson section it builds on"
        for lesson, sections in pointers:
            if lesson not in lesson_headings:
                lesson_nb = nbformat.read(ROOT / "notebooks" / lesson, as_version=4)
                lesson_headings[lesson] = {
                    line.lstrip("#").strip()
                    for c in lesson_nb.cells
                    if c.cell_type == "markdown"
                    for line in c.source.splitlines()
                    if line.startswith("#")
                }
            for section in re.findall(r"“([^”]+)”", sections):
                assert section in lesson_headings[lesson], f"{gid}: {lesson} has no section “{section}”"


def test_sources_are_nbstripout_clean():
    pytest.importorskip("nbstripout")
    run = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *map(str, SOURCES)], capture_output=True, text=True
    )
    assert run.returncode == 0, f"strip the exercise notebooks (nbstripout exercises/*.ipynb): {run.stdout}{run.stderr}"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_source_passes_all_its_checks(path):
    results = ex.check_notebook(path)
    assert [r.exercise for r in results] == ex.exercise_ids(nbformat.read(path, as_version=4))
    assert all(r.passed for r in results), ex.report(results)


@pytest.mark.notebooks
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_student_version_fails_every_check(path, student_dir):
    student = student_dir / path.name
    text = student.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{marker} left in the student version"
    nb = nbformat.read(student, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells)
    results = ex.check_notebook(student)
    assert [r.exercise for r in results] == ex.exercise_ids(nbformat.read(path, as_version=4))
    assert not any(r.passed for r in results), ex.report(results)
    assert all(r.message == "not solved yet (NotImplementedError)" for r in results), ex.report(results)


@pytest.mark.notebooks
@pytest.mark.parametrize("name", CHEAP)
def test_filled_in_solutions_pass_with_hidden_tests(name, student_dir, tmp_path):
    notebook = filled_in(
        student_dir / f"{name}.ipynb", ROOT / "exercises" / f"{name}.ipynb", tmp_path / f"{name}.ipynb"
    )
    for hidden in (False, True):
        results = ex.check_notebook(notebook, hidden=hidden)
        assert results and all(r.passed for r in results), ex.report(results)


@pytest.mark.notebooks
def test_a_wrong_answer_fails_alone_with_its_message(student_dir, tmp_path):
    name = "02_logit_matching_limit"
    naive = "def high_t_gradient(z, v, T):\n    return (z - v) / (z.shape[-1] * T**2)  # forgot to zero-mean\n"
    notebook = filled_in(
        student_dir / f"{name}.ipynb",
        ROOT / "exercises" / f"{name}.ipynb",
        tmp_path / f"{name}.ipynb",
        {"ex02_high_t_limit_code": naive},
    )
    results = {r.exercise: r for r in ex.check_notebook(notebook)}
    assert results["ex02_grad_eq2"].passed and results["ex02_curvature"].passed
    assert not results["ex02_high_t_limit"].passed
    assert results["ex02_high_t_limit"].message.startswith("AssertionError: at T = 10,000 the limit must be within")


@pytest.mark.notebooks
def test_an_error_in_a_cell_before_the_check_is_named(student_dir, tmp_path, monkeypatch):
    name = "01_softmax_temperature"
    broken = "def entropy_bits(z, T)\n    return 0\n"  # a syntax error: the check then sees no entropy_bits
    notebook = filled_in(
        student_dir / f"{name}.ipynb",
        ROOT / "exercises" / f"{name}.ipynb",
        tmp_path / f"{name}.ipynb",
        {"ex01_entropy_code": broken},
    )
    results = {r.exercise: r for r in ex.check_notebook(notebook)}
    assert results["ex01_softmax_t"].passed and results["ex01_tail_mass"].passed
    message = results["ex01_entropy"].message
    assert message.startswith("NameError") and "(your cell ex01_entropy_code: SyntaxError" in message, message
    monkeypatch.setenv("KDLAB_DATA", str(tmp_path / "no-data"))  # MNIST missing: the setup cell fails first
    results = ex.check_notebook(student_dir / "03_mnist_distillation.ipynb")
    assert not any(r.passed for r in results) and results[0].setup_error.startswith("setup03: DataError")
    assert ex.report(results).splitlines()[0].startswith("  first fix the read-only cell setup03: DataError")


@pytest.mark.notebooks
def test_edited_check_cell_is_reported_and_hidden_restores_it(student_dir, tmp_path):
    name = "01_softmax_temperature"
    notebook = filled_in(
        student_dir / f"{name}.ipynb", ROOT / "exercises" / f"{name}.ipynb", tmp_path / f"{name}.ipynb"
    )
    nb = nbformat.read(notebook, as_version=4)
    by_id(nb)["ex01_entropy"].source = "# Check ex01_entropy\nassert False, 'edited'\n"
    nbformat.write(nb, notebook)
    results = ex.check_notebook(notebook)
    assert not any(r.passed for r in results) and "read-only cell(s) edited (ex01_entropy)" in results[0].message
    assert all(r.passed for r in ex.check_notebook(notebook, hidden=True))


def test_exercises_command_never_overwrites_a_changed_notebook(tmp_path, capsys):
    dest = tmp_path / "work"
    assert main(["exercises", str(dest)]) == 0
    first = capsys.readouterr().out
    assert first.count("written") == len(SOURCES) and "kdlab check" in first
    assert main(["exercises", str(dest)]) == 0
    assert capsys.readouterr().out.count("up to date") == len(SOURCES)
    mine = dest / SOURCES[0].name
    nb = nbformat.read(mine, as_version=4)
    by_id(nb)["ex01_softmax_t_code"].source = "def softmax_t(z, T):\n    return 'my work'\n"
    nbformat.write(nb, mine)
    changed = mine.read_text()
    assert main(["exercises", str(dest)]) == 0
    assert "kept" in capsys.readouterr().out and mine.read_text() == changed
    assert main(["exercises", str(dest), "--force"]) == 0
    assert "overwritten" in capsys.readouterr().out and mine.read_text() == ex.student_version(SOURCES[0])
    # a notebook still as kdlab wrote it (its hash is in the manifest) follows a changed source
    manifest = json.loads((dest / ex.MANIFEST).read_text())
    mine.write_text(changed)
    manifest[mine.name] = ex._sha256(changed)
    (dest / ex.MANIFEST).write_text(json.dumps(manifest))
    assert main(["exercises", str(dest)]) == 0
    assert "updated" in capsys.readouterr().out and mine.read_text() == ex.student_version(SOURCES[0])


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("not json at all", "not a Jupyter notebook"),
        (json.dumps(nbformat.v4.new_notebook()), "no nbgrader check cells"),
    ],
)
def test_check_rejects_a_missing_file_or_a_non_notebook_in_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "x.ipynb"
    if content is not None:
        path.write_text(content)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("kdlab: error:") and message in err


@pytest.mark.notebooks
def test_check_command_end_to_end(student_dir, tmp_path):
    name = "01_softmax_temperature"
    run = [sys.executable, "-m", "kdlab", "check"]
    two = [str(student_dir / f"{name}.ipynb"), str(student_dir / "05_speech_frames.ipynb")]
    fresh = subprocess.run([*run, *two], capture_output=True, text=True, timeout=600)
    assert fresh.returncode == 1, fresh.stdout + fresh.stderr
    assert fresh.stdout.count("FAILED  not solved yet (NotImplementedError)") == 5, fresh.stdout
    assert "0 of 3 exercises passed" in fresh.stdout and "0 of 2 exercises passed" in fresh.stdout
    solved = filled_in(student_dir / f"{name}.ipynb", ROOT / "exercises" / f"{name}.ipynb", tmp_path / f"{name}.ipynb")
    done = subprocess.run([*run, "--hidden", str(solved)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "3 of 3 exercises passed" in done.stdout, done.stdout + done.stderr
