"""The package's layers: import-linter's contracts hold for the tree and fail for an import against the grain."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
        (
            "kdlab/lessons/missing_classes.py",
            "from kdlab.store.reader import list_runs",
            "lessons use core and data only",
        ),
        ("kdlab/core/losses.py", "import kdlab.lessons.temperature", "the layers, top to bottom"),
        ("kdlab/figures/speech.py", "import kdlab.lab", "the layers, top to bottom"),
        ("dashboard/charts.py", "import kdlab.lessons.distillation", "the dashboard reads only the store"),
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
