"""What MNIST is on disk: file names, canonical digests, sizes, folder layout. Torch-free."""

from __future__ import annotations

from pathlib import Path

IMAGE_SIDE = 28
PIXELS = IMAGE_SIDE * IMAGE_SIDE
N_CLASSES = 10
SPLIT_SIZES = {"train": 60_000, "test": 10_000}
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# SHA-256 of the uncompressed IDX files (LeCun et al. 1998): the single source of truth.
RAW_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def raw_dir(root: Path | str) -> Path:
    """Where torchvision.datasets.MNIST(root) looks for the IDX files."""
    return Path(root) / "MNIST" / "raw"
