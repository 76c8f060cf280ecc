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


class DeviceError(RuntimeError):
    """The device params.yaml names is not on this machine."""


# What dvc.yaml's `pinned` prefix sets for every stage: the kernel choices that otherwise
# differ between x86-64 machines (AVX2 vs AVX-512, Intel vs AMD) and change the last bits.
KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA")


def resolve_device(name: str) -> torch.device:
    """'cpu' or 'cuda' as params.yaml says; a missing GPU is a one-line error, not a guess."""
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            "params.yaml: train.device = 'cuda' but no CUDA device is visible here; "
            "set train.device to cpu (dvc exp run -S train.device=cpu)"
        )
    return torch.device(name)


class ThreadStateError(RuntimeError):
    """An intra-op thread does not flush subnormals to zero, so its share of every op would
    round differently from the others'."""


def set_threads(threads: int) -> int:
    """Exactly `threads` intra-op threads, each flushing subnormal floats to zero: both the
    count (how sums split) and the flushing change the bits.

    MNIST's always-black border pixels drive some gradients and Adam moments into the
    subnormal range, where x86 arithmetic is up to 100× slower: at batch 16 that doubled a
    training step. Flushing is deterministic, so every machine agrees, but it is a setting of
    each thread: the intra-op pool's threads copy it from the thread that starts them, at the
    first parallel op. So this runs before any tensor op of a stage, and checks the result.
    """
    torch.set_flush_denormal(True)
    torch.set_num_threads(threads)
    # Ops above ATen's grain size (32 768 elements) split over every thread of the pool.
    halves = torch.full((32768 * 4 * threads,), 1e-30) * 1e-10  # 1e-40 is subnormal
    if bool(halves.any()):
        raise ThreadStateError(
            "an intra-op thread does not flush subnormals to zero: the pool started before "
            "set_threads turned flushing on; call set_threads before any tensor op"
        )
    return torch.get_num_threads()


def kernels() -> dict[str, str]:
    """The CPU code paths in force: ATen's vector width and the pinning variables as set."""
    return {
        "aten_capability": torch.backends.cpu.get_cpu_capability(),
        **{name: os.environ.get(name, "") for name in KERNEL_VARIABLES},
    }


def settings_environment(device: torch.device) -> dict[str, object]:
    """What a result depends on besides params and that every machine reproduces: pinned
    library versions, device, threads and kernel paths. Saved in checkpoints."""
    return {
        "torch": str(torch.__version__),
        "numpy": np.__version__,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "kernels": kernels(),
    }


def environment(device: torch.device) -> dict[str, object]:
    """Everything about the run: settings_environment plus the machine's own facts (Python
    patch level, DVC, processor, cores), which differ between machines and so are kept out
    of byte-compared outputs.

    Versions come from the installed metadata: importing torchvision costs about 1 s a stage.
    """
    return {
        **settings_environment(device),
        "python": platform.python_version(),
        "torchvision": version("torchvision"),
        "dvc": version("dvc"),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
