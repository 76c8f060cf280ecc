"""The figures drawn from metrics: loss curves (10–11), confidence (12–13), rate–distortion.

They read the dvclive logs of training and the metrics/eval JSON, never a checkpoint; the
long tables behind them are also written as CSV for `dvc plots`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from vaelab.core.io import write_with
from vaelab.core.names import (
    CONFIDENCE_CSV,
    EPOCH_CSV,
    FIG_RATE_DISTORTION,
    RATE_DISTORTION_CSV,
    RECON_CONFIDENCE_CSV,
    epoch_key,
    model_name,
)
from vaelab.figures.inputs import Study
from vaelab.figures.primitives import new_figure
from vaelab.labels import beta_label, prior_label, recon_label, shifted_prior_label

CONFIDENCES = ("recon_confidence_ratio", "prior_confidence_ratio", "shifted_confidence_ratio")
EPOCH_CURVES = ("recon", "kl", "kl_share")  # figures 10–11's test curves, as dvc plots draw them


def checkpoint_table(study: Study) -> pd.DataFrame:
    """One row per model (AE, then each of vae.betas) and checkpoint epoch, from metrics/eval."""
    rows = []
    for beta in (None, *study.inputs.vae_betas):
        evaluation = study.inputs.evaluation(beta)
        for epoch in study.train_p.checkpoints:
            entry = evaluation[epoch_key(epoch)]
            rows.append(
                {
                    "model": model_name(beta),
                    "beta": beta,
                    "epoch": epoch,
                    "rate_kl": entry.get("kl"),
                    "distortion_recon": entry["recon"],
                    **{key: entry[key] for key in CONFIDENCES},
                }
            )
    return pd.DataFrame(rows).astype({"beta": float, "rate_kl": float})


def epoch_table(study: Study) -> pd.DataFrame:
    """Per VAE and epoch, the test curves of figures 10–11 averaged over the training seeds."""
    frames = []
    for beta in study.inputs.vae_betas:
        per_seed = [study.inputs.curves(beta, run)[list(EPOCH_CURVES)] for run in study.runs]
        mean = sum(per_seed[1:], per_seed[0]) / len(per_seed)
        frames.append(mean.reset_index().assign(model=model_name(beta), beta=beta))
    return pd.concat(frames, ignore_index=True)[["model", "beta", "epoch", *EPOCH_CURVES]]


def write_tables(table: pd.DataFrame, epochs: pd.DataFrame, curves: Path) -> None:
    """Long tables of the VAEs for `dvc plots`, as the study's figures 10–13 show them (no
    AE, so each model keeps its colour on every chart): rate_distortion.csv, confidence.csv
    and recon_confidence.csv per checkpoint; epoch_<curve>.csv per epoch."""
    vaes = table[table.model != "ae"]
    tables = {
        RATE_DISTORTION_CSV: vaes[["model", "beta", "epoch", "rate_kl", "distortion_recon"]],
        CONFIDENCE_CSV: vaes[["model", "beta", "epoch", *CONFIDENCES]],
        RECON_CONFIDENCE_CSV: vaes[["model", "beta", "epoch", "recon_confidence_ratio"]],
    }
    for curve in EPOCH_CURVES:
        tables[EPOCH_CSV.format(curve)] = epochs[["model", "beta", "epoch", curve]]
    for name, frame in tables.items():
        write_with(curves / name, lambda tmp, frame=frame: frame.to_csv(tmp, index=False))


def fig_losses(study: Study, betas: tuple[float, ...], name: str) -> None:
    """The study's figures 10–11: test-set recon, β·KL and total per epoch, and the KL share."""
    fig = new_figure(5.6 * len(betas), 4.4)
    palette = sns.color_palette("deep")
    for ax, beta in zip(fig.subplots(1, len(betas), squeeze=False)[0], betas, strict=True):
        curve = study.inputs.curves(beta)
        epochs = curve.index
        ax.plot(epochs, curve["recon"], color=palette[0], label="recon")
        ax.plot(epochs, beta * curve["kl"], color=palette[1], label="β·KL")
        ax.plot(epochs, curve["loss"], color="0.15", ls="--", label="total = recon + β·KL")
        share = ax.twinx()
        share.plot(
            epochs,
            100 * curve["kl_share"],
            color=palette[3],
            ls=":",
            lw=2,
            label="KL share, right axis",
        )
        share.set_ylabel("KL share = KL / (recon + KL), %", color=palette[3])
        share.set_ylim(bottom=0)
        share.grid(False)
        ax.set(
            xlabel="epoch",
            ylabel=f"test loss per image ({recon_label(study.inputs.model_p)})",
            title=f"VAE {beta_label(beta)}, epochs 1–{study.last_epoch}",
            ylim=(0, None),
        )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles = ax.get_legend_handles_labels()[0] + share.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle("Loss terms per epoch on the test set (dvclive logs of training)")
    study.save(fig, name)


