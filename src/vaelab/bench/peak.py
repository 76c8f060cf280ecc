"""The machine's float32 matmul peak, the ceiling every "share of peak" divides by.

Why measured twice: one measurement has ranged 143–222 GFLOP/s on the same machine, so the
bench measures before and after the training rows and reports the range. Run under the
pinned kernels (`vaelab.bench.pinned`), as the stages are.
"""

from __future__ import annotations

import os
import time

import torch

from vaelab.core.runtime import set_threads

SIZE = 2048  # 2·2048³ = 17 GFLOP: ~0.1 s a product at this machine's peak
REPEATS = 7


def matmul_flops(threads: int, size: int = SIZE, repeats: int = REPEATS) -> float:
    """Best FLOP/s of a (size × size) @ (size × size) float32 product on `threads` threads.

    2·n³ FLOPs per product; the best of `repeats` (after one warm-up), since other processes
    can only slow a run down.
    """
    before = torch.get_num_threads()
    set_threads(threads)
    try:
        a, b = (torch.randn(size, size) for _ in range(2))
        out = torch.matmul(a, b)
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            torch.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - start)
    finally:
        set_threads(before)
    return 2 * size**3 / best


def cores() -> int:
    """The cores this process may use: what `make repro` fills."""
    return len(os.sched_getaffinity(0))


def measure(when: str) -> dict[str, float]:
    """GFLOP/s over the whole machine (all its cores' threads) and on one core."""
    return {
        f"peak_machine_gflops_{when}": matmul_flops(cores()) / 1e9,
        f"peak_core_gflops_{when}": matmul_flops(1) / 1e9,
    }


def summary(result: dict[str, float]) -> dict[str, float]:
    """The range of the whole machine's peaks measured before and after the training rows."""
    peaks = [result[f"peak_machine_gflops_{when}"] for when in ("before", "after")]
    cores_ = [result[f"peak_core_gflops_{when}"] for when in ("before", "after")]
    return {
        "peak_machine_gflops_min": min(peaks),
        "peak_machine_gflops_max": max(peaks),
        "peak_core_gflops_min": min(cores_),
        "peak_core_gflops_max": max(cores_),
    }


def shares(flops_per_image: int, images_per_s: float, result: dict[str, float]) -> tuple:
    """(share of the highest peak, share of the lowest): the honest range, low first."""
    achieved = flops_per_image * images_per_s / 1e9
    return achieved / result["peak_machine_gflops_max"], achieved / result[
        "peak_machine_gflops_min"
    ]
