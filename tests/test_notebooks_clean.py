"""Notebooks are committed stripped, with a papermill parameters cell of literals and the quick profile by default."""

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stripped_and_parameterized(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs; run nbstripout before committing"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", "save notebooks with kernel python3"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{path.name}: exactly one cell must be tagged 'parameters'"
    assert params[0] is code[0], f"{path.name}: the parameters cell must be the first code cell"
    tree = ast.parse("".join(params[0]["source"]))
    values = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, (
            f"{path.name}: parameters cell has only assignments"
        )
        name = node.targets[0].id
        assert name.isupper(), f"{path.name}: parameter {name} should be UPPER_CASE"
        values[name] = ast.literal_eval(node.value)  # raises for anything but literals
    assert values.get("PROFILE") == "quick", f"{path.name}: PROFILE must default to 'quick'"
    assert "SEED" in values and "DEVICE" in values


def _git(repo: Path, *args: str) -> str:
    import subprocess

    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args]
    return subprocess.run(cmd, cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("with_filter", [True, False], ids=["filter", "no-filter"])
def test_a_notebook_a_student_ran_shows_no_change_in_git(tmp_path, with_filter):
    """With scripts/git_filters.sh (run by the bootstrap), outputs, execution counts and kernel metadata written by
    JupyterLab are no change to git: `git diff` is empty and `git add` stages nothing. Without the filter both show
    the change (the check can fail). (`git status` alone may list the file until `git add`: git takes a changed file
    size as a change without running the filter.)"""
    import shutil
    import subprocess
    import sys

    repo_root = Path(__file__).resolve().parents[1]
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    _git(repo, "init", "-q")
    shutil.copy(repo_root / ".gitattributes", repo / ".gitattributes")
    src = NOTEBOOKS[0]
    shutil.copy(src, repo / "notebooks" / src.name)
    if with_filter:
        subprocess.run(["bash", str(repo_root / "scripts" / "git_filters.sh"), sys.executable], cwd=repo, check=True)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "lesson")
    nb = json.loads(src.read_text())
    for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        cell["execution_count"] = i + 1
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["teacher: 134 errors\n"]}]
        cell["metadata"]["execution"] = {"iopub.status.busy": "2026-11-29T10:00:00Z"}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb["metadata"]["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb["metadata"]["language_info"] = {  # what the kernel reports and JupyterLab saves
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
        "version": "3.11.7",
    }
    (repo / "notebooks" / src.name).write_text(json.dumps(nb, indent=1))
    diff = _git(repo, "diff")
    _git(repo, "add", "-A")
    staged = _git(repo, "status", "--porcelain")
    if with_filter:
        assert diff == "" and staged == "", f"a run notebook shows as changed: {staged}"
    else:
        assert "teacher: 134 errors" in diff and staged.strip() == f"M  notebooks/{src.name}"


# --------------------------------------------------------------------------- notebooks that read like lessons
MAX_CODE_LINES = 15  # issue 13: "no code cell longer than about 15 lines"
BOOKKEEPING = ("start_run(", "run.save_", "run.log_metrics(", ".log_metrics(", "save_table(", "claims.save(")


def _lines(src: str) -> int:
    return sum(1 for line in src.splitlines() if line.strip())


def lesson_problems(nb: dict) -> list[str]:
    """What keeps a notebook from reading like a lesson (empty when none):

    - a code cell over ``MAX_CODE_LINES`` non-blank lines;
    - less prose than code, counted both in characters and in non-blank lines;
    - a figure (``lab.figure(...)``) without a markdown cell beside it that tells the reader what to *look* at;
    - run-store bookkeeping in a cell instead of through ``kdlab.lab.Lab``;
    - an import of a name from a module that does not define it (an old name a newcomer would go looking for).
    """
    from tests.test_imports import indirect_imports

    cells = nb["cells"]
    src = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]
    kinds = [c["cell_type"] for c in cells]
    problems = []
    for i, (kind, s) in enumerate(zip(kinds, src)):
        if kind != "code":
            continue
        if _lines(s) > MAX_CODE_LINES:
            problems.append(f"cell {i}: {_lines(s)} lines of code (at most {MAX_CODE_LINES})")
        if "lab.figure(" in s:
            beside = [src[j] for j in (i - 1, i + 1) if 0 <= j < len(cells) and kinds[j] == "markdown"]
            if not any("look" in m.lower() for m in beside):
                problems.append(f"cell {i}: a figure with no markdown cell beside it saying what to look at")
        for word in BOOKKEEPING:
            if word in s:
                problems.append(f"cell {i}: run bookkeeping {word!r} in the notebook (use kdlab.lab.Lab)")
        problems += [f"cell {i}: imports {p}" for p in indirect_imports(s)]
    for measure, count in (("characters", len), ("lines", _lines)):
        prose = sum(count(s) for k, s in zip(kinds, src) if k == "markdown")
        code = sum(count(s) for k, s in zip(kinds, src) if k == "code")
        if prose <= code:
            problems.append(f"less prose than code: {prose} vs {code} {measure}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_reads_like_a_lesson(path):
    problems = lesson_problems(json.loads(path.read_text()))
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_lesson_check_can_fail():
    code = {"cell_type": "code", "source": "\n".join(f"x{i} = {i}" for i in range(16)) + "\nlab.figure('f', fig)"}
    md = {"cell_type": "markdown", "source": "A short note."}
    old = {"cell_type": "code", "source": "from kdlab.runs import start_run\nrun = start_run('01', {})"}
    problems = lesson_problems({"cells": [md, code, old]})
    text = "\n".join(problems)
    for expected in ("17 lines of code", "say", "bookkeeping 'start_run('", "no module kdlab.runs", "less prose"):
        assert expected in text, f"{expected!r} not reported in:\n{text}"
    ok = {"cell_type": "markdown", "source": "Look at the curve:\n" + "words\n" * 3}
    assert lesson_problems({"cells": [ok, {"cell_type": "code", "source": "lab.figure('f', fig)"}]}) == []


@pytest.mark.parametrize("python", ["/nonexistent/bin/python", "sh"], ids=["missing", "no-nbstripout"])
def test_the_filter_script_refuses_an_interpreter_without_nbstripout(tmp_path, python):
    """Registered, such an interpreter makes every `git status` print "external filter … failed"; refused, nothing
    is registered and the message says what to do."""
    import shutil
    import subprocess

    repo_root = Path(__file__).resolve().parents[1]
    _git(tmp_path, "init", "-q")
    interpreter = python if python.startswith("/") else shutil.which(python)
    proc = subprocess.run(
        ["bash", str(repo_root / "scripts" / "git_filters.sh"), interpreter],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert interpreter in proc.stderr and ("nbstripout" in proc.stderr)
    registered = subprocess.run(["git", "config", "filter.nbstripout.clean"], cwd=tmp_path, capture_output=True)
    assert registered.returncode == 1  # nothing registered


def test_committed_notebooks_carry_no_volatile_kernel_metadata():
    """The kernelspec is ipykernel's own (what running the notebook writes), language_info is left to the filter."""
    for path in [*NOTEBOOKS, *sorted((NOTEBOOKS[0].parents[1] / "exercises").glob("[0-9][0-9]_*.ipynb"))]:
        meta = json.loads(path.read_text())["metadata"]
        assert meta.get("kernelspec") == {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        }
        assert "language_info" not in meta, f"{path.name}: language_info is stripped by the git filter"
