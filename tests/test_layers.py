"""The package's layers: import-linter's contracts hold for the tree, fail for an import against the grain, and every
module that moved still answers to its old name (the same module object)."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kdlab

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    if not LINT.exists():
        pytest.fail("lint-imports is not installed: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("tree")
    for name in ("kdlab", "dashboard"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_contracts_hold(tree):
    proc = lint(tree)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    "module, line, contract",
    [
        ("kdlab/core/losses.py", "from kdlab.store import runs", "core is the bottom layer"),
        ("kdlab/store/runs.py", "import kdlab.core.models", "the store knows files, not models"),
        ("kdlab/lessons/bias.py", "from kdlab.store.runs import list_runs", "lessons use core and data only"),
        ("dashboard/charts.py", "import kdlab.lessons.mnist", "the dashboard reads only the store"),
    ],
)
def test_an_import_against_the_grain_breaks_a_contract(tree, module, line, contract):
    path = tree / module
    original = path.read_text()
    try:
        path.write_text(original + f"\n{line}  # against the grain\n")
        proc = lint(tree)
    finally:
        path.write_text(original)
    assert proc.returncode != 0
    broken = proc.stdout[proc.stdout.index("Contracts:") :]
    assert " broken" in broken and "0 broken" not in broken and contract in proc.stdout.replace("\n", " ")


@pytest.mark.parametrize("old", sorted(kdlab.MOVED))
def test_every_moved_module_keeps_its_old_name(old):
    assert importlib.import_module(old) is importlib.import_module(kdlab.MOVED[old])


def test_names_that_moved_out_of_a_lesson_still_resolve():
    from kdlab import notebook
    from kdlab.mnist_experiments import load_or_train_teacher
    from kdlab.specialist_experiments import curves_figure
    from kdlab.temperature import teacher_for

    assert load_or_train_teacher is notebook.load_or_train_teacher and teacher_for is notebook.teacher_for
    assert curves_figure is importlib.import_module("kdlab.figures").curves_figure
