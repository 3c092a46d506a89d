"""The text the synthetic speakers read (notebook 05's corpus): the King James verses printed by Debian's
``bible-kjv`` (checked by SHA-256), or a UTF-8 text file of the user's, split into train and test by sentence so no
sentence is in both."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from kdlab.data.checksum import sha256_file
from kdlab.data.errors import DataError

REPAIR = "kdlab fetch speech"  # the command that rebuilds the corpus; every error names it
# `bible -f gen1:1-rev22:21` of bible-kjv 4.38: 31,102 verses, one per line, "Ge1:1 In the beginning ...".
KJV_COMMAND = ["bible", "-f", "gen1:1-rev22:21"]
KJV_SHA256 = "cd45f0c9cedab8e4439bd6486c8952c77cc8b0ecc5d1f6ae3513f2039f47229d"
TEST_FRACTION = 0.1  # of distinct verse texts

_NON_WORD = re.compile(r"[\W_]+")


def normalize_text(text: str) -> str:
    """Lower-case words only: two verses with the same normalized text are the same sentence."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def read_text_file(path: str | Path) -> list[str]:
    """Non-empty lines of a UTF-8 text file; ValueError for a non-UTF-8 or empty file."""
    path = Path(path)
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8") from e
    lines = [line for line in lines if normalize_text(line)]
    if not lines:
        raise ValueError(f"{path}: no text to speak (empty file)")
    return lines


def kjv_verses() -> tuple[list[str], str]:
    """(verses, SHA-256 of the printed text) from the `bible` program of Debian's bible-kjv; DataError if absent."""
    repair = f"apt-get install bible-kjv, then `{REPAIR}`"
    try:
        out = subprocess.run(KJV_COMMAND, capture_output=True, stdin=subprocess.DEVNULL, check=True, timeout=60).stdout
    except (FileNotFoundError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        raise DataError(f"/usr/bin/bible: cannot print the King James text ({type(e).__name__}); run `{repair}`") from e
    digest = hashlib.sha256(out).hexdigest()
    if digest != KJV_SHA256:
        raise DataError(f"`{' '.join(KJV_COMMAND)}`: SHA-256 {digest[:12]}… is not {KJV_SHA256[:12]}…; run `{repair}`")
    return [line.split(" ", 1)[1].strip() for line in out.decode("utf-8").splitlines()], digest


def load_text(recipe: dict) -> list[str]:
    """The recipe's sentences, verified against the recorded checksum."""
    text = recipe["text"]
    if text["source"] == "bible-kjv":
        return kjv_verses()[0]
    if sha256_file(text["path"]) != text["sha256"]:
        raise DataError(f"{text['path']}: SHA-256 differs from the recipe's {text['sha256'][:12]}…; restore the file")
    return read_text_file(text["path"])


def split_texts(sentences: list[str], test_fraction: float = TEST_FRACTION) -> tuple[list[str], list[str]]:
    """(train, test) distinct sentences, assigned by a hash of the normalized text: no sentence lands in both."""
    seen, train, test = set(), [], []
    for s in sentences:
        key = normalize_text(s)
        if key in seen:
            continue
        seen.add(key)
        h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2.0**64
        (test if h < test_fraction else train).append(s)
    return train, test
