"""The study's training runs: the classifier baseline, the autoencoder and one VAE per β.

Each run builds its model from params, trains it (`vaelab.training.train`), logs every epoch
through dvclive and writes checkpoints; stage scripts only parse paths and call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from dvclive import Live

from vaelab.core import objectives, params
from vaelab.core.checkpoints import checkpoint_path, save_checkpoint
from vaelab.core.io import atomic_dir
from vaelab.core.models import Classifier, autoencoder_for
from vaelab.core.names import CLASSIFIER, classifier_name, kind_of, model_name
from vaelab.core.runtime import (
    environment,
    resolve_device,
    seed_everything,
    set_threads,
    settings_environment,
)
from vaelab.data.mnist import load_mnist
from vaelab.training.stacked_step import AdamSettings, StackedStep
from vaelab.training.train import SPEED, FitSettings, fit, fit_stacked


def _prepare(seed: int, train_p: params.TrainParams) -> torch.device:
    seed_everything(seed)
    set_threads(train_p.threads)
    return resolve_device(train_p.device)


def _load_data(data_root: Path, device: torch.device):
    train, test = load_mnist(data_root)
    return (
        (train.flat_float().to(device), train.labels.to(device)),
        (test.flat_float().to(device), test.labels.to(device)),
    )


def _training_params(clf_p: params.ClassifierParams) -> dict[str, Any]:
    """The classifier params that shape one classifier: all but the ensemble's seed list,
    which a classifier does not depend on (adding a seed must not change the others)."""
    return {k: v for k, v in params.as_dict(clf_p).items() if k != "seeds"}


def _log_epoch(live: Live, epoch: int, metrics: dict[str, float]) -> None:
    """The epoch's results in dvclive's logs; its speed stays out (it is the machine's)."""
    live.step = epoch
    for key, value in metrics.items():
        if key != SPEED:
            live.log_metric(key, value)
    live.make_summary()


def _runtime(result, device: torch.device, together: int = 1) -> dict[str, Any]:
    """The run's speed and machine: its runtime record, which the stage writes under
    runtime/, outside git and DVC, since it differs between machines. A run trained with
    `together - 1` others counts its share of their seconds; the speed is all of theirs."""
    return {
        "train_seconds": result.train_seconds / together,
        "images_per_s": result.images_per_second * together,
        "models_in_step": together,
        "environment": environment(device),
    }


def setup_params(setup: params.Setup) -> dict[str, Any]:
    """The params one run of a setup was trained with, as saved in its checkpoints: the
    setup's model and train, less the seed lists (the run's own seed is saved beside them)."""
    train = {k: v for k, v in params.as_dict(setup.train).items() if k not in params.SEED_KEYS}
    return {"setup": setup.name, "model": params.model_record(setup.model), "train": train}


@dataclass(frozen=True)
class AutoencoderRun:
    """One training stage's run: the AE (beta None) or a β-VAE, with one seed, and where its
    checkpoints, dvclive logs and runtime record go."""

    beta: float | None
    seed: int
    model_dir: Path
    live_dir: Path

    @property
    def kind(self) -> str:
        return kind_of(self.beta)


def _epoch_hook(run: AutoencoderRun, setup: params.Setup, model, live, staging, meta):
    """What happens to model k after each epoch: its KL shares, its dvclive step, and at
    `train.checkpoints` its checkpoint."""

    def on_epoch_end(epoch: int, metrics: dict[str, float], adam_state: dict) -> None:
        if run.kind == "vae":
            for split in ("train", "test"):
                shares = objectives.kl_shares(
                    metrics[f"{split}/recon"], metrics[f"{split}/kl"], run.beta
                )
                metrics |= {f"{split}/{k}": v for k, v in shares.items()}
        _log_epoch(live, epoch, metrics)
        if epoch in setup.train.checkpoints:
            save_checkpoint(checkpoint_path(staging, epoch), model, adam_state, epoch, **meta)

    return on_epoch_end


def train_autoencoders(
    steps: Sequence[Sequence[AutoencoderRun]], setup: params.Setup, data_root: Path
) -> list[list[dict[str, Any]]]:
    """Train each group of `steps` (AEs and VAEs of `setup`) together, one group after the
    other, each run as it would train alone (`vaelab.training.stacked_step`); checkpoint each
    at `train.checkpoints`; return each run's runtime record, by group. The data is loaded
    once for every group."""
    set_threads(setup.train.threads)
    device = resolve_device(setup.train.device)
    train, test = _load_data(data_root, device)
    return [_train_together(runs, setup, train[0], test[0], device) for runs in steps]


def _train_together(
    runs: Sequence[AutoencoderRun],
    setup: params.Setup,
    train_x: torch.Tensor,
    test_x: torch.Tensor,
    device: torch.device,
) -> list[dict[str, Any]]:
    model_p, train_p = setup.model, setup.train
    models = []
    for run in runs:  # each model's initial weights come from its own seed, as alone
        seed_everything(run.seed)
        models.append(autoencoder_for(run.kind, model_p).to(device))
    likelihood = objectives.Likelihood(model_p.likelihood, model_p.gaussian_variance)
    adam = AdamSettings(train_p.lr, train_p.adam_eps)
    step = StackedStep(models, [run.beta for run in runs], likelihood, adam)
    settings = [
        FitSettings(
            epochs=train_p.epochs,
            batch_size=train_p.batch_size,
            lr=train_p.lr,
            seed=run.seed,
            label=f"{setup.name} {model_name(run.beta)} seed {run.seed}",
        )
        for run in runs
    ]
    lives = [Live(str(run.live_dir), dvcyaml=False, save_dvc_exp=False) for run in runs]
    metas = [
        {
            "kind": run.kind,
            "beta": run.beta,
            "seed": run.seed,
            "sampling": model_p.sampling if run.kind == "vae" else None,
            "environment": settings_environment(device),
            "params": setup_params(setup),
        }
        for run in runs
    ]
    # Checkpoints go to temporary folders that become the runs' model folders only when
    # every run has written all of its own.
    with ExitStack() as stack:
        stagings = [stack.enter_context(atomic_dir(run.model_dir)) for run in runs]
        hooks = [
            _epoch_hook(run, setup, model, live, staging, meta)
            for run, model, live, staging, meta in zip(
                runs, models, lives, stagings, metas, strict=True
            )
        ]

        def on_epoch_end(k: int, epoch: int, metrics: dict[str, float], adam: dict) -> None:
            if epoch in train_p.checkpoints:
                step.write_to(k, models[k])
            hooks[k](epoch, metrics, adam)

        results = fit_stacked(step, train_x, test_x, settings, on_epoch_end)
    for meta, live in zip(metas, lives, strict=True):
        live.summary["seed"] = meta["seed"]
        live.summary["sampling"] = meta["sampling"]
        live.make_summary()
        live.end()
    return [_runtime(result, device, len(runs)) for result in results]


def train_classifier(
    clf_p: params.ClassifierParams,
    seed: int,
    train_p: params.TrainParams,
    data_root: Path,
    model_path: Path,
    live_dir: Path,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one digit classifier of the ensemble; return its test accuracy and baseline
    confidence (its mean top-class probability on the real test digits), and its speed."""
    device = _prepare(seed, train_p)
    train, test = _load_data(data_root, device)
    model = Classifier(clf_p.hidden, clf_p.dropout).to(device)
    settings = FitSettings(
        epochs=clf_p.epochs,
        batch_size=clf_p.batch_size,
        lr=clf_p.lr,
        seed=seed,
        label=classifier_name(seed),
    )
    live = Live(str(live_dir), dvcyaml=False, save_dvc_exp=False)
    result = fit(
        model,
        objectives.classifier_objective,
        train,
        test,
        settings,
        lambda epoch, metrics, _opt: _log_epoch(live, epoch, metrics),
    )
    live.end()
    final = result.history[-1]
    summary = {
        "test_accuracy": final["test/accuracy"],
        "baseline_confidence": float(model.predict(test[0], settings.eval_batch_size)[0].mean()),
        "seed": seed,
        "environment": settings_environment(device),
        "params": _training_params(clf_p),
    }
    save_checkpoint(
        model_path,
        model,
        result.optimizer.state_dict(),
        clf_p.epochs,
        kind=CLASSIFIER,
        seed=seed,
        params=summary["params"],
        environment=summary["environment"],
    )
    return summary, _runtime(result, device)
