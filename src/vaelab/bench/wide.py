"""The wide setup's large batches in this process: our loop (`fit_stacked`, K = 1, the wide
setup's batch and threads) against the PyTorch-examples DataLoader loop, plain, with
flush-to-zero, and with fused Adam too; and the IWAE pass's throughput.

Every loop is timed with the same ruler (`vaelab.bench.loops`); every model starts from the
same seed's weights.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vaelab.bench.loops import (
    PLAIN_VARIANTS,
    Timing,
    loader_windows,
    naive_loader,
    plain_optimizer,
    stacked_windows,
)
from vaelab.core import objectives, params
from vaelab.core.models import AE, autoencoder_for
from vaelab.core.runtime import seed_everything, set_threads
from vaelab.data.mnist import load_mnist
from vaelab.evaluation import metrics
from vaelab.training.stacked_step import AdamSettings, StackedStep
from vaelab.training.train import FitSettings

SETUP = "wide"
BETA = 1.0  # the study's VAE


def _vae(setup: params.Setup) -> AE:
    seed_everything(setup.train.seeds[0])
    return autoencoder_for("vae", setup.model)


def _loops(setup: params.Setup, data_root: Path, train_x: torch.Tensor, timing: Timing):
    """Our loop's rates, then each plain DataLoader loop's; and the last model trained."""
    model_p, train_p = setup.model, setup.train
    likelihood = objectives.Likelihood(model_p.likelihood, model_p.gaussian_variance)
    model = _vae(setup)
    step = StackedStep([model], [BETA], likelihood, AdamSettings(train_p.lr, train_p.adam_eps))
    settings = [FitSettings(1, train_p.batch_size, train_p.lr, 0, "bench", train_p.batch_size)]
    ours = stacked_windows(step, train_x, settings, timing)
    found = {"wide_ours_images_per_s": ours.median, "wide_ours_first_loss": ours.first_loss}
    loader = naive_loader(str(data_root), train_p.batch_size)
    for name, plain in PLAIN_VARIANTS.items():
        model = _vae(setup)
        optimizer = plain_optimizer(model, train_p.lr, train_p.adam_eps, plain)
        rates = loader_windows(model, optimizer, loader, BETA, likelihood, timing)
        found[f"wide_{name}_images_per_s"] = rates.median
        found[f"wide_{name}_first_loss"] = rates.first_loss
        found[f"wide_ours_vs_{name}"] = ours.median / rates.median
    return found, model


def measure(data_root: Path, steps: int, windows: int = 3) -> dict[str, Any]:
    """Images/s of each loop (median of `windows` windows of `steps` batches, after one),
    on the setup's threads; and IWAE samples/s."""
    setup, eval_p = params.load_setup(SETUP), params.load("eval")
    threads = torch.get_num_threads()
    set_threads(setup.train.threads)
    try:
        train, test = load_mnist(data_root)
        train_x = train.flat_float()
        found, model = _loops(setup, data_root, train_x, Timing(steps, windows))
        found |= {"wide_threads": setup.train.threads, "wide_batch": setup.train.batch_size}
        found["vae_epoch_seconds"] = len(train_x) / found["wide_ours_images_per_s"]
        seed_everything(eval_p.seed)
        torch.set_flush_denormal(True)  # back on (the plain loops may turn it off), as staged
        likelihood = objectives.Likelihood(setup.model.likelihood, setup.model.gaussian_variance)
        found["iwae_k"] = eval_p.iwae_k
        found["iwae_samples_per_s"] = iwae_samples_per_s(
            model, test.flat_float(), likelihood, eval_p.iwae_k, eval_p.batch_size
        )
    finally:
        set_threads(threads)
    return found


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
    generator = torch.Generator().manual_seed(0)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, len(test_x), per_batch):
            metrics.importance_log_weights(
                model, test_x[i : i + per_batch], likelihood, k, generator
            )
        best = min(best, time.perf_counter() - start)
    return len(test_x) * k / best
