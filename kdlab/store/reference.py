"""Reference results: the full- and paper-profile runs that ship with the lab, and the proof they were not edited.

Why: the lab's best results cost an hour per notebook on a laptop CPU (or a GPU the student may not have). A fresh
clone should show them in the first minute, and a reviewer should be able to check that every number came from a
run. ``reference/`` is a second run store with the run store's layout (``reference/<notebook>/<run_id>/``), filled
only by ``kdlab publish RUN_DIR``:

- a run is published only when it is complete, finished by ``kdlab run`` (its executed notebook exists), made from a
  committed tree, of the ``full`` or ``paper`` profile, with valid claims;
- what is copied is what the run store wrote — ``params.json``, ``env.json``, ``metrics.json``, ``claims.json``,
  ``COMPLETE`` and the artifacts — less model weights (``*.pt``) and any file over ``MAX_FILE_MB``, and with the
  absolute paths in the three JSON files made store-relative (``teacher_source``: ``01_…/<run_id>``, not the
  publishing machine's ``/home/…/runs/01_…/<run_id>``); the executed
  notebook is rendered to ``notebook.html`` with nbconvert; ``PUBLISHED.json`` says where the run came from and
  what was left out;
- the new run replaces the previous reference run of the same notebook and profile;
- ``reference/MANIFEST`` lists every file's SHA-256 (``sha256sum`` format), rewritten by every publish;
  ``verify_manifest`` (run by the test suite) fails when any file differs, is missing or was added by hand.

This module knows the run store's files, not models: it imports ``kdlab.store.runs`` and ``kdlab.claim_record`` only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from kdlab import paths as _paths
from kdlab.claim_record import FILE as CLAIMS_FILE
from kdlab.claim_record import read_claims
from kdlab.jsonio import read_json_object, write_json_atomic
from kdlab.store.layout import COMPLETE, STAGING, store_relative
from kdlab.store.reader import RunInfo, list_runs, read_run

REFERENCE_ENV = "KDLAB_REFERENCE"
MANIFEST = "MANIFEST"
PUBLISHED = "PUBLISHED.json"
PROFILES = ("full", "paper")  # the profiles that are published; quick runs are what a student makes themselves
RUN_FILES = ("params.json", "env.json", "metrics.json", CLAIMS_FILE, COMPLETE)
RELATIVE_FILES = ("params.json", "env.json", "metrics.json")  # absolute paths in them are published store-relative
LEFT_OUT_SUFFIXES = (".pt", ".pth", ".ckpt")  # model weights: large, and no page reads them
MAX_FILE_MB = 8.0
BUDGET_MB = 25.0  # the whole reference/ folder


class PublishError(ValueError):
    """A run that cannot be published; the message is one line that says why and what to do."""


def reference_root(root: str | Path | None = None) -> Path:
    """``root`` if given, else ``$KDLAB_REFERENCE``, else ``<project>/reference``."""
    if root is not None:
        return Path(root)
    env = os.environ.get(REFERENCE_ENV)
    return Path(env) if env else _paths.project_root() / "reference"


def reference_runs(root: str | Path | None = None) -> list[RunInfo]:
    """Every published run (newest first), read with the run store's defensive reader."""
    return list_runs(reference_root(root), include_staging=False)


def reference_run(notebook: str, profile: str, root: str | Path | None = None) -> RunInfo | None:
    """The published run of ``notebook`` (a stem or its number, '03') and ``profile``, or None."""
    for info in reference_runs(root):
        if info.notebook.startswith(notebook) and info.profile == profile and info.ok:
            return info
    return None


# ----------------------------------------------------------------------------------------------- publishing


def check_publishable(info: RunInfo) -> None:
    """PublishError (one line) unless ``info`` is a finished, committed, full/paper run with valid claims."""
    where = f"{info.notebook}/{info.run_id}"
    if info.path.parent.name == STAGING:
        raise PublishError(f"{where} is a staging folder (still running or interrupted); publish a finished run")
    if info.status == "failed":
        raise PublishError(f"{where} failed ({info.problem}); fix it and re-run the notebook")
    if not info.ok:
        raise PublishError(f"{where} is {info.status}: {info.problem}")
    if info.profile not in PROFILES:
        raise PublishError(
            f"{where} is a {info.profile!r}-profile run; only {' and '.join(PROFILES)} runs are published "
            f"(kdlab run {info.notebook[:2]} --profile full)"
        )
    if not (info.path / "notebook.ipynb").is_file():
        raise PublishError(f"{where} has no executed notebook; make the run with `kdlab run`, not interactively")
    commit = str(info.env.get("git_commit") or "")
    if not commit or commit.endswith("+dirty"):
        raise PublishError(
            f"{where} was made from {'uncommitted changes' if commit else 'outside git'} ({commit or 'no commit'}); "
            "commit, then re-run the notebook"
        )
    claims, problem = read_claims(info.path)
    if claims is None:
        raise PublishError(f"{where}: {problem}")


