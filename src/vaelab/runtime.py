"""Seeds, device, threads and the environment facts that go into every checkpoint and metric."""

from __future__ import annotations

import os
import platform
import random
from importlib.metadata import version

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """One seed for Python, NumPy and torch, and deterministic kernels (bit-identical reruns)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # What torch.use_deterministic_algorithms(True) sets for eager kernels. The public call also
    # imports torch._inductor (about 1 s a stage) to configure torch.compile, which we never use.
    torch._C._set_deterministic_algorithms(True)


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device = 'cuda' but no CUDA device is visible; use auto or cpu")
    return torch.device(name)


def set_threads(threads: int) -> int:
    """0 means one intra-op thread per core available to this process."""
    n = threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(n)
    return n


def environment(device: torch.device) -> dict[str, object]:
    """Library versions, device and threads: what a number depends on besides params.

    Versions come from the installed metadata: importing torchvision costs about 1 s a stage.
    """
    return {
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "torchvision": version("torchvision"),
        "numpy": np.__version__,
        "dvc": version("dvc"),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
    }
