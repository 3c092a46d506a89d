"""SHA-256 verification shared by every data source: a file is used only after its digest matches."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kdlab.data.errors import DataError


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 digest of a file, read in chunks so large corpora do not need to fit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: str | Path, expected: str, repair: str) -> None:
    """Raise DataError (one line: file, expected digest, repair command) unless ``path`` exists with ``expected`` digest."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: missing (expected a file with SHA-256 {expected[:12]}…); run `{repair}`")
    actual = sha256_file(path)
    if actual != expected:
        raise DataError(
            f"{path}: SHA-256 {actual[:12]}… does not match the expected {expected[:12]}… "
            f"(truncated or altered; {path.stat().st_size} bytes); delete it and run `{repair}`"
        )
