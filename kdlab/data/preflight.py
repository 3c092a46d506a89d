"""Is the data a notebook reads on disk? Checked by ``kdlab run`` before it makes a run folder; never downloads.

A first ``kdlab run 01`` before ``kdlab fetch mnist`` is then one line with the command to run, not a failed run
folder. Which data a notebook reads comes from ``kdlab.notebook_data`` (its imports); here is only where each source
lives on disk. Presence only: the notebook's loader verifies the SHA-256 of what it reads.
"""

from __future__ import annotations

from pathlib import Path

from kdlab.data.errors import DataError
from kdlab.notebook_data import SOURCES, fetch_command, sources
from kdlab.paths import data_root


def missing(source: str, profile: str = "quick", root: str | Path | None = None) -> str:
    """Empty when ``source`` is on disk (not yet verified: the notebook's loader checks the SHA-256), else where it
    was looked for."""
    base = data_root(root)
    if source == "mnist":
        from kdlab.data.mnist import find_mnist

        try:
            find_mnist(base)
            return ""
        except DataError:
            return f"MNIST is not in {base / 'mnist'}"
    if source == "speech":
        from kdlab.data.speech import corpus_dir

        folder = corpus_dir(base, profile)
        return "" if (folder / "manifest.json").is_file() else f"the {profile} speech corpus is not in {folder}"
    raise ValueError(f"unknown data source {source!r}; known: {', '.join(sorted(set(SOURCES.values())))}")


def check(notebooks: list[Path], speech_profile: str = "quick", root: str | Path | None = None) -> None:
    """``DataError`` (one line: what is missing, for which notebooks, and the fetch commands) unless every source the
    ``notebooks`` read is on disk."""
    needs: dict[str, list[str]] = {}
    for path in notebooks:
        for source in sources(path):
            needs.setdefault(source, []).append(Path(path).stem)
    problems, commands = [], []
    for source, stems in needs.items():
        gap = missing(source, speech_profile, root)
        if gap:
            problems.append(f"{', '.join(stems)} read{'s' if len(stems) == 1 else ''} data not fetched yet ({gap})")
            commands.append(f"`{fetch_command(source, speech_profile)}`")
    if problems:
        raise DataError(
            "; ".join(problems) + f": run {' and '.join(commands)} first (set KDLAB_DATA if it is elsewhere)"
        )
