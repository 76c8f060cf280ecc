"""What a valid value of each section of params.yaml is: one frozen dataclass per section.

`params.py` loads the file, applies the setups and checks the rules across sections.
"""

from __future__ import annotations

from dataclasses import dataclass

from vaelab.core.schema import require, rule_field


@dataclass(frozen=True)
class DataParams:
    sources: tuple[str, ...] = rule_field(choices=("local", "torchvision", "pypi"))
    local_dir: str = rule_field()
    timeout_s: float = rule_field(gt=0, le=600)

    def check(self, where: str) -> None:
        require(len(self.sources) > 0, where, "sources", self.sources, "list at least one source")
        require(
            len(set(self.sources)) == len(self.sources),
            where,
            "sources",
            self.sources,
            "each source at most once",
        )


# How the encoder's second head s turns into the σ of z = μ + σ·ε. `log_var`: σ = e^(s/2),
# the s the KL term reads. `log_sigma`: σ = eˢ, the mismatch in the code the study ran.
SAMPLING_RULES = ("log_var", "log_sigma")
# `torch`: nn.Linear's default. `glorot_uniform`: Keras's default (Glorot weights, zero bias).
INITS = ("torch", "glorot_uniform")
# The VAE's posterior and prior (core/latents.py, docs/latent-families.md).
LATENT_FAMILIES = ("normal", "laplace", "uniform")


def _require_seeds(where: str, seeds: tuple[int, ...], trains: str) -> None:
    """A seed list: not empty, and no seed twice (it would train the same `trains` twice)."""
    require(len(seeds) > 0, where, "seeds", seeds, "list at least one seed")
    require(
        len(set(seeds)) == len(seeds),
        where,
        "seeds",
        seeds,
        f"each seed at most once (a repeated seed trains the same {trains} twice)",
    )


@dataclass(frozen=True)
class ModelParams:
    hidden: tuple[int, ...] = rule_field(gt=0)
    latent_dim: int = rule_field(gt=0)
    likelihood: str = rule_field(choices=("gaussian", "bernoulli"))
    gaussian_variance: float = rule_field(gt=0)
    init: str = rule_field(choices=INITS)
    sampling: str = rule_field(choices=SAMPLING_RULES)
    latent: str = rule_field(choices=LATENT_FAMILIES)
    prior_std: float = rule_field(gt=0)

    def check(self, where: str) -> None:
        require(len(self.hidden) > 0, where, "hidden", self.hidden, "at least one hidden layer")


@dataclass(frozen=True)
class TrainParams:
    # One training run per seed (and setup and model); the stage name carries the seed.
    # In `train`, the seeds every setup trains; in a Setup, that setup's own (with the extra
    # seeds when `extra_seed_setups` names it).
    seeds: tuple[int, ...] = rule_field(ge=0)
    # More seeds for the setups it names (the cheap ones). DVC's matrix is a full product of
    # its lists, so a setup cannot list its own seeds; these train as their own stages. Two
    # such tiers let setups have three seed counts (base, base + extra, base + extra + more).
    extra_seeds: tuple[int, ...] = rule_field(ge=0)
    extra_seed_setups: tuple[str, ...] = rule_field()
    more_seeds: tuple[int, ...] = rule_field(ge=0)
    more_seed_setups: tuple[str, ...] = rule_field()
    batch_size: int = rule_field(gt=0)
    lr: float = rule_field(gt=0, le=1)
    adam_eps: float = rule_field(gt=0, le=1)
    checkpoints: tuple[int, ...] = rule_field(ge=1)
    # Concrete values, never "auto" or "all cores": DVC hashes what is written, so what is
    # written must be what runs (the thread count changes how sums are split, hence the bits).
    device: str = rule_field(choices=("cpu", "cuda"))
    threads: int = rule_field(ge=1)

    @property
    def epochs(self) -> int:
        """The last checkpoint is the number of epochs: one setting, not two."""
        return self.checkpoints[-1]

    def check(self, where: str) -> None:
        _require_seeds(where, self.seeds, "model")
        for key, before in (("extra_seeds", ()), ("more_seeds", self.extra_seeds)):
            every = (*self.seeds, *before, *getattr(self, key))
            earlier = "train.seeds" + (" or train.extra_seeds" if before else "")
            require(
                len(set(every)) == len(every),
                where,
                key,
                getattr(self, key),
                f"seeds that are not in {earlier}, each at most once",
            )
        ok = len(self.checkpoints) > 0 and list(self.checkpoints) == sorted(set(self.checkpoints))
        require(
            ok,
            where,
            "checkpoints",
            self.checkpoints,
            "a non-empty, strictly increasing list of epochs; the last is the epoch count",
        )


