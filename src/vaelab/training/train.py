"""The training loops: `fit` (autograd) for the classifier, `fit_stacked` for autoencoders and
VAEs, K at a time, whose steps `vaelab.training.stacked_step` writes out.

`fit`'s model kinds differ only in their `objective(model, x, y) -> {"loss": ..., ...}` (batch
means from `vaelab.core.objectives`). Both loops own shuffling, progress, NaN checks and per-epoch
test metrics.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import nn
from tqdm import tqdm

from vaelab.core import latents
from vaelab.data.mnist import iterate_batches
from vaelab.training.stacked_step import StackedStep

SPEED = "images_per_s"  # an epoch's training speed in its history (the machine's, not a result)

Objective = Callable[[nn.Module, torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]
EpochHook = Callable[[int, dict[str, float], dict], None]  # (epoch, metrics, optimizer state)
StackedHook = Callable[[int, int, dict[str, float], dict], None]  # (model index, epoch, …)


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class FitSettings:
    """What the loop needs from params.yaml, plus a label for messages ('vae β=5')."""

    epochs: int
    batch_size: int
    lr: float
    seed: int
    label: str
    eval_batch_size: int = 2000


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0
    images_seen: int = 0
    optimizer: torch.optim.Optimizer | None = None  # `fit`'s; `fit_stacked` has its own

    @property
    def images_per_second(self) -> float:
        return self.images_seen / self.train_seconds if self.train_seconds else 0.0


def _check_finite(terms: dict[str, float], settings: FitSettings, epoch: int, step: str) -> None:
    bad = {k: v for k, v in terms.items() if not math.isfinite(v)}
    if bad:
        raise TrainingDivergedError(
            f"{settings.label}: {', '.join(f'{k} = {v}' for k, v in bad.items())} at epoch "
            f"{epoch}, {step}; no checkpoint was written for this epoch. "
            f"Try a lower train.lr (now {settings.lr})."
        )


@torch.inference_mode()
def evaluate_terms(
    model: nn.Module, objective: Objective, x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> dict[str, float]:
    """Image-weighted means of the objective's terms over a whole split, in eval mode."""
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    for xb, yb in iterate_batches(x, y, batch_size):
        for key, value in objective(model, xb, yb).items():
            sums[key] = sums.get(key, 0.0) + float(value) * len(xb)
    model.train(was_training)
    return {key: total / len(x) for key, total in sums.items()}


def _train_epoch(
    model: nn.Module,
    objective: Objective,
    optimizer: torch.optim.Optimizer,
    data: tuple[torch.Tensor, torch.Tensor],
    generator: torch.Generator,
    settings: FitSettings,
    epoch: int,
) -> tuple[dict[str, float], float]:
    x, y = data
    model.train()
    sums: dict[str, torch.Tensor] = {}
    progress = _progress(settings, epoch, len(x))
    start = time.perf_counter()
    for step, (xb, yb) in enumerate(iterate_batches(x, y, settings.batch_size, generator), 1):
        terms = objective(model, xb, yb)
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        optimizer.step()
        detached = torch.stack([t.detach() for t in terms.values()])
        values = dict(zip(terms, detached.tolist(), strict=True))
        _check_finite(values, settings, epoch, f"step {step}")
        for key, value in zip(terms, detached * len(xb), strict=True):
            sums[key] = sums.get(key, 0.0) + value
        progress.update(len(xb))
        if step % 20 == 0:
            progress.set_postfix(loss=f"{values['loss']:.2f}")
    seconds = time.perf_counter() - start
    progress.close()
    return {key: float(total) / len(x) for key, total in sums.items()}, seconds


def fit(
    model: nn.Module,
    objective: Objective,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    settings: FitSettings,
    on_epoch_end: EpochHook | None = None,
) -> FitResult:
    """Train with Adam for `settings.epochs`; call `on_epoch_end(epoch, metrics, optimizer)`.

    metrics holds `train/<term>` and `test/<term>` means for the epoch. Shuffling uses its own
    generator seeded from `settings.seed`, so the data order does not depend on model noise.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, fused=True)
    generator = torch.Generator().manual_seed(settings.seed)
    result = FitResult(optimizer=optimizer)
    for epoch in range(1, settings.epochs + 1):
        train_terms, seconds = _train_epoch(
            model, objective, optimizer, train, generator, settings, epoch
        )
        test_terms = evaluate_terms(model, objective, *test, settings.eval_batch_size)
        metrics = _record_epoch(
            result, settings, epoch, train_terms, test_terms, seconds, len(train[0])
        )
        if on_epoch_end is not None:
            on_epoch_end(epoch, metrics, optimizer.state_dict())
    return result


def _record_epoch(
    result: FitResult,
    settings: FitSettings,
    epoch: int,
    train_terms: dict[str, float],
    test_terms: dict[str, float],
    seconds: float,
    images: int,
) -> dict[str, float]:
    """Both loops' end of an epoch: the `train/…` and `test/…` metrics, the totals, one line."""
    result.train_seconds += seconds
    result.images_seen += images
    metrics = {f"train/{k}": v for k, v in train_terms.items()}
    metrics |= {f"test/{k}": v for k, v in test_terms.items()}
    metrics[SPEED] = images / seconds
    result.history.append({"epoch": epoch, **metrics})
    print(
        f"{settings.label} epoch {epoch}/{settings.epochs}: train loss "
        f"{train_terms['loss']:.3f}, test loss {test_terms['loss']:.3f}, "
        f"{metrics[SPEED]:.0f} img/s",
        flush=True,
    )
    return metrics