def render_html(notebook: Path, out: Path) -> None:
    """The executed notebook as one HTML page with its figures embedded (nbconvert's ``basic`` template: the cells
    without the 7,800 lines of theme CSS the full template would repeat in every published run)."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="basic").from_notebook_node(nbformat.read(notebook, as_version=4))
    out.write_text(body, encoding="utf-8")


def publish(run_dir: str | Path, root: str | Path | None = None) -> Path:
    """Copy a finished run into the reference store, replacing that notebook's previous run of the same profile.

    Returns the published folder. Raises PublishError (nothing changed) when the run may not be published or the
    reference store would exceed ``BUDGET_MB``."""
    source = Path(run_dir).resolve()
    if not source.is_dir():
        raise PublishError(f"{run_dir} is not a run folder; pass runs/<notebook>/<run_id> (see `kdlab runs`)")
    info = read_run(source)
    check_publishable(info)
    base = reference_root(root)
    staging = base / info.notebook / STAGING / info.run_id
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "artifacts").mkdir(parents=True)
    try:
        left_out = _copy_run(source, staging)
        render_html(source / "notebook.ipynb", staging / "notebook.html")
        write_json_atomic(staging / PUBLISHED, {
            "run": f"{info.notebook}/{info.run_id}", "published_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "git_commit": info.env.get("git_commit"), "device": info.env.get("gpu") or info.env.get("device"),
            "left_out": left_out,
        })  # fmt: skip
        replaced = [r.path for r in reference_runs(base) if r.notebook == info.notebook and r.profile == info.profile]
        kept_mb = (_size(base) - sum(_size(p) for p in replaced) - _size(base / info.notebook / STAGING)) / 2**20
        new_mb = _size(staging) / 2**20
        if kept_mb + new_mb > BUDGET_MB:
            raise PublishError(
                f"publishing {info.notebook}/{info.run_id} ({new_mb:.1f} MB) would take reference/ to "
                f"{kept_mb + new_mb:.1f} MB, over its {BUDGET_MB:g} MB budget; shrink the run's artifacts"
            )
        final = base / info.notebook / info.run_id
        for old in replaced:
            shutil.rmtree(old)
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        try:
            (base / info.notebook / STAGING).rmdir()
        except OSError:
            pass
    write_manifest(base)
    return final


def _copy_run(source: Path, dest: Path) -> list[dict]:
    """Copy the run's files into ``dest``; returns what was left out and why."""
    left_out = []
    for name in RUN_FILES:
        if not (source / name).is_file():
            continue
        found, _ = read_json_object(source / name) if name in RELATIVE_FILES else (None, "")
        if found is not None:  # published with its absolute paths store-relative
            write_json_atomic(dest / name, store_relative(found, source.parent.parent))
        else:
            shutil.copy2(source / name, dest / name)
    folder = source / "artifacts"
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not path.is_file() or path.name.startswith("."):
            continue
        mb = path.stat().st_size / 2**20
        if path.suffix in LEFT_OUT_SUFFIXES:
            left_out.append({"file": f"artifacts/{path.name}", "mb": round(mb, 2), "why": "model weights"})
        elif mb > MAX_FILE_MB:
            left_out.append({"file": f"artifacts/{path.name}", "mb": round(mb, 2), "why": f"over {MAX_FILE_MB:g} MB"})
        else:
            shutil.copy2(path, dest / "artifacts" / path.name)
    return left_out


def _size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------------------------- the manifest


def _files(base: Path) -> list[Path]:
    return sorted(
        p for p in base.rglob("*")
        if p.is_file() and p.name != MANIFEST and STAGING not in p.relative_to(base).parts
    )  # fmt: skip


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_text(root: str | Path | None = None) -> str:
    """``<sha256>  <path>`` per file under the reference store (``sha256sum -c`` reads it), sorted by path."""
    base = reference_root(root)
    return "".join(f"{sha256(p)}  {p.relative_to(base).as_posix()}\n" for p in _files(base))


def write_manifest(root: str | Path | None = None) -> Path:
    base = reference_root(root)
    text = manifest_text(base)
    fd, tmp = tempfile.mkstemp(dir=base, prefix=".MANIFEST.")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, base / MANIFEST)
    return base / MANIFEST


def verify_manifest(root: str | Path | None = None) -> list[str]:
    """One line per problem: a file whose SHA-256 differs from the MANIFEST's, a listed file that is missing, a
    file the MANIFEST does not list. Empty when the reference store is exactly what ``kdlab publish`` wrote."""
    base = reference_root(root)
    listed: dict[str, str] = {}
    try:
        lines = (base / MANIFEST).read_text().splitlines()
    except OSError:
        return [f"{base / MANIFEST} is missing; run `kdlab publish` to write it"]
    for n, line in enumerate(lines, 1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64:
            return [f"{MANIFEST} line {n} is not '<sha256>  <path>'"]
        listed[rel] = digest
    problems = []
    present = {p.relative_to(base).as_posix(): p for p in _files(base)}
    for rel, digest in listed.items():
        if rel not in present:
            problems.append(f"{rel}: listed in {MANIFEST} but missing")
        elif sha256(present[rel]) != digest:
            problems.append(f"{rel}: SHA-256 differs from {MANIFEST} (edited after publishing)")
    problems += [f"{rel}: not in {MANIFEST} (added by hand?)" for rel in sorted(set(present) - set(listed))]
    return problems


# ----------------------------------------------------------------------------------------------- for the notebooks


def summary_markdown(notebook: str, root: str | Path | None = None) -> str:
    """What the published full (and paper) runs of ``notebook`` reached, one sentence per claim, from their
    ``claims.json`` — the closing section of every notebook, so no result is pasted into a lesson by hand."""
    parts = []
    for profile in PROFILES:
        info = reference_run(notebook, profile, root)
        if info is None:
            continue
        claims, problem = read_claims(info.path)
        device = info.env.get("gpu") or f"{info.env.get('device', '?')}, {info.env.get('cpu_count', '?')} cores"
        head = f"**{profile} profile** — reference run `{info.run_id}` ({device}, commit `{str(info.env.get('git_commit'))[:10]}`):"
        if claims is None:
            parts.append(f"{head} its claims cannot be read ({problem}).")
        else:
            parts.append(head + "\n\n" + "\n".join(c.sentence() for c in claims))
    if not parts:
        return (
            f"No full-profile reference run of {notebook} is published yet; `kdlab run {notebook[:2]} --profile full` "
            "makes one (about an hour on a laptop CPU)."
        )
    return "\n\n".join(parts)
