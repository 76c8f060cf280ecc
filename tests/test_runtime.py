"""Flush-to-zero is a setting of each thread: every intra-op thread must have it, or the
part of each op that thread computes rounds subnormals differently (a model's Adam moments
then differ in their last bits from a run whose threads all flush)."""

from __future__ import annotations

import subprocess
import sys

import pytest

THREADS = 2
SUBNORMALS_OF_A_SPLIT_OP = (
    "import torch\nprint(int(((torch.full((1 << 20,), 1e-30) * 1e-10) != 0).sum()))\n"
)


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )


def test_set_threads_makes_every_thread_flush_subnormals() -> None:
    done = _run(
        f"from vaelab.core.runtime import set_threads\n"
        f"assert set_threads({THREADS}) == {THREADS}\n" + SUBNORMALS_OF_A_SPLIT_OP
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"]


def test_a_pool_started_before_set_threads_is_an_error_not_other_bits() -> None:
    """Without the check this process would flush on one thread only and train other bits."""
    done = _run(
        f"import torch\n"
        f"torch.set_num_threads({THREADS})\n"
        + SUBNORMALS_OF_A_SPLIT_OP
        + "from vaelab.core.runtime import set_threads\n"
        f"set_threads({THREADS})\n"
    )
    if done.stdout.split()[:1] == ["0"]:
        pytest.skip("this machine's threads already flush subnormals (nothing to detect)")
    assert done.returncode != 0
    assert "ThreadStateError" in done.stderr and "call set_threads before any tensor op" in (
        done.stderr
    )