def fig_confidence(study: Study, table: pd.DataFrame, betas: tuple[float, ...], name: str) -> None:
    """The study's figures 12–13: the confidence ratio (eq. 13) per checkpoint epoch."""
    model_p = study.inputs.model_p
    shifted = shifted_prior_label(model_p, study.eval_p)
    lines = {
        "recon_confidence_ratio": "reconstructions of test digits",
        "prior_confidence_ratio": f"decodes of z ~ {prior_label(model_p)}",
        "shifted_confidence_ratio": f"decodes of z ~ {shifted}",
    }
    fig = new_figure(5.4 * len(betas), 4.4)
    axes = fig.subplots(1, len(betas), squeeze=False, sharey=True)[0]
    for ax, beta in zip(axes, betas, strict=True):
        rows = table[table.beta == beta]
        for (key, label), marker in zip(lines.items(), "osD", strict=True):
            ax.plot(rows.epoch, rows[key], marker=marker, label=label)
        baseline = study.inputs.evaluation(beta)["baseline_confidence"]
        ax.axhline(1.0, color="0.3", ls="--", lw=1, label=f"test digits (= {baseline:.3f})")
        ax.set(
            xlabel="epoch",
            xticks=list(study.train_p.checkpoints),
            title=f"VAE {beta_label(beta)}, checkpoints {study.train_p.checkpoints[0]}–"
            f"{study.last_epoch}",
        )
    axes[0].set_ylabel("confidence ratio (eq. 13): mean top-class\nprobability / baseline")
    fig.legend(
        handles=axes[0].get_legend_handles_labels()[0],
        loc="outside lower center",
        ncols=2,
        frameon=False,
    )
    fig.suptitle("Classifier confidence in decoded images relative to real test digits")
    study.save(fig, name)


def draw_path(ax: Axes, rows: pd.DataFrame, colour: Any, beta: float) -> None:
    """One β's checkpoints in epoch order, the first epoch hollow; the legend names β.

    No text labels: collapsed β (all at rate ≈ 0) would print them on top of each other.
    """
    rows = rows.sort_values("epoch")
    rate, distortion = rows.rate_kl.to_numpy(), rows.distortion_recon.to_numpy()
    ax.plot(rate, distortion, "-o", color=colour, ms=4, label=beta_label(beta))
    ax.plot(rate[0], distortion[0], "o", ms=7, mfc="white", mec=colour)


def fig16_rate_distortion(study: Study, table: pd.DataFrame) -> None:
    """Beyond the study: KL (rate) against recon (distortion), one path per β over epochs."""
    vae = table[table.model != "ae"]
    betas = sorted(vae.beta.unique())
    fig = new_figure(8.0, 5.8)
    ax = fig.subplots()
    # Colours by rank of β: a log-like scale that still admits β = 0.
    for colour, beta in zip(sns.color_palette("viridis", len(betas)), betas, strict=True):
        draw_path(ax, vae[vae.beta == beta], colour, beta)
    if np.all(vae.rate_kl > 0):
        ax.set_xscale("log")
    epochs = ", ".join(map(str, study.train_p.checkpoints))
    ax.set(
        xlabel=f"rate: KL(q(z|x) ‖ {prior_label(study.inputs.model_p)}), nats per test image",
        ylabel=f"distortion: {recon_label(study.inputs.model_p)} per test image",
        title=f"Rate–distortion plane of the β-VAEs, test set, epochs {epochs} "
        f"(○ = epoch {study.train_p.checkpoints[0]})",
    )
    ax.legend(loc="upper right", fontsize="small")
    study.save(fig, FIG_RATE_DISTORTION)
