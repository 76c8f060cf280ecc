"""How a model is named in paths, metrics files and `dvc repro` targets: one place for all.

Kept free of torch so the report and figures stages do not depend on the training code.
"""

from __future__ import annotations


def beta_tag(beta: float) -> str:
    """β as DVC renders it in `models/vae/beta_${item.beta}`: 5 -> '5', 0.5 -> '0.5'."""
    return str(int(beta)) if float(beta).is_integer() else str(beta)


def model_name(kind: str, beta: float | None = None) -> str:
    """'ae' or 'vae_beta_<β>': the name of a model's metrics and figures."""
    return "ae" if kind == "ae" else f"vae_beta_{beta_tag(beta)}"


def train_target(kind: str, beta: float | None) -> str:
    """The `dvc repro` target that makes a model's checkpoints."""
    return "train_ae" if kind == "ae" else f"train_vae@{beta_tag(beta)}"
