"""Checkpoints as plain dicts (model, optimizer, epoch, params, environment): saved atomically,
loaded strictly into the model they were trained as."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from vaelab.core import params
from vaelab.core.io import write_with
from vaelab.core.models import AE, Classifier, autoencoder_for
from vaelab.core.names import (
    checkpoint_file,
    classifier_path,
    classifier_target,
    kind_of,
)


class CheckpointError(RuntimeError):
    """A checkpoint that is missing or does not fit the model it is loaded into."""


def checkpoint_path(model_dir: Path | str, epoch: int) -> Path:
    """1-indexed file names: epoch_001.pt is the model after its first epoch."""
    return Path(model_dir) / checkpoint_file(epoch)


def save_checkpoint(
    path: Path | str, model: nn.Module, optimizer_state: dict, epoch: int, **meta: Any
) -> None:
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer_state,
        "epoch": epoch,
        **meta,
    }
    write_with(path, lambda tmp: _save_bytes(state, tmp))


def _save_bytes(state: dict[str, Any], tmp: Path) -> None:
    """torch.save to a file object: given a path, torch names the zip's inner folder after the
    (random) temporary file name, so equal weights would hash differently in DVC."""
    with open(tmp, "wb") as handle:
        torch.save(state, handle)


def read_checkpoint(path: Path | str, rebuild_hint: str = "dvc repro") -> dict[str, Any]:
    """The checkpoint's dict; a missing, truncated or foreign file is one CheckpointError that
    names it and the command that makes it again."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path} not found; run `{rebuild_hint}` to make it")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises what its zip and pickle readers raise
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(
            f"{path} is damaged or not a checkpoint ({reason}); run `{rebuild_hint}` to make "
            f"it again"
        ) from error


def load_into(model: nn.Module, checkpoint: dict[str, Any], path: Path | str) -> nn.Module:
    """strict=True: a checkpoint of another shape is an error naming both shapes."""
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in checkpoint["model"].items()}
    if ours != theirs:
        key = next(k for k in [*ours, *theirs] if ours.get(k) != theirs.get(k))
        raise CheckpointError(
            f"{path}: {key} has shape {theirs.get(key)} in the checkpoint but "
            f"{ours.get(key)} in the model built from params.yaml; rerun the training "
            f"stage (`dvc repro`) or restore the params it was trained with"
        )
    model.load_state_dict(checkpoint["model"], strict=True)
    return model


def load_classifier(models: Path, seed: int) -> Classifier:
    """One digit classifier of the ensemble in eval mode, built from the params saved with it."""
    path = classifier_path(models, seed)
    checkpoint = read_checkpoint(path, f"dvc repro {classifier_target(seed)}")
    clf_p = checkpoint["params"]
    model = Classifier(clf_p["hidden"], clf_p["dropout"])
    return load_into(model, checkpoint, path).eval()


def load_autoencoder(
    path: Path, beta: float | None, model_p: params.ModelParams, rebuild: str = "dvc repro"
) -> AE:
    """The AE (β None) or a β-VAE in eval mode; refuses another kind or other model params.
    `rebuild` is the command an error tells the user to run."""
    kind = kind_of(beta)
    checkpoint = read_checkpoint(path, rebuild)
    if checkpoint.get("kind") != kind:
        raise CheckpointError(
            f"{path} holds a {checkpoint.get('kind')!r} model, not {kind!r}; rerun `{rebuild}`"
        )
    trained_with = checkpoint.get("params", {}).get("model")
    if trained_with != params.model_record(model_p):
        raise CheckpointError(
            f"{path} was trained with model params {trained_with}, but "
            f"params.yaml now says {params.model_record(model_p)}; rerun `{rebuild}`"
        )
    model = autoencoder_for(kind, model_p)
    return load_into(model, checkpoint, path).eval()