@dataclass(frozen=True)
class VaeParams:
    # DVC names the stage `train_vae@5.0` after the value as written; every other name is `5`.
    betas: tuple[float, ...] = rule_field(ge=0, whole_as_int=True)

    def check(self, where: str) -> None:
        require(len(self.betas) > 0, where, "betas", self.betas, "list at least one β")
        require(
            len(set(self.betas)) == len(self.betas),
            where,
            "betas",
            self.betas,
            "each β at most once",
        )


@dataclass(frozen=True)
class ClassifierParams:
    hidden: tuple[int, ...] = rule_field(gt=0)
    dropout: float = rule_field(ge=0, le=0.9)
    epochs: int = rule_field(gt=0)
    batch_size: int = rule_field(gt=0)
    lr: float = rule_field(gt=0, le=1)
    # One classifier per seed; confidence ratios are the ensemble's mean, with its spread.
    seeds: tuple[int, ...] = rule_field(ge=0)

    def check(self, where: str) -> None:
        _require_seeds(where, self.seeds, "classifier")


@dataclass(frozen=True)
class EvalParams:
    seed: int = rule_field(ge=0)
    batch_size: int = rule_field(gt=0)
    iwae_k: int = rule_field(ge=1)
    n_prior_samples: int = rule_field(gt=1)
    shifted_mean: float = rule_field()
    shifted_std: float = rule_field(gt=0)
    fid_reference_size: int = rule_field(gt=1, le=60000)
    active_unit_threshold: float = rule_field(ge=0)


@dataclass(frozen=True)
class FiguresParams:
    betas: tuple[float, ...] = rule_field(ge=0)
    example_beta: float = rule_field(ge=0)
    pair_betas: tuple[float, ...] = rule_field(ge=0)
    curve_betas: tuple[float, ...] = rule_field(ge=0)
    shifted_betas: tuple[float, ...] = rule_field(ge=0)
    dpi: int = rule_field(ge=150, le=600)
    seed: int = rule_field(ge=0)
    example_index: int = rule_field(ge=0, le=9999)
    scatter_points: int = rule_field(gt=0, le=10000)
    grid_images: int = rule_field(gt=0, le=32)
    manifold_size: int = rule_field(ge=2, le=50)

    def all_betas(self) -> list[float]:
        """Every β some figure draws; each must be among vae.betas."""
        return sorted(
            {
                *self.betas,
                self.example_beta,
                *self.pair_betas,
                *self.curve_betas,
                *self.shifted_betas,
            }
        )


@dataclass(frozen=True)
class ExplorerParams:
    """What report/explorer.html carries: every model-checkpoint it offers is inlined."""

    setup: str = rule_field()
    betas: tuple[float, ...] = rule_field(ge=0)
    autoencoder: bool = rule_field()
    checkpoints: tuple[int, ...] = rule_field(ge=1)
    classifier_grid: int = rule_field(ge=2, le=256)
    strip_images: int = rule_field(ge=2, le=32)
    interpolate: tuple[int, ...] = rule_field(ge=0, le=9999)

    def check(self, where: str) -> None:
        require(
            len(self.betas) > 0 or self.autoencoder,
            where,
            "betas",
            self.betas,
            "at least one β, or autoencoder: true",
        )
        for key in ("betas", "checkpoints"):
            values = getattr(self, key)
            require(len(set(values)) == len(values), where, key, values, "each at most once")
        require(len(self.checkpoints) > 0, where, "checkpoints", self.checkpoints, "at least one")
        require(
            len(self.interpolate) == 2,
            where,
            "interpolate",
            self.interpolate,
            "two test-set indices: the ends of the interpolation strip",
        )


SECTIONS: dict[str, type] = {
    "data": DataParams,
    "model": ModelParams,
    "train": TrainParams,
    "vae": VaeParams,
    "classifier": ClassifierParams,
    "eval": EvalParams,
    "figures": FiguresParams,
    "explorer": ExplorerParams,
}