def _progress(settings: FitSettings, epoch: int, total: int) -> tqdm:
    return tqdm(
        total=total,
        unit="img",
        unit_scale=True,
        leave=False,
        desc=f"{settings.label} epoch {epoch}",
        disable=not sys.stderr.isatty(),
    )


def _stacked_noise(
    step: StackedStep, n: int, generators: Sequence[torch.Generator], device: torch.device
) -> torch.Tensor:
    """Each VAE's n draws of ε (the family's unit noise; N(0, I) for `normal`) from its own
    generator, and zeros for each AE (whose generator draws only its order): (K, n, D)."""
    shape = (n, step.latent_dim)
    draws = [
        latents.unit_noise(step.family, shape, g) if noisy else torch.zeros(shape)
        for g, noisy in zip(generators, step.stochastic, strict=True)
    ]
    return torch.stack(draws).to(device)


def _stacked_epoch(
    step: StackedStep,
    train_x: torch.Tensor,
    generators: Sequence[torch.Generator],
    settings: FitSettings,
    epoch: int,
) -> tuple[list[dict[str, float]], float]:
    """One shuffled pass of every model. Each model's order, then its ε, come from its own
    generator, drawn up front; the batch sums stay on the device (one sync, at the end)."""
    n = len(train_x)
    orders = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(train_x.device)
    noise = _stacked_noise(step, n, generators, train_x.device)
    progress = _progress(settings, epoch, n * len(step))
    start = time.perf_counter()
    sums, keys = None, ()
    for first in range(0, n, settings.batch_size):
        last = min(first + settings.batch_size, n)
        rows = orders[:, first:last].reshape(-1)
        x = train_x.index_select(0, rows).view(len(step), last - first, -1)
        terms = step.step(x, noise[:, first:last])
        stacked = torch.stack(tuple(terms.values()), dim=1) * (last - first)
        sums, keys = (stacked, tuple(terms)) if sums is None else (sums.add_(stacked), keys)
        if first % (100 * settings.batch_size) == 0:
            progress.update(min(100 * settings.batch_size, n - first) * len(step))
    seconds = time.perf_counter() - start
    progress.close()
    return _per_model(step, keys, [[t / n for t in row] for row in sums.tolist()]), seconds


def _per_model(step: StackedStep, keys, rows: list[list[float]]) -> list[dict[str, float]]:
    """Each model's terms by name, without those its objective does not have."""
    found = [dict(zip(keys, row, strict=True)) for row in rows]
    return [{n: terms[n] for n in step.term_names(k)} for k, terms in enumerate(found)]


@torch.no_grad()
def evaluate_stacked(
    step: StackedStep, x: torch.Tensor, batch_size: int, seeds: Sequence[int]
) -> list[dict[str, float]]:
    """Each model's image-weighted means of the objective's terms over a split, without a
    step; model k's ε comes from a generator seeded with seeds[k], the same every call."""
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]
    sums = None
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        eps = _stacked_noise(step, len(xb), generators, xb.device)
        terms = step.loss_terms(xb.expand(len(step), -1, -1), eps)[0]
        stacked = torch.stack(tuple(terms.values()), dim=1).double() * len(xb)
        sums = stacked if sums is None else sums + stacked
    return _per_model(step, tuple(terms), [[t / len(x) for t in row] for row in sums.tolist()])


def fit_stacked(
    step: StackedStep,
    train_x: torch.Tensor,
    test_x: torch.Tensor,
    settings: Sequence[FitSettings],
    on_epoch_end: StackedHook | None = None,
) -> list[FitResult]:
    """Train the step's K models for `settings[0].epochs`, model k with settings[k]'s seed and
    label; call `on_epoch_end(k, epoch, metrics, adam)` for each model after each epoch.

    Model k's generator, seeded from its seed, draws each epoch's order, then its ε; its test
    terms use their own generator, the same every epoch, so they never shift training. What
    model k computes does not depend on the other models (`vaelab.training.stacked_step`).
    """
    shared = settings[0]
    if len(settings) != len(step) or any(
        (s.epochs, s.batch_size) != (shared.epochs, shared.batch_size) for s in settings
    ):
        raise ValueError("models trained together need one FitSettings each, with one schedule")
    generators = [torch.Generator().manual_seed(s.seed) for s in settings]
    results = [FitResult() for _ in settings]
    label = shared.label if len(step) == 1 else f"{len(step)} models ({shared.label}, …)"
    group = replace(shared, label=label)
    for epoch in range(1, shared.epochs + 1):
        train_terms, seconds = _stacked_epoch(step, train_x, generators, group, epoch)
        test_terms = evaluate_stacked(
            step, test_x, shared.eval_batch_size, [s.seed for s in settings]
        )
        for k, (one, result) in enumerate(zip(settings, results, strict=True)):
            _check_finite(train_terms[k], one, epoch, "a step of this epoch")
            metrics = _record_epoch(
                result, one, epoch, train_terms[k], test_terms[k], seconds, len(train_x)
            )
            if on_epoch_end is not None:
                on_epoch_end(k, epoch, metrics, step.optimizer_state(k))
    return results
