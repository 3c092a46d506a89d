"""`kdlab exercises` and `kdlab check`: the lessons' exercises in nbgrader's source format (``exercises/``).

``exercises/NN_*.ipynb`` hold the solutions between ``### BEGIN SOLUTION`` / ``### END SOLUTION``, read-only check
cells (nbgrader metadata ``grade: true``, ``grade_id`` such as ``ex01_softmax_t``) and tests hidden from students
between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``.

* ``write_exercises(dest)`` writes the student versions with nbgrader's own preprocessors, in the order of
  ``nbgrader generate_assignment`` (no course directory or gradebook needed). A file the student has changed since
  kdlab wrote it (its SHA-256 differs from the one recorded in ``dest/.kdlab-exercises.json``) is kept unless
  ``force``.
* ``check_notebook(path)`` executes a notebook with ``nbgrader.validator.Validator`` (nbgrader's ``validate``) and
  turns its per-cell verdicts into one result per exercise; ``hidden=True`` first puts back the read-only cells of
  the source notebook, hidden tests included (what nbgrader's autograder does with its gradebook copy).
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kdlab import paths

MANIFEST = ".kdlab-exercises.json"  # {notebook name: SHA-256 of the text kdlab wrote}
DEFAULT_DIR = "my-exercises"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning|Timeout)\b")


def _need_nbgrader() -> None:
    try:
        import nbgrader  # noqa: F401  (only: is it installed?)
    except ModuleNotFoundError:
        raise RuntimeError("nbgrader is not installed; `pip install -e .` installs it with kdlab") from None


def source_dir() -> Path:
    """``exercises/`` of this kdlab checkout: the notebooks with solutions and hidden tests."""
    return paths.project_root() / "exercises"


def source_notebooks(folder: str | Path | None = None) -> list[Path]:
    """The source notebooks ``NN_*.ipynb``, in lesson order."""
    folder = Path(folder) if folder is not None else source_dir()
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"{folder}: no exercise notebooks (NN_*.ipynb) found")
    return found


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def exercise_ids(nb) -> list[str]:
    """The ``grade_id`` of every check cell (nbgrader ``grade: true``), in notebook order: one per exercise."""
    return [_nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c).get("grade")]


def student_version(path: str | Path) -> str:
    """The student version of a source notebook, as the text kdlab writes: solutions replaced by nbgrader's stub
    (``raise NotImplementedError()``), hidden tests removed, outputs cleared, check cells locked and checksummed."""
    _need_nbgrader()
    import nbformat
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    nb = nbformat.read(str(path), as_version=4)
    resources: dict = {}
    # nbgrader generate_assignment's order, less the steps that need a course (header, gradebook, mark schemes).
    steps = [
        LockCells,
        ClearSolutions,
        ClearOutput,
        CheckCellMetadata,
        ComputeChecksums,
        ClearHiddenTests,
        ComputeChecksums,
        CheckCellMetadata,
    ]
    for step in steps:
        nb, resources = step().preprocess(nb, resources)
    return nbformat.writes(nb) + "\n"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_exercises(
    dest: str | Path = DEFAULT_DIR, force: bool = False, source: str | Path | None = None
) -> list[tuple[Path, str]]:
    """Write every student notebook into ``dest``; returns (path, what happened) per notebook.

    What happened: ``written`` (new), ``up to date``, ``updated`` (the file was as kdlab wrote it, the source has
    changed since), ``overwritten`` (changed by the student, ``force``) or ``kept`` (changed by the student).
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"{dest}: exists and is not a folder")
    dest.mkdir(parents=True, exist_ok=True)
    manifest_path = dest / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    except (OSError, ValueError):
        manifest = {}
    done = []
    for src in source_notebooks(source):
        text = student_version(src)
        target = dest / src.name
        if not target.exists():
            status = "written"
        else:
            current = target.read_text(encoding="utf-8", errors="replace")
            if current == text:
                status = "up to date"
            elif manifest.get(src.name) == _sha256(current):
                status = "updated"
            elif force:
                status = "overwritten"
            else:
                done.append((target, "kept"))
                continue
        if status != "up to date":
            target.write_text(text, encoding="utf-8")
        manifest[src.name] = _sha256(text)
        done.append((target, status))
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return done


@dataclass(frozen=True)
class ExerciseResult:
    """The verdict on one exercise: its check cell's ``grade_id``, passed or not, and why not."""

    exercise: str
    passed: bool
    message: str = ""
    setup_error: str = ""  # a read-only setup cell that failed before the checks (e.g. MNIST missing)


def error_message(raw: str) -> str:
    """The last exception of a failed cell's output as one line: ``AssertionError: rows must sum to 1``."""
    lines = [line.rstrip() for line in _ANSI.sub("", raw).splitlines() if line.strip()]
    if not lines:
        return "failed"
    start = max((i for i, line in enumerate(lines) if _ERROR_LINE.match(line)), default=len(lines) - 1)
    message = " ".join(line.strip() for line in lines[start:])
    if message.rstrip(":") == "NotImplementedError":
        return "not solved yet (NotImplementedError)"
    return message


