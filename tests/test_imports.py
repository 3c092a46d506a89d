"""One name, one place: no import shims, every import names the module that defines the name, and the package's
import graph (drawn by grimp, not only judged by import-linter) runs one way, with no circle across layers."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("kdlab", "dashboard")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


# --------------------------------------------------------------------------- no shims
SHIMS = re.compile(r"\bMOVED\b|import_module|def __getattr__|meta_path|MetaPathFinder")


def test_no_module_answers_to_a_name_it_does_not_define():
    """No alias table, no meta-path finder, no module ``__getattr__`` and no ``importlib.import_module`` in the code:
    nothing imports around the contracts."""
    hits = [
        f"{path.relative_to(REPO)}:{i}: {line.strip()}"
        for path in MODULES.values()
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if SHIMS.search(line)
    ]
    assert not hits, "\n".join(hits)


# --------------------------------------------------------------------------- one import path per name
def _top_level(body):
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body)
            for handler in node.handlers:
                yield from _top_level(handler.body)


def _defined(module: str) -> tuple[set[str], set[str]]:
    """Names a module defines (def, class, assignment) and, for a package, the public face in its ``__all__``."""
    tree = ast.parse(MODULES[module].read_text())
    defined, face = set(), set()
    for node in _top_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            defined |= names
            if "__all__" in names and MODULES[module].name == "__init__.py":
                face = set(ast.literal_eval(node.value))
    return defined, face


DEFINED = {m: _defined(m) for m in MODULES}


def _provides(module: str, name: str) -> bool:
    defined, face = DEFINED[module]
    return name in defined or name in face or f"{module}.{name}" in MODULES


def indirect_imports(source: str) -> list[str]:
    """Each ``from M import x`` (and ``alias.x`` for ``import M as alias``) where M does not define x."""
    source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a doc's sketch with "..." in it: check its import lines only
        tree = ast.parse("\n".join(ln.strip() for ln in source.splitlines() if re.match(r"\s*(from|import) \w", ln)))
    problems, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in PACKAGES:
            if node.module not in MODULES:
                problems.append(f"line {node.lineno}: no module {node.module}")
                continue
            for a in node.names:
                if f"{node.module}.{a.name}" in MODULES:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                elif not _provides(node.module, a.name):
                    problems.append(f"line {node.lineno}: {node.module} does not define {a.name}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in PACKAGES:
                    if a.name not in MODULES:
                        problems.append(f"line {node.lineno}: no module {a.name}")
                    elif a.asname:
                        aliases[a.asname] = a.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            module = aliases[node.value.id]
            if not _provides(module, node.attr):
                problems.append(f"line {node.lineno}: {node.value.id}.{node.attr}: {module} does not define it")
    return problems


def _sources():
    skip = {".venv", "runs", "data", "reference", ".git"}
    for path in sorted(REPO.rglob("*.py")):
        if not skip & set(path.relative_to(REPO).parts):
            yield path, path.read_text()
    for path in sorted([*REPO.glob("notebooks/*.ipynb"), *REPO.glob("exercises/*.ipynb")]):
        cells = json.loads(path.read_text())["cells"]
        yield path, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for path in sorted([*REPO.glob("docs/*.md"), *REPO.glob("*.md"), *REPO.glob("*/README.md")]):
        for block in re.findall(r"```python\n(.*?)```", path.read_text(), re.S):
            yield path, block


@pytest.mark.parametrize(
    "path, source", list(_sources()), ids=lambda x: str(x.relative_to(REPO)) if isinstance(x, Path) else ""
)
def test_every_import_names_the_module_that_defines_the_name(path, source):
    """Tests, exercises, docs, notebooks, dashboard, scripts and benchmarks import a name from where it is defined (or
    from a package's public face, its ``__init__``'s ``__all__``): one import path per name."""
    problems = indirect_imports(source)
    assert not problems, f"{path.relative_to(REPO)}:\n  " + "\n  ".join(problems)


def test_the_import_check_can_fail():
    assert indirect_imports("from kdlab.core.train import TrainConfig")  # defined in kdlab.core.config
    assert indirect_imports("from kdlab.store import runs as store\nstore.list_runs()")  # kdlab.store.reader's
    assert indirect_imports("import kdlab.train")  # an old name
    assert not indirect_imports(
        "from kdlab.core.config import TrainConfig\nfrom kdlab.lessons import specialists as sp\nsp.combine"
    )


# --------------------------------------------------------------------------- the import graph
def _layers() -> list[list[str]]:
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in config if c["type"] == "layers"]
    return [[m.strip() for m in re.split(r"[|:]", layer)] for layer in layers]


@pytest.fixture(scope="module")
def graph():
    grimp = pytest.importorskip("grimp")
    sys.path.insert(0, str(REPO))
    try:
        return grimp.build_graph(*PACKAGES, cache_dir=None)
    finally:
        sys.path.remove(str(REPO))


def _layer_of(module: str, layers: list[list[str]]) -> tuple[int, str] | None:
    for i, layer in enumerate(layers):
        for top in layer:
            if module == top or module.startswith(top + "."):
                return i, top
    return None


def test_every_module_sits_in_a_layer(graph):
    layers = _layers()
    loose = [m for m in graph.modules if _layer_of(m, layers) is None and m not in ("kdlab", "kdlab.__main__")]
    assert not loose, f"modules in no layer of pyproject.toml's layers contract: {sorted(loose)}"


def test_no_import_points_up_or_across_a_layer(graph):
    """Each direct import goes from a layer to a lower one (or stays inside one part of a layer)."""
    layers = _layers()
    wrong = []
    for importer in graph.modules:
        at = _layer_of(importer, layers)
        for imported in graph.find_modules_directly_imported_by(importer):
            to = _layer_of(imported, layers)
            if at and to and to[1] != at[1] and to[0] <= at[0]:
                wrong.append(f"{importer} -> {imported}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_circle_between_modules_of_different_layers(graph):
    """No chain of imports leads from a lower part of the package back to a higher one (so no circle crosses parts)."""
    parts = [top for layer in _layers() for top in layer]
    circles = []
    for high in parts:
        for low in parts:
            if high != low and graph.find_shortest_chains(importer=high, imported=low, as_packages=True):
                back = graph.find_shortest_chains(importer=low, imported=high, as_packages=True)
                circles += [" -> ".join(chain) for chain in back]
    assert not circles, "\n".join(sorted(set(circles)))


# --------------------------------------------------------------------------- ruff reads every module
def test_ruff_reads_every_module():
    """A folder named like build output (``dist/``) is skipped by ruff's default excludes; none is left."""
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    out = subprocess.run([str(ruff), "check", "--show-files", "."], cwd=REPO, capture_output=True, text=True).stdout
    shown = {Path(line.strip()).resolve() for line in out.splitlines() if line.strip().endswith(".py")}
    unread = [
        str(p.relative_to(REPO)) for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py") if p.resolve() not in shown
    ]
    assert not unread, f"ruff does not read: {unread}"
