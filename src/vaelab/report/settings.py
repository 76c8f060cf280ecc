"""The params the report reads: one frozen object, so every section takes the same argument."""

from __future__ import annotations

from dataclasses import dataclass

from vaelab.core import params


@dataclass(frozen=True)
class Settings:
    """The params the report reads (see the stage's `params:` in dvc.yaml); `model` and
    `train` are the setup's whose section is being written."""

    model: params.ModelParams
    train: params.TrainParams
    eval: params.EvalParams
    figures: params.FiguresParams
    explorer: params.ExplorerParams
    setups: tuple[params.Setup, ...] = ()
    setup: str = ""  # the name of the setup whose section is being written
