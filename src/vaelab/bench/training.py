"""Throughput on the real MNIST: our training loop, the naive DataLoader loop, the IWAE pass
and the peak matmul rate they are compared with. All measured in one process, same threads.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader

from vaelab.core import objectives
from vaelab.data.files import PIXELS, raw_dir
from vaelab.evaluation import metrics
from vaelab.training.explicit_step import AdamSettings, ExplicitStep
from vaelab.training.train import FitSettings, fit_explicit


@dataclass(frozen=True)
class EpochStats:
    """One pass of a training loop: images seen, seconds of training steps, mean loss."""

    images: int
    seconds: float
    mean_loss: float

    @property
    def images_per_s(self) -> float:
        return self.images / self.seconds


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_matmul_flops(size: int = 2048, repeats: int = 5, device: str = "cpu") -> float:
    """Best FLOP/s of a (size × size) @ (size × size) float32 matmul: the machine's ceiling.

    2·n³ FLOPs per product; the best of `repeats` (after one warm-up) discards noise from
    other processes, which can only slow a run down.
    """
    device = torch.device(device)
    a, b = (torch.randn(size, size, device=device) for _ in range(2))
    out = torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        torch.matmul(a, b, out=out)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def fit_epochs(
    model: nn.Module,
    train_x: torch.Tensor,
    batch_size: int,
    lr: float,
    beta: float,
    likelihood: objectives.Likelihood,
    epochs: int,
    seed: int = 0,
) -> list[EpochStats]:
    """Our loop: `vaelab.training.train.fit_explicit` (in-memory batches, the written-out step) for
    `epochs` epochs.

    train_x: (N, 784) on the model's device. Only the training steps are timed (the loop's
    own `images_per_s`); the per-epoch test pass sees one batch so it costs nothing.
    """
    settings = FitSettings(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        label="bench",
        eval_batch_size=batch_size,
    )
    step = ExplicitStep(model, beta, likelihood, AdamSettings(lr, 1e-8))
    with contextlib.redirect_stdout(io.StringIO()):  # the loop prints one line per epoch
        result = fit_explicit(step, train_x, train_x[:batch_size], settings)
    return [
        EpochStats(len(train_x), len(train_x) / row["images_per_s"], row["train/loss"])
        for row in result.history
    ]


def mnist_dataset(root: str) -> torchvision.datasets.MNIST:
    """torchvision's MNIST over the pipeline's IDX files: one PIL image per `__getitem__`."""
    return torchvision.datasets.MNIST(
        root=str(root), train=True, download=False, transform=torchvision.transforms.ToTensor()
    )


def naive_loader(root: str, batch_size: int) -> DataLoader:
    """The PyTorch examples' input pipeline: per-image PIL -> ToTensor, default collate."""
    return DataLoader(mnist_dataset(root), batch_size=batch_size, shuffle=True)


def naive_epoch(
    model: nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    beta: float,
    likelihood: objectives.Likelihood,
    max_batches: int | None = None,
) -> EpochStats:
    """The pytorch/examples `vae/main.py` loop, with this study's loss (batch mean)."""
    device = next(model.parameters()).device
    model.train()
    images, loss_sum = 0, 0.0
    start = time.perf_counter()
    for batch_idx, (data, _) in enumerate(loader):
        if max_batches is not None and batch_idx == max_batches:
            break
        data = data.to(device).view(-1, PIXELS)
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = objectives.beta_vae_terms(recon_batch, data, mu, logvar, beta, likelihood)["loss"]
        loss.backward()
        loss_sum += loss.item() * len(data)
        optimizer.step()
        images += len(data)
    _sync(device)
    return EpochStats(images, time.perf_counter() - start, loss_sum / images)


def median_rate(stats: list[EpochStats]) -> float:
    return statistics.median(s.images_per_s for s in stats)


@torch.inference_mode()
def iwae_samples_per_s(
    model: nn.Module,
    test_x: torch.Tensor,
    likelihood: objectives.Likelihood,
    k: int,
    eval_batch_size: int,
    repeats: int = 3,
) -> float:
    """Importance samples (decodes) per second over the test set, batched as `evaluate` does.

    test_x: (N, 784). Best of `repeats` passes; each pass makes N·k samples.
    """
    model.eval()
    per_batch = max(1, eval_batch_size // k)
    generator = torch.Generator(device=test_x.device).manual_seed(0)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, len(test_x), per_batch):
            metrics.importance_log_weights(
                model, test_x[i : i + per_batch], likelihood, k, generator
            )
        _sync(test_x.device)
        best = min(best, time.perf_counter() - start)
    return len(test_x) * k / best


def check_raw_data(root: str) -> None:
    """Raise FileNotFoundError with the fix when the pipeline's MNIST is not there yet."""
    folder = raw_dir(root)
    if not folder.is_dir() or len(list(folder.glob("*-ubyte"))) < 4:
        raise FileNotFoundError(
            f"{folder}: MNIST not found; run `make repro` first (or `dvc repro download`)"
        )
