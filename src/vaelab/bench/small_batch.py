"""The study setup's small batches: a plain eager PyTorch step against the written-out one
(`vaelab.training.explicit_step`).

Per model-step on real MNIST at the study setup's batch size, all in one process run:
- the plain loop: autograd, `torch.optim.Adam`, `loss.item()` each step, as a user writes it,
  at 1 and at 2 threads (the faster is the baseline);
- the pipeline's step: written out, one thread, subnormals flushed;
- two such processes at once, one per core: what `dvc queue start -j 2` gets from a machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from vaelab.core import objectives, params
from vaelab.core.models import build_autoencoder
from vaelab.core.runtime import seed_everything, set_threads
from vaelab.data.mnist import load_mnist
from vaelab.training.explicit_step import AdamSettings, ExplicitStep

SETUP = "study"
BETA = 1.0
WARMUP, STEPS = 300, 3000


def _setup_and_data(data_root: Path) -> tuple[params.Setup, torch.Tensor]:
    setup = params.load_setup(SETUP)
    train, _ = load_mnist(data_root)
    return setup, train.flat_float()


def _model(setup: params.Setup):
    seed_everything(setup.train.seeds[0])
    m = setup.model
    return build_autoencoder("vae", m.hidden, m.latent_dim, m.init, m.sampling)


def _timed(step, x: torch.Tensor, batch: int) -> float:
    """Seconds per step over STEPS steps after WARMUP, walking through x in order."""
    n = len(x) // batch
    for i in range(WARMUP):
        step(x[(i % n) * batch : (i % n + 1) * batch])
    start = time.perf_counter()
    for i in range(STEPS):
        step(x[(i % n) * batch : (i % n + 1) * batch])
    return (time.perf_counter() - start) / STEPS


def plain_step_seconds(setup: params.Setup, x: torch.Tensor, threads: int) -> float:
    """The plain eager loop's step: what `python train.py` from a tutorial does."""
    set_threads(threads)
    model = _model(setup)
    torch.set_flush_denormal(False)  # a plain loop does not know about subnormals
    likelihood = objectives.Likelihood(setup.model.likelihood, setup.model.gaussian_variance)
    adam = torch.optim.Adam(model.parameters(), lr=setup.train.lr, eps=setup.train.adam_eps)

    def step(xb: torch.Tensor) -> None:
        mu, logvar = model.encode(xb)
        logits = model.decode(model.latent(mu, logvar))
        kl_logvar = model.objective_logvar(logvar)
        loss = objectives.beta_vae_terms(logits, xb, mu, kl_logvar, BETA, likelihood)["loss"]
        adam.zero_grad()
        loss.backward()
        adam.step()
        loss.item()

    return _timed(step, x, setup.train.batch_size)


def explicit_step_seconds(setup: params.Setup, x: torch.Tensor) -> float:
    """The pipeline's step, as the training stages run it (one thread, FTZ)."""
    model = _model(setup)  # seeds and sets FTZ
    set_threads(setup.train.threads)
    likelihood = objectives.Likelihood(setup.model.likelihood, setup.model.gaussian_variance)
    adam = AdamSettings(setup.train.lr, setup.train.adam_eps)
    step = ExplicitStep(model, BETA, likelihood, adam)
    noise = torch.randn(len(x), setup.model.latent_dim)
    batch = setup.train.batch_size
    sums = torch.zeros(3)

    def one(xb: torch.Tensor) -> None:
        terms = step.step(xb, noise[: len(xb)])
        sums.add_(torch.stack(tuple(terms.values())))

    return _timed(one, x, batch)


def _two_processes(data_root: Path) -> list[float]:
    """Two workers started together, each timing the explicit step on its own core."""
    command = [sys.executable, "-m", "vaelab.bench.small_batch", "--worker", str(data_root)]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    found = [json.loads(w.communicate()[0]) for w in workers]
    if any(w.returncode for w in workers):
        raise RuntimeError("a small-batch bench worker failed")
    return [f["seconds_per_step"] for f in found]


def measure(data_root: Path) -> dict[str, Any]:
    """Per-step seconds and model-steps per second of each way, and the ratios."""
    setup, x = _setup_and_data(data_root)
    plain = {t: plain_step_seconds(setup, x, t) for t in (1, 2)}
    ours = explicit_step_seconds(setup, x)
    pair = _two_processes(data_root) if len(os.sched_getaffinity(0)) >= 2 else [ours]
    baseline = min(plain.values())
    machine_rate = sum(1 / s for s in pair)
    return {
        "small_batch": setup.train.batch_size,
        "plain_step_ms_1_thread": plain[1] * 1e3,
        "plain_step_ms_2_threads": plain[2] * 1e3,
        "explicit_step_ms": ours * 1e3,
        "explicit_speedup_one_process": baseline / ours,
        "explicit_two_process_model_steps_per_s": machine_rate,
        "explicit_speedup_whole_machine": machine_rate * baseline,
    }


ROWS = (
    ("study setup, batch", "small_batch", "{}"),
    ("  plain eager step, 1 thread (ms)", "plain_step_ms_1_thread", "{:.3f}"),
    ("  plain eager step, 2 threads (ms)", "plain_step_ms_2_threads", "{:.3f}"),
    ("  explicit step, 1 thread (ms)", "explicit_step_ms", "{:.3f}"),
    ("  speedup, one process (as dvc repro runs)", "explicit_speedup_one_process", "{:.2f}×"),
    ("  speedup, two processes (target ≥ 4×)", "explicit_speedup_whole_machine", "{:.2f}×"),
)


def _worker(data_root: Path) -> None:
    setup, x = _setup_and_data(data_root)
    print(json.dumps({"seconds_per_step": explicit_step_seconds(setup, x)}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        _worker(Path(sys.argv[2]))
