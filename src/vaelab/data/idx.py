"""The IDX file format of MNIST: a big-endian header (magic, dimensions), then uint8 data."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

UINT8 = 0x08  # the IDX type code of unsigned bytes, the third byte of the magic number


def magic(n_dims: int) -> int:
    """The first four bytes of a uint8 IDX file of `n_dims` dimensions, as an integer."""
    return (UINT8 << 8) + n_dims


IDX_IMAGES_MAGIC = magic(3)  # 0x00000803
IDX_LABELS_MAGIC = magic(1)  # 0x00000801


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): big-endian header, then uint8 payload."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    n_dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * n_dims)
    if raw[2] != UINT8 or data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: not a uint8 IDX file of shape {shape}")
    return data.reshape(shape)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array of any rank as an uncompressed IDX file."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"{path}: IDX payload must be uint8, not {array.dtype}")
    header = struct.pack(f">I{array.ndim}I", magic(array.ndim), *array.shape)
    path.write_bytes(header + array.tobytes())
