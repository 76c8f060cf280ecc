"""The params the report reads: one frozen object, so every section takes the same argument."""

from __future__ import annotations

from dataclasses import dataclass

from vaelab import params


@dataclass(frozen=True)
class Settings:
    """The params sections the report reads (see the stage's `params:` in dvc.yaml)."""

    model: params.ModelParams
    train: params.TrainParams
    eval: params.EvalParams
    figures: params.FiguresParams
    explorer: params.ExplorerParams
