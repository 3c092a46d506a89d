"""MNIST-100 (kdlab.data.many_class): determinism, labels, split hygiene — on a synthetic MNIST and on the real one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kdlab.data.errors import DataError
from kdlab.data.many_class import build_mnist100, class_name
from kdlab.data.mnist import MNIST


def fake_mnist(n_train: int = 200, n_test: int = 60, seed: int = 0) -> MNIST:
    g = torch.Generator().manual_seed(seed)
    return MNIST(
        train_images=torch.randint(0, 256, (n_train, 28, 28), dtype=torch.uint8, generator=g),
        train_labels=torch.arange(n_train) % 10,
        test_images=torch.randint(0, 256, (n_test, 28, 28), dtype=torch.uint8, generator=g),
        test_labels=torch.arange(n_test) % 10,
        source=None,
    )


def check_consistent(data, mnist: MNIST) -> None:
    for split in ("train", "test"):
        images = getattr(data, f"{split}_images")
        labels = getattr(data, f"{split}_labels")
        pairs = getattr(data, f"{split}_pairs")
        digits = getattr(mnist, f"{split}_images")
        digit_labels = getattr(mnist, f"{split}_labels")
        assert images.shape[1:] == (28, 56) and images.dtype == torch.uint8
        assert torch.equal(images[:, :, :28], digits[pairs[:, 0]])  # left half is the left digit…
        assert torch.equal(images[:, :, 28:], digits[pairs[:, 1]])  # …right half the right digit
        assert torch.equal(labels, 10 * digit_labels[pairs[:, 0]] + digit_labels[pairs[:, 1]])
        assert pairs.max() < len(digits)  # train pairs index train digits only, test pairs test digits only


def test_synthetic_labels_balance_and_determinism():
    mnist = fake_mnist()
    a = build_mnist100(3, 2, seed=5, mnist=mnist)
    b = build_mnist100(3, 2, seed=5, mnist=mnist)
    c = build_mnist100(3, 2, seed=6, mnist=mnist)
    check_consistent(a, mnist)
    assert a.fingerprint == b.fingerprint and torch.equal(a.train_images, b.train_images)
    assert a.fingerprint != c.fingerprint
    assert torch.equal(torch.bincount(a.train_labels, minlength=100), torch.full((100,), 3))
    assert torch.equal(torch.bincount(a.test_labels, minlength=100), torch.full((100,), 2))
    assert a.recipe["n_train"] == 300 and a.recipe["seed"] == 5
    x, y = a.flat("test")
    assert x.shape == (200, 28 * 56) and x.dtype == torch.float32 and float(x.max()) <= 1.0
    ex = a.class_examples("test")
    assert ex.shape == (100, 28, 56)
    assert class_name(7) == "07"


def test_too_many_pairs_per_class_is_refused():
    with pytest.raises(ValueError, match="rarest digit"):
        build_mnist100(100, 1, mnist=fake_mnist())


def test_real_mnist100_is_deterministic():
    try:
        a = build_mnist100(4, 2, seed=0)
    except DataError as e:
        pytest.skip(f"MNIST not available: {e}")
    b = build_mnist100(4, 2, seed=0)
    assert a.fingerprint == b.fingerprint
    from kdlab.data.mnist import load_mnist

    check_consistent(a, load_mnist(verify=False))
    assert np.array_equal(a.train_pairs, b.train_pairs)
