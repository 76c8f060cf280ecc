"""Unpickling that admits numpy arrays only: a downloaded pickle must not be able to run code."""

from __future__ import annotations

import pickle
from typing import IO, Any

import numpy as np


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admit only numpy's array-rebuilding globals: unpickling anything else can run code."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _numpy_globals()
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only numpy arrays are allowed "
                f"({', '.join(f'{m}.{n}' for m, n in allowed)})"
            )
        return allowed[(module, name)]


def _numpy_globals() -> dict[tuple[str, str], Any]:
    # Taken from numpy's own __reduce__, so the names of numpy 1.x and 2.x map to the same objects.
    reconstruct = np.ndarray((0,)).__reduce__()[0]
    scalar = np.float32(0).__reduce__()[0]
    table = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for core in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(core, "_reconstruct")] = reconstruct
        table[(core, "scalar")] = scalar
    return table


def load_arrays_pickle(stream: IO[bytes]) -> Any:
    """Unpickle data made only of numpy arrays (and tuples/lists); refuse anything else."""
    return _NumpyOnlyUnpickler(stream, encoding="latin1").load()
