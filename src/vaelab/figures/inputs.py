"""What the figures stage reads: checkpoints, metrics/eval JSON and dvclive curves.

Every input is checked before the first figure is drawn, so a missing β, epoch or metrics
file stops the stage with an error naming the `dvc repro` target that makes it, and no
figure of a half-finished study is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from matplotlib.figure import Figure

from vaelab.core import latents, params
from vaelab.core.checkpoints import (
    CheckpointError,
    checkpoint_path,
    load_autoencoder,
    read_checkpoint,
)
from vaelab.core.io import read_json
from vaelab.core.models import AE
from vaelab.core.names import (
    Run,
    beta_tag,
    curve_path,
    epoch_key,
    eval_path,
    eval_target,
    model_dir,
    model_name,
    runs_of,
    train_target,
)
from vaelab.figures.primitives import save_figure

# The test-split dvclive logs that figures 10–11 draw; the AE logs only loss and recon.
VAE_CURVES = ("loss", "recon", "kl", "kl_share")


class FiguresError(RuntimeError):
    """An input of the figures stage that is missing or does not fit the params."""


@dataclass
class Inputs:
    """Loads each checkpoint, metrics file and curve once, checking it fits the params."""

    models: Path  # the root: models/<setup>/<model>/seed_<seed> under it
    metrics: Path  # the root: metrics/runs/<setup>/ under it
    run: Run
    model_p: params.ModelParams
    checkpoints: tuple[int, ...]
    vae_betas: tuple[float, ...]
    _models: dict[tuple[float | None, int], AE] = field(default_factory=dict)
    _evaluations: dict[float | None, dict[str, Any]] = field(default_factory=dict)

    def _require_trained(self, beta: float | None) -> None:
        target = train_target(beta, self.run)
        if beta is not None and beta not in self.vae_betas:
            raise FiguresError(
                f"figures need the β = {beta_tag(beta)} VAE, but vae.betas = "
                f"{list(self.vae_betas)} does not train it; add it to vae.betas "
                f"in params.yaml and run `dvc repro {target}`"
            )
        if not model_dir(self.models, self.run, beta).is_dir():
            raise FiguresError(
                f"{model_dir(self.models, self.run, beta)} not found: the "
                f"{model_name(beta)} model was not trained; "
                f"run `dvc repro {target}`"
            )

    def model(self, beta: float | None, epoch: int) -> AE:
        """The AE (β None) or the β-VAE after `epoch` epochs, in eval mode."""
        if (beta, epoch) not in self._models:
            self._require_trained(beta)
            path = checkpoint_path(model_dir(self.models, self.run, beta), epoch)
            target = train_target(beta, self.run)
            _check_meta(read_checkpoint(path, f"dvc repro {target}"), path, beta, epoch, target)
            self._models[beta, epoch] = load_autoencoder(
                path, beta, self.model_p, f"dvc repro {target}"
            )
        return self._models[beta, epoch]

    def evaluation(self, beta: float | None) -> dict[str, Any]:
        """The run's eval JSON, with one `epoch_EEE` entry per train.checkpoints."""
        if beta not in self._evaluations:
            self._require_trained(beta)
            path = eval_path(self.metrics, self.run, beta)
            if not path.exists():
                raise FiguresError(
                    f"{path} not found; run `dvc repro {eval_target(beta, self.run.setup)}`"
                )
            result = read_json(path)
            missing = [e for e in self.checkpoints if epoch_key(e) not in result]
            if missing or result.get("beta") != beta:
                raise FiguresError(
                    f"{path} has β {result.get('beta')} and lacks epochs "
                    f"{missing} of train.checkpoints = {list(self.checkpoints)}"
                    f"; rerun `dvc repro {eval_target(beta, self.run.setup)}`"
                )
            self._evaluations[beta] = result
        return self._evaluations[beta]

    def curves(self, beta: float, run: Run | None = None) -> pd.DataFrame:
        """Per-epoch test-set loss, recon, kl and kl_share of one VAE, indexed by epoch: the
        figures' run, or another run of the same setup."""
        self._require_trained(beta)
        run = run or self.run
        columns = {}
        for name in VAE_CURVES:
            path = curve_path(run.metrics(self.metrics), model_name(beta), "test", name)
            if not path.exists():
                raise FiguresError(f"{path} not found; run `dvc repro {train_target(beta, run)}`")
            columns[name] = pd.read_csv(path, sep="\t").set_index("step")[name]
        table = pd.DataFrame(columns).rename_axis("epoch")
        if table.index.max() < self.checkpoints[-1]:
            raise FiguresError(
                f"{path.parent} logs {table.index.max()} epochs, not "
                f"{self.checkpoints[-1]}; rerun `dvc repro {train_target(beta, run)}`"
            )
        return table


