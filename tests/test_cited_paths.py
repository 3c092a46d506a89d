"""Every repository path a doc, docstring or comment cites exists (a renamed module takes its citations with it)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOP = r"(?:kdlab|dashboard|scripts|tests|docs|notebooks|exercises|benchmarks)"
CITED = re.compile(rf"(?<![\w./-]){TOP}/[\w./-]*\w")  # kdlab/lessons/speech.py, scripts/test.sh, docs/recipes.md
DOCS = [
    "README.md",
    "notebooks/README.md",
    "exercises/README.md",
    *sorted(p.name for p in (REPO / "docs").glob("*.md")),
]


def _texts():
    for name in DOCS:
        path = REPO / name if (REPO / name).exists() else REPO / "docs" / name
        yield path, path.read_text()
    skip = {".venv", "runs", "data", "reference", ".git"}
    for path in sorted(REPO.rglob("*.py")):
        if not skip & set(path.relative_to(REPO).parts):
            yield path, path.read_text()
    for path in sorted([*REPO.glob("notebooks/*.ipynb"), *REPO.glob("exercises/*.ipynb")]):
        yield path, "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])


def _ignored(path: str) -> bool:
    """A git-ignored path (tests/screenshots/, benchmarks/out/) is made by a run, not committed."""
    return any(subprocess.run(["git", "check-ignore", "-q", p], cwd=REPO).returncode == 0 for p in (path, path + "/"))


def cited_paths(text: str) -> set[str]:
    """Paths like ``kdlab/lessons/speech.py`` or ``tests/`` in a text; globs and placeholders are not paths."""
    found = set()
    for m in CITED.finditer(text):
        path, before, after = (
            m.group(0).rstrip("."),
            text[max(0, m.start() - 9) : m.start()],
            text[m.end() : m.end() + 1],
        )
        if (after and after in "*<{…") or "..." in path:
            continue  # tests/test_*.py, notebooks/<stem>.ipynb, notebooks/....ipynb are patterns, not files
        if before.endswith(('default="', "--out ")):
            continue  # where a script writes its output
        found.add(path)
    return found


@pytest.mark.parametrize(
    "path, text", list(_texts()), ids=lambda x: str(x.relative_to(REPO)) if isinstance(x, Path) else ""
)
def test_every_cited_path_exists(path, text):
    if path == Path(__file__):
        return
    missing = sorted(p for p in cited_paths(text) if not (REPO / p).exists() and not _ignored(p))
    assert not missing, f"{path.relative_to(REPO)} cites paths that do not exist: {missing}"


def test_the_path_check_can_fail():
    assert cited_paths("see `kdlab/distributed.py` and kdlab/dist_train.py.") == {
        "kdlab/distributed.py",
        "kdlab/dist_train.py",
    }
    assert not (REPO / "kdlab/distributed.py").exists()
