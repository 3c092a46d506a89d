"""Shared fixtures. Real MNIST is fetched once (idempotent, SHA-256 verified) for the tests that need it."""

import os
import tempfile
from pathlib import Path

import pytest

# The committed reference results (reference/) would otherwise appear in every dashboard and store test; tests that
# are about them point KDLAB_REFERENCE (or a root argument) at the store they mean. Set at import, so subprocesses
# (streamlit, notebook kernels) inherit it too.
os.environ["KDLAB_REFERENCE"] = os.path.join(tempfile.gettempdir(), "kdlab-tests-no-reference")
# The suite runs as on a CPU without bf16 matrix instructions (precision "auto" → fp32, kdlab.core.precision), so
# its exact comparisons (DDP vs one process, resume, CUDA graph vs eager) and the notebooks' quick claims are
# checked on the same arithmetic on every machine; the bf16 step has its own tests (test_precision.py, which
# also force the detection on). KDLAB_CPU_BF16=1 bash scripts/test.sh runs the suite in bf16 where "auto" allows.
os.environ.setdefault("KDLAB_CPU_BF16", "0")


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