def _check_meta(
    checkpoint: dict[str, Any], path: Path, beta: float | None, epoch: int, target: str
) -> None:
    """load_autoencoder checks kind and model params; a figure also needs the right β, epoch."""
    saved_beta = checkpoint.get("beta")
    if (
        checkpoint.get("epoch") != epoch
        or (saved_beta is None) != (beta is None)
        or (beta is not None and float(saved_beta) != beta)
    ):
        raise CheckpointError(
            f"{path} holds epoch {checkpoint.get('epoch')} of β = {saved_beta}, "
            f"not epoch {epoch} of β = {beta}; rerun `dvc repro {target}`"
        )


@dataclass(frozen=True)
class Study:
    """Everything a figure reads: params, the test digits and the models' inputs.

    Every random draw comes from a fresh generator seeded with `figures.seed`, so each
    panel of a figure decodes the same z: columns differ only by their model.
    """

    inputs: Inputs
    figures_p: params.FiguresParams
    train_p: params.TrainParams
    eval_p: params.EvalParams
    test_x: torch.Tensor  # (10000, 784) in [0, 1]
    test_labels: torch.Tensor  # (10000,)
    out: Path

    @property
    def last_epoch(self) -> int:
        return self.train_p.epochs

    @property
    def runs(self) -> tuple[Run, ...]:
        """Every seed's run of the setup drawn (the figures draw the first's models)."""
        return runs_of(self.inputs.run.setup, self.train_p)

    @property
    def grid_side(self) -> int:
        return self.figures_p.grid_images

    @property
    def latent_dim(self) -> int:
        return self.inputs.model_p.latent_dim

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.figures_p.seed)

    def scatter_digits(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The first `figures.scatter_points` test digits and their labels."""
        n = self.figures_p.scatter_points
        return self.test_x[:n], self.test_labels[:n]

    def grid_digits(self) -> torch.Tensor:
        """The first grid_images² test digits: the inputs of every reconstruction grid."""
        return self.test_x[: self.grid_side**2]

    def example(self) -> torch.Tensor:
        """(1, 784) the test digit of figures 3 and 4."""
        i = self.figures_p.example_index
        return self.test_x[i : i + 1]

    def prior_z(self) -> torch.Tensor:
        """grid_images² draws of the setup's prior p(z), the same for every model."""
        return self.prior_draws(0.0, 1.0)

    def shifted_z(self) -> torch.Tensor:
        """grid_images² draws of the prior moved to eval.shifted_mean and scaled to
        eval.shifted_std of its spread: N(1, 0.5²) for N(0, I), as in figure 14."""
        return self.prior_draws(self.eval_p.shifted_mean, self.eval_p.shifted_std)

    def prior_draws(self, mean: float, spread: float) -> torch.Tensor:
        """Draws as the evaluate stage makes them (`latents.prior_sample`), from a fresh
        `figures.seed` generator."""
        model_p = self.inputs.model_p
        return latents.prior_sample(
            model_p.latent,
            (self.grid_side**2, self.latent_dim),
            self.generator(),
            mean,
            spread * model_p.prior_std,
        )

    def save(self, fig: Figure, name: str) -> None:
        save_figure(fig, self.out / name, self.figures_p.dpi)
