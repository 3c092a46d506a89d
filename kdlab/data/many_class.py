"""MNIST-100: a 100-class task with real, structured confusions, built deterministically from verified MNIST.

The paper's specialists (§5) need many classes whose confusions cluster (JFT's mushroom types). JFT cannot be had,
so kdlab builds one from real data: an image is two MNIST digits side by side (28×56), its class the two-digit
number ``10·left + right`` (00–99). A generalist that confuses 4 with 9 confuses 44/49/94/99 — the confusable
subsets that covariance clustering (``kdlab.lessons.specialists.covariance_clusters``) should find. Introduced in
notebook 06.

Recipe (recorded in ``MNIST100.recipe``; version bumps if it changes): ``np.random.default_rng(seed)``; for each
split (train first, then test) and each class c = 0..99 in order, draw ``n_per_class`` left digits without
replacement from that split's images of digit ``c // 10`` and ``n_per_class`` right digits, likewise, of digit
``c % 10``; the examples are then shuffled with the same generator. Train pairs use only MNIST's training digits,
test pairs only its test digits. Nothing is cached: building 60k pairs in memory takes about a second, and MNIST
itself is SHA-256 verified by ``load_mnist``. ``fingerprint`` (SHA-256 of the arrays) lets a run record exactly
which data it saw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from kdlab.data.errors import DataError
from kdlab.data.mnist import MNIST, load_mnist

RECIPE_VERSION = 1
NUM_CLASSES = 100
IMAGE_SHAPE = (28, 56)


@dataclass
class MNIST100:
    """Two-digit images (N, 28, 56) uint8 with labels 0..99 (int64), and where every half came from."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    train_pairs: np.ndarray  # (N, 2) MNIST train indices of the (left, right) digit
    test_pairs: np.ndarray  # (N, 2) MNIST test indices
    recipe: dict[str, Any] = field(default_factory=dict)

    num_classes: int = NUM_CLASSES
    image_shape: tuple[int, int] = IMAGE_SHAPE

    def flat(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(images as float32 in [0, 1] of shape (N, 1568), labels) for ``split`` in {"train", "test"}."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        images = self.train_images if split == "train" else self.test_images
        labels = self.train_labels if split == "train" else self.test_labels
        return images.reshape(images.shape[0], -1).float().div_(255.0), labels

    def class_examples(self, split: str = "test") -> torch.Tensor:
        """One image per class (100, 28, 56) uint8: the first example of each class in ``split``."""
        images = self.train_images if split == "train" else self.test_images
        labels = self.train_labels if split == "train" else self.test_labels
        first = [int(torch.nonzero(labels == c)[0]) for c in range(self.num_classes)]
        return images[first].clone()

    @property
    def fingerprint(self) -> str:
        """SHA-256 over images and labels of both splits (changes iff the data changes)."""
        return self.recipe["fingerprint"]


def class_name(c: int) -> str:
    """Class index → its two-digit label, e.g. 7 → '07'."""
    return f"{int(c):02d}"


def _pairs(rng: np.random.Generator, digit_labels: np.ndarray, n_per_class: int) -> np.ndarray:
    pools = [np.flatnonzero(digit_labels == d) for d in range(10)]
    smallest = min(len(p) for p in pools)
    if n_per_class > smallest:
        raise ValueError(f"n_per_class={n_per_class} exceeds the rarest digit's count ({smallest}) in this split")
    rows = []
    for c in range(NUM_CLASSES):
        left = rng.choice(pools[c // 10], n_per_class, replace=False)
        right = rng.choice(pools[c % 10], n_per_class, replace=False)
        rows.append(np.stack([left, right], axis=1))
    pairs = np.concatenate(rows)
    return pairs[rng.permutation(len(pairs))]


def _compose(digits: torch.Tensor, pairs: np.ndarray) -> torch.Tensor:
    idx = torch.from_numpy(pairs)
    return torch.cat([digits[idx[:, 0]], digits[idx[:, 1]]], dim=2)  # (N, 28, 56)


def _digest(*tensors: torch.Tensor) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(np.ascontiguousarray(t.numpy()).tobytes())
    return h.hexdigest()


def build_mnist100(
    n_train_per_class: int = 600, n_test_per_class: int = 100, seed: int = 0, mnist: MNIST | None = None
) -> MNIST100:
    """MNIST-100 with balanced classes (``n_*_per_class`` pairs each), deterministic in ``seed``.

    Defaults give 60,000 train / 10,000 test pairs, the size of MNIST itself. ``mnist`` may be passed to reuse an
    already loaded (verified) copy; otherwise ``load_mnist()`` loads and verifies it (never downloads).
    """
    if n_train_per_class < 1 or n_test_per_class < 1:
        raise ValueError(f"need ≥ 1 pair per class, got train={n_train_per_class}, test={n_test_per_class}")
    if mnist is None:
        try:
            mnist = load_mnist()
        except DataError as e:
            raise DataError(f"MNIST-100 is built from MNIST: {e}") from e
    rng = np.random.default_rng(seed)
    train_pairs = _pairs(rng, mnist.train_labels.numpy(), n_train_per_class)
    test_pairs = _pairs(rng, mnist.test_labels.numpy(), n_test_per_class)
    tl, sl = mnist.train_labels.numpy(), mnist.test_labels.numpy()
    data = MNIST100(
        train_images=_compose(mnist.train_images, train_pairs),
        train_labels=torch.from_numpy(10 * tl[train_pairs[:, 0]] + tl[train_pairs[:, 1]]).long(),
        test_images=_compose(mnist.test_images, test_pairs),
        test_labels=torch.from_numpy(10 * sl[test_pairs[:, 0]] + sl[test_pairs[:, 1]]).long(),
        train_pairs=train_pairs,
        test_pairs=test_pairs,
    )
    data.recipe = {
        "name": "MNIST-100",
        "version": RECIPE_VERSION,
        "seed": seed,
        "n_train_per_class": n_train_per_class,
        "n_test_per_class": n_test_per_class,
        "n_train": len(train_pairs),
        "n_test": len(test_pairs),
        "layout": "28x56 uint8; left digit = tens, right digit = units; class = 10*left + right",
        "source": "MNIST IDX (SHA-256 verified); train pairs from train digits, test pairs from test digits",
        "fingerprint": _digest(data.train_images, data.train_labels, data.test_images, data.test_labels),
    }
    return data
