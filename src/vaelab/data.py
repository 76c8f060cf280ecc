"""MNIST in memory: IDX files read once into uint8 tensors, mini-batches served by slicing.

A per-image `Dataset.__getitem__` + `ToTensor` path costs about 2x per epoch here; one
permutation and contiguous slices of an in-memory tensor cost almost nothing.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

IMAGE_SIDE = 28
PIXELS = IMAGE_SIDE * IMAGE_SIDE
N_CLASSES = 10
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataMissingError(FileNotFoundError):
    """The verified IDX files are not where the pipeline puts them."""


@dataclass(frozen=True)
class MnistSplit:
    """images: (N, 28, 28) uint8; labels: (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def flat_float(self) -> torch.Tensor:
        """(N, 784) float32 in [0, 1]: the models' input, converted once per stage."""
        return self.images.reshape(len(self), PIXELS).float().div_(255.0)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): big-endian header, then uint8 payload."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    n_dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * n_dims)
    if raw[2] != 0x08 or data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: not a uint8 IDX file of shape {shape}")
    return data.reshape(shape)


def raw_dir(root: Path | str) -> Path:
    """Where torchvision.datasets.MNIST(root) looks for the IDX files."""
    return Path(root) / "MNIST" / "raw"


def load_split(root: Path | str, split: str) -> MnistSplit:
    images_name, labels_name = FILES[split]
    folder = raw_dir(root)
    missing = [n for n in (images_name, labels_name) if not (folder / n).exists()]
    if missing:
        raise DataMissingError(
            f"{folder / missing[0]} not found; run `dvc repro download` to fetch MNIST"
        )
    images = torch.from_numpy(read_idx(folder / images_name).copy())
    labels = torch.from_numpy(read_idx(folder / labels_name).astype(np.int64))
    return MnistSplit(images, labels)


def load_mnist(root: Path | str) -> tuple[MnistSplit, MnistSplit]:
    """(train 60 000, test 10 000) from `root/MNIST/raw`."""
    return load_split(root, "train"), load_split(root, "test")


def iterate_batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (x, y) mini-batches; shuffled when a generator is given; the last may be partial.

    One gather per epoch, then contiguous slices: no per-batch indexing cost.
    """
    if generator is not None:
        order = torch.randperm(len(x), generator=generator)
        x, y = x[order], y[order]
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size], y[start : start + batch_size]
