"""One ruler for every training loop the bench compares: `warmup` untimed windows, then the
median rate of `windows` equal windows of `steps` steps, each timed whole.

Why: the old bench set the median of our warm epochs, with the shuffle gather left out,
against one cold epoch of the baseline. Here every window of every loop counts its own
shuffle, batch gather, ε draws, step and loss read-back, and every loop warms up first.

The loops: ours (`fit_stacked`, K models in one written-out step, as the pipeline trains),
and the plain eager loop (autograd and `torch.optim.Adam`, as a user writes it) on in-memory
tensors or through the PyTorch-examples DataLoader. The plain loop's flush-to-zero and fused
Adam are switches (`Plain`), so the bench can report each effect as its own row.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader

from vaelab.core import objectives
from vaelab.data.files import PIXELS
from vaelab.training.stacked_step import StackedStep
from vaelab.training.train import FitSettings, fit_stacked


@dataclass(frozen=True)
class Timing:
    """`warmup` untimed windows, then `windows` timed ones, each of `steps` steps (fewer when
    the training set holds fewer)."""

    steps: int
    windows: int = 3
    warmup: int = 1

    def __post_init__(self) -> None:
        if self.windows < 3 or self.warmup < 1 or self.steps < 1:
            raise ValueError("time at least 3 windows of at least one step, after a warm-up")


@dataclass(frozen=True)
class Rates:
    """Images per second of each timed window (all models counted), and the mean loss of the
    first warm-up window (model 0's), which says both loops train the same model."""

    per_window: tuple[float, ...]
    first_loss: float

    @property
    def median(self) -> float:
        return statistics.median(self.per_window)


@dataclass(frozen=True)
class Plain:
    """The plain loop's switches: flush subnormals to zero, and Adam's fused kernel."""

    ftz: bool = False
    fused: bool = False


PLAIN_VARIANTS = {
    "plain": Plain(),
    "plain_ftz": Plain(ftz=True),
    "plain_ftz_fused": Plain(ftz=True, fused=True),
}


def stacked_windows(
    step: StackedStep, x: torch.Tensor, settings: Sequence[FitSettings], timing: Timing
) -> Rates:
    """Our loop: each window is one `fit_stacked` epoch over `timing.steps` batches of x
    (N, 784), timed around the call (order and ε draws included; its test pass sees one
    batch). Rates count every model's images."""
    batch = settings[0].batch_size
    n = min(len(x), timing.steps * batch)
    rates, first_loss = [], float("nan")
    for window in range(timing.warmup + timing.windows):
        at = (window * n) % (len(x) - n + 1)
        images = x[at : at + n]
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # fit_stacked prints each epoch
            results = fit_stacked(step, images, images[:batch], settings)
        seconds = time.perf_counter() - start
        if window == 0:
            first_loss = results[0].history[0]["train/loss"]
        if window >= timing.warmup:
            rates.append(len(step) * n / seconds)
    return Rates(tuple(rates), first_loss)


def plain_optimizer(
    model: nn.Module, lr: float, eps: float, plain: Plain
) -> torch.optim.Optimizer:
    """torch.optim.Adam as a user writes it, with `plain`'s switches; FTZ holds for this
    thread from here on (the stages set it through `runtime.set_threads`)."""
    torch.set_flush_denormal(plain.ftz)
    return torch.optim.Adam(
        model.parameters(), lr=lr, eps=eps, fused=True if plain.fused else None
    )


def plain_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    xb: torch.Tensor,
    beta: float,
    likelihood: objectives.Likelihood,
) -> float:
    """One autograd step of the study's loss on xb (B, 784); its loss, read back each step
    (a user's running loss)."""
    recon, mu, logvar = model(xb)
    kl_logvar = model.objective_logvar(logvar)
    loss = objectives.beta_vae_terms(recon, xb, mu, kl_logvar, beta, likelihood)["loss"]
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def eager_windows(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    batch: int,
    beta: float,
    likelihood: objectives.Likelihood,
    timing: Timing,
) -> Rates:
    """The plain loop on in-memory x (N, 784): each window shuffles, then gathers each batch."""
    steps = min(timing.steps, len(x) // batch)
    model.train()
    rates, first_loss = [], float("nan")
    for window in range(timing.warmup + timing.windows):
        start = time.perf_counter()
        order = torch.randperm(len(x))
        losses = [
            plain_step(model, optimizer, x[order[i * batch : (i + 1) * batch]], beta, likelihood)
            for i in range(steps)
        ]
        seconds = time.perf_counter() - start
        if window == 0:
            first_loss = sum(losses) / len(losses)
        if window >= timing.warmup:
            rates.append(steps * batch / seconds)
    return Rates(tuple(rates), first_loss)


def naive_loader(root: str, batch_size: int) -> DataLoader:
    """The PyTorch examples' input pipeline: per-image PIL -> ToTensor, default collate."""
    dataset = torchvision.datasets.MNIST(
        root=str(root), train=True, download=False, transform=torchvision.transforms.ToTensor()
    )
    return DataLoader(dataset, batch_size=batch_size, shuffle=True)


def loader_windows(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: DataLoader,
    beta: float,
    likelihood: objectives.Likelihood,
    timing: Timing,
) -> Rates:
    """The pytorch/examples `vae/main.py` loop: each window is a fresh pass of the loader
    (its shuffle and decoding timed), cut after `timing.steps` batches."""
    model.train()
    rates, first_loss = [], float("nan")
    for window in range(timing.warmup + timing.windows):
        images, loss_sum = 0, 0.0
        start = time.perf_counter()
        for index, (data, _) in enumerate(loader):
            if index == timing.steps:
                break
            data = data.view(-1, PIXELS)
            loss_sum += plain_step(model, optimizer, data, beta, likelihood) * len(data)
            images += len(data)
        seconds = time.perf_counter() - start
        if window == 0:
            first_loss = loss_sum / images
        if window >= timing.warmup:
            rates.append(images / seconds)
    return Rates(tuple(rates), first_loss)
