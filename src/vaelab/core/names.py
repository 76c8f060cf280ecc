"""Every name a model, file, key or stage is known by: one place, so a spelling changes once.

β None is the plain autoencoder; every β (0 included) is a VAE. Kept free of torch, so the
report stage does not depend on the training code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# The figures stage's PNGs, in the study's order (per-epoch and per-half names are built below).
FIG_AE_LATENT = "fig02_ae_latent.png"
FIG_REDECODES = "fig03_vae_redecodes.png"
FIG_POSTERIOR = "fig04_vae_latent_posterior.png"
FIG_BETA_PAIR = "fig09_beta_pair.png"
FIG_SHIFTED = "fig14_shifted_samples.png"
FIG_MANIFOLD = "fig15_manifold.png"
FIG_RATE_DISTORTION = "fig16_rate_distortion.png"
FIG_UNIFORM = "fig17_uniform_boxes.png"  # drawn for the uniform family only
LOSS_FIGURES = (10, 11)  # the study's figure numbers: one half of figures.curve_betas each
CONFIDENCE_FIGURES = (12, 13)

CLASSIFIER = "classifier"  # a digit classifier's kind in its checkpoint
DOWNLOAD_TARGET = "download"
CLASSIFIER_TARGET = "train_classifier"  # every seed of the ensemble: train_classifier@<seed>
FIGURES_TARGET = "figures"  # one per setup: figures@<setup>
EXPLORER_TARGET = "explorer"
EXPLORER_PAGE = "explorer.html"  # beside report/README.md

# Summaries under metrics/: of the download, the classifier, the figures stage, and of each
# training run (dvclive's summary in its folder).
DATA_SUMMARY = "data.json"
CLAIMS_SUMMARY = "claims.json"  # every claim's numbers, interval and verdict, per setup
EXPLORER_SUMMARY = "explorer.json"
TRAIN_SUMMARY = "metrics.json"
RUNTIME_REPORT = "runtime.md"  # beside report/README.md: what differs between machines

# Beside an ensemble-mean metric `<key>` in metrics/eval, `<key>_by_classifier` lists it
# per classifier, in classifier.seeds order.
BY_CLASSIFIER = "_by_classifier"

# The CSV tables the figures stage writes for `dvc plots`.
RATE_DISTORTION_CSV = "rate_distortion.csv"
CONFIDENCE_CSV = "confidence.csv"
# The comparisons `dvc plots show` opens with (dvc.yaml, figures stage): one CSV per chart.
EPOCH_CSV = "epoch_{}.csv"  # per VAE and epoch, a test curve's mean over the seeds
RECON_CONFIDENCE_CSV = "recon_confidence.csv"


@dataclass(frozen=True)
class Run:
    """One setup trained with one seed. Its models live in models/<setup>/<model>/seed_<seed>/
    (one folder per model, so one stage can evaluate every seed of it) and its training logs
    in metrics/runs/<setup>/seed_<seed>/train/<model>/."""

    setup: str
    seed: int
    tier: str = ""  # "extra" or "more" for train.<tier>_seeds: trained by train_*_<tier> stages

    @property
    def seed_folder(self) -> str:
        return f"seed_{self.seed}"

    @property
    def seed_file(self) -> str:
        """The run's file in an evaluate stage's folders: seed_<seed>.json."""
        return f"{self.seed_folder}.json"

    def metrics(self, metrics: Path) -> Path:
        """metrics/runs/<setup>/seed_<seed>: the run's training logs."""
        return metrics / RUNS / self.setup / self.seed_folder

    def label(self) -> str:
        return f"{self.setup}, seed {self.seed}"


def runs_of(setup: str, train: TrainSeeds) -> tuple[Run, ...]:
    """One run per seed of a setup (`train.seeds`, its own with the tiers it gets); those of
    train.extra_seeds and train.more_seeds train in their own stages."""
    tiers = {seed: "extra" for seed in train.extra_seeds}
    tiers |= {seed: "more" for seed in train.more_seeds}
    return tuple(Run(setup, seed, tiers.get(seed, "")) for seed in train.seeds)


class TrainSeeds(Protocol):
    """The seed keys of `params.TrainParams` (names.py stays free of params)."""

    seeds: tuple[int, ...]
    extra_seeds: tuple[int, ...]
    more_seeds: tuple[int, ...]


RUNS = "runs"  # metrics/runs/<setup>/: seed_<seed>/train/, eval/<model>/, runtime/<stage>/


def figures_numbers_path(metrics: Path, setup: str) -> Path:
    """metrics/figures/<setup>.json: what the figures stage measured while drawing."""
    return metrics / "figures" / f"{setup}.json"


def figures_target(setup: str) -> str:
    return f"{FIGURES_TARGET}@{setup}"


def classifier_name(seed: int) -> str:
    """'classifier_seed_7': one classifier of the ensemble, in metrics/train and messages."""
    return f"{CLASSIFIER}_seed_{seed}"


def classifier_target(seed: int) -> str:
    return f"{CLASSIFIER_TARGET}@{seed}"


