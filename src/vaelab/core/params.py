"""params.yaml loaded and validated: its sections (`sections.py` says what a valid value of
each is), the setups built on `model` and `train`, and the rules across sections.

Every setting lives in params.yaml. An error names the file, the key, the value and the rule,
so it can be fixed at once.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vaelab.core.names import Run, runs_of
from vaelab.core.schema import ParamsError, parse_dataclass, show
from vaelab.core.sections import (
    SECTIONS,
    ClassifierParams,
    DataParams,
    EvalParams,
    ExplorerParams,
    FiguresParams,
    ModelParams,
    TrainParams,
    VaeParams,
)

# The sections are defined in sections.py; callers write params.TrainParams.
__all__ = [
    "ClassifierParams",
    "DataParams",
    "EvalParams",
    "ExplorerParams",
    "FiguresParams",
    "ModelParams",
    "ParamsError",
    "Setup",
    "TrainParams",
    "VaeParams",
    "as_dict",
    "load",
    "load_setup",
    "model_record",
    "parse_section",
]

DEFAULT_PATH = Path("params.yaml")


@dataclass(frozen=True)
class Setup:
    """One network-and-training configuration: `model` and `train` with its overrides."""

    name: str
    model: ModelParams
    train: TrainParams

    @property
    def runs(self) -> tuple[Run, ...]:
        """One run per seed of the setup, each knowing which stages train it."""
        return runs_of(self.name, self.train)


# What a setup may override: any key of `model` or `train` but the ones every setup shares,
# because the stages' matrix and the figures are built over them.
SETUP_SECTIONS = ("model", "train")
SEED_KEYS = (  # which runs, not how each trains
    "seeds",
    "extra_seeds",
    "extra_seed_setups",
    "more_seeds",
    "more_seed_setups",
)
SHARED_TRAIN_KEYS = (*SEED_KEYS, "checkpoints")
SEED_TIERS = ("extra", "more")  # train.<tier>_seeds for the setups train.<tier>_seed_setups names
SETUP_NAME = re.compile(r"[a-z][a-z0-9_]*")


def parse_setups(raw: Any, model: dict, train: dict, path: Path | str) -> dict[str, Setup]:
    """`setups:` as {name: Setup}; each override is validated as the section it overrides."""
    where = f"{path}: setups"
    if not isinstance(raw, dict) or not raw:
        raise ParamsError(f"{where} = {raw!r}; expected a mapping of at least one setup")
    setups = {}
    for name, overrides in raw.items():
        if not isinstance(name, str) or not SETUP_NAME.fullmatch(name):
            raise ParamsError(
                f"{where}.{name!r}: a setup name is lower-case letters, digits and _, starting "
                "with a letter (it names stages and folders)"
            )
        overrides = overrides or {}
        if not isinstance(overrides, dict):
            raise ParamsError(f"{where}.{name} = {overrides!r}; expected a mapping")
        unknown = sorted(set(overrides) - set(SETUP_SECTIONS))
        if unknown:
            raise ParamsError(
                f"{where}.{name}.{unknown[0]}: a setup overrides only "
                f"{' and '.join(SETUP_SECTIONS)}"
            )
        merged = {}
        for section, base in (("model", model), ("train", train)):
            changes = overrides.get(section) or {}
            if not isinstance(changes, dict):
                raise ParamsError(f"{where}.{name}.{section} = {changes!r}; expected a mapping")
            fields = [f.name for f in dataclasses.fields(SECTIONS[section])]
            for key in changes:
                if key not in fields:
                    raise ParamsError(
                        f"{where}.{name}.{section}.{key}: unknown key; a setup overrides keys "
                        f"of {section}: {', '.join(fields)}"
                    )
                if section == "train" and key in SHARED_TRAIN_KEYS:
                    more = (
                        " (list the setup in train.extra_seed_setups or train.more_seed_setups "
                        "to give it train.extra_seeds or train.more_seeds too)"
                        if key == "seeds"
                        else ""
                    )
                    raise ParamsError(
                        f"{where}.{name}.train.{key}: every setup shares train.{key}; set it "
                        f"in the train section{more}"
                    )
            merged[section] = parse_section(
                section, {**base, **changes}, path, where=f"{where}.{name}.{section}"
            )
        own = merged["train"]
        for tier in SEED_TIERS:
            if name in getattr(own, f"{tier}_seed_setups"):
                own = dataclasses.replace(own, seeds=(*own.seeds, *getattr(own, f"{tier}_seeds")))
        setups[name] = Setup(name, merged["model"], own)
    train_p = setups[next(iter(setups))].train
    for tier in SEED_TIERS:
        unknown = [n for n in getattr(train_p, f"{tier}_seed_setups") if n not in setups]
        if unknown:
            raise ParamsError(
                f"{path}: train.{tier}_seed_setups names {unknown[0]!r}, which is not a "
                f"setup; expected some of {', '.join(setups)}"
            )
    return setups


def parse_section(
    name: str, raw: Any, path: Path | str = DEFAULT_PATH, where: str | None = None
) -> Any:
    """Validate one section's mapping into its frozen dataclass."""
    return parse_dataclass(SECTIONS[name], raw, path, where or f"{path}: {name}")


