"""Shared fixtures. Real MNIST is fetched once (idempotent, SHA-256 verified) for the tests that need it."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The verified MNIST folder; fetched with `kdlab fetch mnist` semantics if it is not there yet."""
    from kdlab.data.mnist import fetch_mnist

    return fetch_mnist()


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    """An empty run store for one test, exported as KDLAB_RUNS."""
    root = tmp_path / "runs"
    monkeypatch.setenv("KDLAB_RUNS", str(root))
    monkeypatch.delenv("KDLAB_RUN_DIR", raising=False)
    return root