def classifier_path(models: Path, seed: int) -> Path:
    """models/classifier/seed_<seed>.pt"""
    return models / CLASSIFIER / f"seed_{seed}.pt"


def classifier_summary_path(metrics: Path, seed: int) -> Path:
    """metrics/classifier/seed_<seed>.json: its test accuracy and baseline confidence."""
    return metrics / CLASSIFIER / f"seed_{seed}.json"


def beta_tag(beta: float) -> str:
    """β as DVC renders it in `models/vae/beta_${item.beta}`: 5 -> '5', 0.5 -> '0.5'."""
    return str(int(beta)) if float(beta).is_integer() else str(beta)


def kind_of(beta: float | None) -> str:
    """'ae' for β None, else 'vae'."""
    return "ae" if beta is None else "vae"


def model_name(beta: float | None) -> str:
    """'ae' (β None) or 'vae_beta_<β>': the name of a model's metrics and figures."""
    return "ae" if beta is None else f"vae_beta_{beta_tag(beta)}"


def epoch_key(epoch: int) -> str:
    """'epoch_005': a checkpoint's key in metrics JSON and the stem of its file."""
    return f"epoch_{epoch:03d}"


def checkpoint_file(epoch: int) -> str:
    """1-indexed: epoch_001.pt is the model after its first epoch."""
    return f"{epoch_key(epoch)}.pt"


def _stage_suffix(beta: float | None, setup: str) -> str:
    """DVC's matrix names without the seed: ae@<setup> and vae@<setup>-<β>."""
    return f"ae@{setup}" if beta is None else f"vae@{setup}-{beta_tag(beta)}"


def train_target(beta: float | None, run: Run) -> str:
    """The `dvc repro` target that trains one seed of a model: train_vae@<setup>-<β>-<seed>,
    or train_vae_extra@… (train_vae_more@…) for one of train.extra_seeds (train.more_seeds)."""
    kind, at = _stage_suffix(beta, run.setup).split("@")
    return f"train_{kind}{'_' + run.tier if run.tier else ''}@{at}-{run.seed}"


def eval_target(beta: float | None, setup: str) -> str:
    """The `dvc repro` target that evaluates every seed of a model: evaluate_vae@<setup>-<β>."""
    return f"evaluate_{_stage_suffix(beta, setup)}"


def _model_path(beta: float | None) -> Path:
    return Path("ae") if beta is None else Path("vae") / f"beta_{beta_tag(beta)}"


def model_dir(models: Path, run: Run, beta: float | None) -> Path:
    """models/<setup>/ae/seed_<seed> or models/<setup>/vae/beta_<β>/seed_<seed>: one trained
    model's checkpoints."""
    return models / run.setup / _model_path(beta) / run.seed_folder


def eval_path(metrics: Path, run: Run, beta: float | None) -> Path:
    """metrics/runs/<setup>/eval/<model>/seed_<seed>.json: every checkpoint's held-out
    metrics, in the folder of the stage that evaluates every seed of the model."""
    return metrics / RUNS / run.setup / "eval" / model_name(beta) / run.seed_file


def train_dir(metrics: Path, name: str) -> Path:
    """metrics/train/<name>: a training run's dvclive folder ('classifier' or a model name)."""
    return metrics / "train" / name


def curve_path(metrics: Path, name: str, split: str, metric: str) -> Path:
    """The dvclive TSV of one per-epoch metric: split 'train' or 'test'."""
    return train_dir(metrics, name) / "plots" / "metrics" / split / f"{metric}.tsv"


def epoch_figure(epoch: int) -> str:
    """The study's figures 5–8: one per checkpoint."""
    return f"fig05-08_{epoch_key(epoch)}.png"


def loss_figure(number: int) -> str:
    return f"fig{number}_losses.png"


def confidence_figure(number: int) -> str:
    return f"fig{number}_confidence.png"


def curve_halves(betas: Sequence[float]) -> tuple[Sequence[float], Sequence[float]]:
    """The β of figures 10 | 11 and 12 | 13: figures.curve_betas in two, the first larger."""
    middle = (len(betas) + 1) // 2
    return betas[:middle], betas[middle:]


def draws_manifold(latent_dim: int) -> bool:
    """Figure 15 decodes a 2-D grid of quantiles: only a 2-D latent space has one."""
    return latent_dim == 2


def expected_figures(
    checkpoints: Iterable[int], latent_dim: int, latent: str = "normal"
) -> list[str]:
    """The PNG names the figures stage writes for these params, in the study's order."""
    return [
        FIG_AE_LATENT,
        FIG_REDECODES,
        FIG_POSTERIOR,
        *(epoch_figure(epoch) for epoch in checkpoints),
        FIG_BETA_PAIR,
        *(loss_figure(number) for number in LOSS_FIGURES),
        *(confidence_figure(number) for number in CONFIDENCE_FIGURES),
        FIG_SHIFTED,
        *([FIG_MANIFOLD] if draws_manifold(latent_dim) else []),
        FIG_RATE_DISTORTION,
        *([FIG_UNIFORM] if latent == "uniform" else []),
    ]