def read_exercise(path: str | Path):
    """The notebook at ``path``; FileNotFoundError or ValueError (one line) if it is missing or no exercise notebook."""
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:  # nbformat raises JSON, schema and unicode errors alike
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"{path}: not a Jupyter notebook ({first[:120]})") from None
    if not exercise_ids(nb):
        raise ValueError(f"{path}: no nbgrader check cells; is it an exercise notebook (see `kdlab exercises`)?")
    return nb


def with_source_checks(nb, source_path: Path):
    """``nb`` with its read-only cells (setup and checks, hidden tests included) taken from the source notebook."""
    source = read_exercise(source_path)
    originals = {
        _nbgrader(c)["grade_id"]: c.source
        for c in source.cells
        if _nbgrader(c).get("locked") or _nbgrader(c).get("grade")
    }
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if not meta.get("solution") and meta.get("grade_id") in originals:
            cell.source = originals[meta["grade_id"]]
            meta.pop("checksum", None)
    return nb, exercise_ids(source)


def check_notebook(path: str | Path, hidden: bool = False, timeout: int = 600) -> list[ExerciseResult]:
    """Execute ``path`` with nbgrader's Validator and return one result per exercise (check cell), in order.

    ``hidden`` runs the checks of ``exercises/<same name>`` instead of the ones in the file, hidden tests
    included. ``timeout``: seconds per cell. A missing file or a non-notebook raises FileNotFoundError/ValueError.
    """
    _need_nbgrader()
    import nbformat
    from nbgrader.validator import Validator
    from traitlets.config import Config

    path = Path(path).resolve()
    nb = read_exercise(path)
    expected = exercise_ids(nb)
    if hidden:
        source_path = source_dir() / path.name
        if not source_path.is_file():
            raise FileNotFoundError(f"{source_path}: no source notebook to take the hidden tests from")
        nb, expected = with_source_checks(nb, source_path)
    ids = {c.source.strip(): _nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c).get("grade_id")}
    # the kernel's own log (e.g. ipykernel's warning about unencrypted local TCP) would only clutter the report
    config = Config({"Execute": {"timeout": timeout, "extra_arguments": ["--IPKernelApp.log_level=ERROR"]}})
    validator = Validator(config=config, ignore_checksums=hidden, validate_all=True)
    if not hidden:
        results = validator.validate(str(path))  # executes a copy in memory, in the notebook's folder
    else:
        with tempfile.TemporaryDirectory(prefix="kdlab-check-") as tmp:  # the student's file stays as it is
            run_path = Path(tmp) / path.name
            nbformat.write(nb, str(run_path))
            results = validator.validate(str(run_path))
    if results.get("type_changed"):
        raise ValueError(
            f"{path}: {len(results['type_changed'])} read-only cell(s) changed type; "
            "`kdlab exercises --force` rewrites the notebook"
        )
    if results.get("changed"):
        edited = sorted(ids.get(c["source"], "?") for c in results["changed"])
        return [
            ExerciseResult(
                e,
                False,
                f"read-only cell(s) edited ({', '.join(edited)}); `kdlab check --hidden` runs the original checks",
            )
            for e in expected
        ]
    failed = {ids.get(c["source"], "?"): error_message(c["raw_error"]) for c in results.get("failed", [])}
    setup, causes, pending = "", {}, ""  # cells that raised before a check: they explain its NameError
    for cell in nb.cells:
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        if meta.get("grade"):
            causes[gid], pending = pending, ""
        elif gid in failed and re.search(r"(Error|Exception)\b", failed[gid]):  # not a mere write to stderr
            if meta.get("solution"):
                pending = pending or f"{gid}: {failed[gid]}"
            elif not setup:
                setup = f"{gid}: {failed[gid]}"
    present = set(ids.values())
    return [
        ExerciseResult(
            e,
            e not in failed and e in present,
            (failed[e] + (f" (your cell {causes[e]})" if causes.get(e) else ""))
            if e in failed
            else ("" if e in present else "its check cell is missing"),
            setup,
        )
        for e in expected
    ]


def report(results: list[ExerciseResult]) -> str:
    """Per exercise ``passed`` or ``FAILED  message``, then a count; first the setup cell that failed, if one did."""
    width = max(len(r.exercise) for r in results)
    setup = next((r.setup_error for r in results if r.setup_error), "")
    lines = [f"  first fix the read-only cell {setup}"] if setup else []
    lines += [f"  {r.exercise:<{width}}  " + ("passed" if r.passed else f"FAILED  {r.message}") for r in results]
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} of {len(results)} exercises passed")
    return "\n".join(lines)
