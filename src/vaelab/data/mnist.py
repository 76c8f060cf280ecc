"""MNIST in memory: IDX files read once into uint8 tensors, mini-batches served by slicing.

A per-image `Dataset.__getitem__` + `ToTensor` path costs about 2x per epoch here; one
permutation and contiguous slices of an in-memory tensor cost almost nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vaelab.core.names import DOWNLOAD_TARGET
from vaelab.data.files import FILES, PIXELS, raw_dir
from vaelab.data.idx import read_idx


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


def load_split(root: Path | str, split: str) -> MnistSplit:
    images_name, labels_name = FILES[split]
    folder = raw_dir(root)
    missing = [n for n in (images_name, labels_name) if not (folder / n).exists()]
    if missing:
        raise DataMissingError(
            f"{folder / missing[0]} not found; run `dvc repro {DOWNLOAD_TARGET}` to fetch MNIST"
        )
    images = torch.from_numpy(read_idx(folder / images_name).copy())
    labels = torch.from_numpy(read_idx(folder / labels_name).astype(np.int64))
    return MnistSplit(images, labels)


def load_mnist(root: Path | str) -> tuple[MnistSplit, MnistSplit]:
    """(train, test) splits of `SPLIT_SIZES` images from `root/MNIST/raw`."""
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
