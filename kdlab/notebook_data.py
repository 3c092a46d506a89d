"""Which data a notebook reads, and the command that fetches it: read off the notebook's imports.

A notebook that imports ``kdlab.data.mnist`` (or ``many_class``, which pairs MNIST digits) reads MNIST; one that
imports ``kdlab.data.speech`` reads the speech corpus of its profile. So a new notebook needs no table entry. A leaf
(it imports nothing of kdlab): ``kdlab run`` checks the data before it makes a run folder
(``kdlab.data.preflight``), and the dashboard names the fetch command beside the run command.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

SOURCES = {  # module a notebook imports -> the data source it reads
    "kdlab.data.mnist": "mnist",
    "kdlab.data.many_class": "mnist",
    "kdlab.data.speech": "speech",
}


def imported_modules(notebook: str | Path) -> set[str]:
    """Every module a notebook's code cells import (``import a.b`` and ``from a.b import c``); magics are skipped."""
    cells = json.loads(Path(notebook).read_text()).get("cells", [])
    found: set[str] = set()
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        code = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources(notebook: str | Path) -> list[str]:
    """The data sources a notebook reads (``["mnist"]``, ``["speech"]``, ``[]``), in a fixed order."""
    modules = imported_modules(notebook)
    return sorted({source for module, source in SOURCES.items() if module in modules})


def fetch_command(source: str, profile: str = "quick") -> str:
    """``kdlab fetch mnist``; ``kdlab fetch speech --profile full`` (the corpus has one size per profile)."""
    return f"kdlab fetch {source}" + (f" --profile {profile}" if source == "speech" and profile != "quick" else "")