def read_yaml(path: Path | str = DEFAULT_PATH) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: not found; run from the repository root")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ParamsError(_yaml_problem(path, error)) from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of sections")
    unknown = sorted(set(raw) - {*SECTIONS, "setups"})
    if unknown:
        raise ParamsError(
            f"{path}: {unknown[0]}: unknown section; expected one of {', '.join(SECTIONS)}, setups"
        )
    return raw


def _yaml_problem(path: Path, error: yaml.YAMLError) -> str:
    """'params.yaml, line 12: could not find expected ':'': the file, the line, the problem."""
    mark = getattr(error, "problem_mark", None)
    where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{where}: not valid YAML ({problem}); fix it and run again"


def _check_across(sections: dict[str, Any], path: Path | str) -> None:
    """Rules that span sections, checked at load so that no stage trains for a figure that
    cannot be drawn."""
    figures, vae, model = sections["figures"], sections["vae"], sections["model"]
    untrained = [b for b in figures.all_betas() if b not in vae.betas]
    if untrained:
        raise ParamsError(
            f"{path}: figures draw β = {show(tuple(untrained))} but vae.betas = "
            f"{show(vae.betas)} does not train them; add them to vae.betas or remove them "
            f"from figures"
        )
    if len(figures.curve_betas) < 2:
        raise ParamsError(
            f"{path}: figures.curve_betas = {show(figures.curve_betas)}; expected at least 2 β "
            "(figures 10–13 split them in halves)"
        )
    explorer, train = sections["explorer"], sections["train"]
    if explorer.setup not in sections["setups"]:
        raise ParamsError(
            f"{path}: explorer.setup = {explorer.setup!r}; expected one of the setups: "
            f"{', '.join(sections['setups'])}"
        )
    for key, offered, trained in (
        ("betas", explorer.betas, vae.betas),
        ("checkpoints", explorer.checkpoints, train.checkpoints),
    ):
        missing = [value for value in offered if value not in trained]
        if missing:
            source = "vae.betas" if key == "betas" else "train.checkpoints"
            raise ParamsError(
                f"{path}: explorer.{key} offers {show(tuple(missing))} but {source} = "
                f"{show(trained)} does not make them; add them to {source} or remove them "
                f"from explorer.{key}"
            )
    for where, latent_dim in (
        ("model", model.latent_dim),
        *((f"setups.{s.name}.model", s.model.latent_dim) for s in sections["setups"].values()),
    ):
        if latent_dim < 2:
            raise ParamsError(
                f"{path}: {where}.latent_dim = {latent_dim}; the figures draw a latent plane "
                "and need at least 2"
            )


def load(*names: str, path: Path | str = DEFAULT_PATH) -> Any:
    """Load and validate the named sections: `train, model = load("train", "model")`.

    Every section is validated, and the rules across sections checked, whichever are asked
    for: a stage fails on a bad params.yaml before it does any work.
    """
    raw = read_yaml(path)
    for name in [*SECTIONS, "setups"]:
        if name not in raw:
            raise ParamsError(f"{path}: {name}: missing section")
    sections: dict[str, Any] = {name: parse_section(name, raw[name], path) for name in SECTIONS}
    sections["setups"] = parse_setups(raw["setups"], raw["model"], raw["train"], path)
    _check_across(sections, path)
    chosen = [sections[name] for name in names]
    return chosen[0] if len(chosen) == 1 else tuple(chosen)


def load_setup(name: str, path: Path | str = DEFAULT_PATH) -> Setup:
    """One setup's model and train params, after validating the whole file."""
    setups = load("setups", path=path)
    if name not in setups:
        raise ParamsError(
            f"{path}: setups.{name}: no such setup; expected one of {', '.join(setups)}"
        )
    return setups[name]


# The latent family's keys at the values every model had before the families existed: a
# model's record leaves them out while they hold these, so those models keep their bytes.
LATENT_DEFAULTS = {"latent": "normal", "prior_std": 1.0}


def model_record(model: ModelParams) -> dict[str, Any]:
    """The model params a checkpoint saves and is checked against: `as_dict`, less the latent
    family's keys while they all hold `LATENT_DEFAULTS`."""
    record = as_dict(model)
    if all(record[key] == default for key, default in LATENT_DEFAULTS.items()):
        for key in LATENT_DEFAULTS:
            del record[key]
    return record


def as_dict(section: Any) -> dict[str, Any]:
    """A section as plain YAML-like data, for checkpoints and metrics."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(section).items()
    }
