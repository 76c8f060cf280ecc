"""One process of the study network's whole-machine rows (`vaelab.bench.study`).

`python -m vaelab.bench.study_worker SPEC` loads MNIST, builds its models and loop, prints
`ready`, waits for a line on stdin (so that every worker of a row starts its windows at
once), times them (`vaelab.bench.loops`), and prints one JSON line: its median images/s,
each window's, its kernels and when it ran.

SPEC (JSON): `path` (a key of `loops.PLAIN_VARIANTS`, or `stacked`), `setup`, `data`,
`models` ([β, seed] each; a plain worker trains the first), `steps`, `windows`, `warmup`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from vaelab.bench.loops import (
    PLAIN_VARIANTS,
    Rates,
    Timing,
    eager_windows,
    plain_optimizer,
    stacked_windows,
)
from vaelab.core import objectives, params
from vaelab.core.models import AE, autoencoder_for
from vaelab.core.runtime import kernels, seed_everything, set_threads
from vaelab.data.mnist import load_mnist
from vaelab.training.stacked_step import AdamSettings, StackedStep
from vaelab.training.train import FitSettings

READY, GO = "ready", "go"
STACKED = "stacked"


def _vae(setup: params.Setup, seed: int) -> AE:
    """The setup's VAE, initialised from `seed` as its training stage does."""
    seed_everything(seed)
    return autoencoder_for("vae", setup.model)


def prepare(spec: dict[str, Any]) -> Callable[[], Rates]:
    """Everything but the timed loop: data, models, optimiser. Returns the loop to time."""
    setup = params.load_setup(spec["setup"])
    train_p, model_p = setup.train, setup.model
    set_threads(train_p.threads)
    x = load_mnist(spec["data"])[0].flat_float()
    likelihood = objectives.Likelihood(model_p.likelihood, model_p.gaussian_variance)
    timing = Timing(spec["steps"], spec["windows"], spec["warmup"])
    models = [(float(beta), int(seed)) for beta, seed in spec["models"]]
    if spec["path"] == STACKED:
        step = StackedStep(
            [_vae(setup, seed) for _, seed in models],
            [beta for beta, _ in models],
            likelihood,
            AdamSettings(train_p.lr, train_p.adam_eps),
        )
        settings = [
            FitSettings(1, train_p.batch_size, train_p.lr, seed, f"β={beta}", train_p.batch_size)
            for beta, seed in models
        ]
        return lambda: stacked_windows(step, x, settings, timing)
    beta, seed = models[0]
    model = _vae(setup, seed)
    optimizer = plain_optimizer(model, train_p.lr, train_p.adam_eps, PLAIN_VARIANTS[spec["path"]])
    return lambda: eager_windows(model, optimizer, x, train_p.batch_size, beta, likelihood, timing)


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    loop = prepare(spec)
    print(READY, flush=True)
    if sys.stdin.readline().strip() != GO:
        return 1
    start = time.time()
    rates = loop()
    end = time.time()
    found = {
        "images_per_s": rates.median,
        "per_window": list(rates.per_window),
        "first_loss": rates.first_loss,
        "models": len(spec["models"]) if spec["path"] == STACKED else 1,
        "kernels": kernels(),
        "span": [start, end],
    }
    print(json.dumps(found), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
