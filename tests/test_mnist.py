"""Real MNIST: verified by SHA-256, torchvision layout accepted, and every kind of bad file refused in one line."""

import shutil

import pytest
import torch

from kdlab.data.errors import DataError
from kdlab.data.mnist import FILES, load_mnist, read_idx


def _copy(mnist_dir, dest):
    dest.mkdir(parents=True)
    for name in FILES:
        shutil.copy(mnist_dir / name, dest / name)
    return dest


def test_real_mnist_loads_with_paper_counts(mnist_dir):
    data = load_mnist(mnist_dir.parent)
    assert data.train_images.shape == (60000, 28, 28) and data.train_images.dtype == torch.uint8
    assert data.test_labels.shape == (10000,) and data.test_labels.dtype == torch.int64
    assert int((data.test_labels == 3).sum()) == 1010  # the paper's "1010 threes in the test set"
    x, y = data.flat("test")
    assert x.shape == (10000, 784) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert torch.equal(y, data.test_labels)


def test_torchvision_layout_is_accepted(mnist_dir, tmp_path):
    _copy(mnist_dir, tmp_path / "MNIST" / "raw")
    assert load_mnist(tmp_path).source == tmp_path / "MNIST" / "raw"


def test_missing_files_name_the_fetch_command(tmp_path):
    with pytest.raises(DataError, match="kdlab fetch mnist") as e:
        load_mnist(tmp_path)
    assert "\n" not in str(e.value)


def test_altered_file_is_refused_never_used(mnist_dir, tmp_path):
    folder = _copy(mnist_dir, tmp_path / "mnist")
    path = folder / "t10k-labels-idx1-ubyte"
    raw = bytearray(path.read_bytes())
    raw[100] = (raw[100] + 1) % 10  # one label changed: same size, valid IDX, wrong digest
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.*SHA-256.*kdlab fetch mnist") as e:
        load_mnist(tmp_path)
    assert "\n" not in str(e.value)


def test_truncated_file_is_refused(mnist_dir, tmp_path):
    folder = _copy(mnist_dir, tmp_path / "mnist")
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


def test_idx_parser_rejects_bad_magic(tmp_path):
    bad = tmp_path / "x"
    bad.write_bytes(b"\x00\x00\x09\x01\x00\x00\x00\x01\x05")
    with pytest.raises(DataError, match="magic"):
        read_idx(bad)
    good = tmp_path / "y"
    good.write_bytes(b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03" + bytes(range(6)))
    assert read_idx(good).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_fetch_is_idempotent_and_verifies(mnist_dir, tmp_path):
    from kdlab.data.mnist import fetch_mnist

    assert fetch_mnist(mnist_dir.parent) == mnist_dir  # verified copy left alone, no network needed
