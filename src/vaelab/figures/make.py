"""Stage `figures`: the study's figures 2–14 and three beyond it, from checkpoints and metrics.

Never trains. Every input is loaded and checked before the first figure is drawn, every
file is written atomically, and every random draw comes from `figures.seed`.
Modules: inputs (what is read), decodes (what is computed from a model), primitives
(drawing), from_checkpoints and from_metrics (the figures).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vaelab.core import params
from vaelab.core.names import (
    CONFIDENCE_FIGURES,
    LOSS_FIGURES,
    Run,
    confidence_figure,
    curve_halves,
    loss_figure,
)
from vaelab.data.mnist import load_split
from vaelab.figures.from_checkpoints import (
    fig02_ae_latent,
    fig03_vae_redecodes,
    fig04_vae_latent_posterior,
    fig05_08_epoch,
    fig09_beta_pair,
    fig14_shifted_samples,
    fig15_manifold,
)
from vaelab.figures.from_metrics import (
    checkpoint_table,
    epoch_table,
    fig16_rate_distortion,
    fig_confidence,
    fig_losses,
    write_tables,
)
from vaelab.figures.inputs import Inputs, Study
from vaelab.figures.primitives import figure_style
from vaelab.figures.uniform import fig17_uniform_boxes


def needed_models(
    figures_p: params.FiguresParams, train_p: params.TrainParams
) -> list[tuple[float | None, int]]:
    """Every (β, epoch) checkpoint some figure decodes; β None is the AE."""
    first, last = train_p.checkpoints[0], train_p.epochs
    needed = {(None, last), (figures_p.example_beta, last)}
    needed |= {(b, e) for b in figures_p.betas for e in train_p.checkpoints}
    needed |= {(b, e) for b in figures_p.pair_betas for e in (first, last)}
    needed |= {(b, last) for b in figures_p.shifted_betas}
    return sorted(needed, key=lambda key: (-1 if key[0] is None else key[0], key[1]))


def check_inputs(
    inputs: Inputs, figures_p: params.FiguresParams, train_p: params.TrainParams
) -> None:
    """Load every input once, so a missing one fails the stage before anything is written.

    Rules between params sections (latent_dim ≥ 2, two curve β at least) are checked when
    params.yaml is loaded.
    """
    for beta in (None, *figures_p.all_betas(), *inputs.vae_betas):
        inputs.evaluation(beta)
    for beta in figures_p.curve_betas:
        inputs.curves(beta)
    for beta, epoch in needed_models(figures_p, train_p):
        inputs.model(beta, epoch)


def draw_all(study: Study, curves: Path) -> dict[str, Any]:
    """Every figure and table, in the study's order; returns the numbers behind them."""
    fig02_ae_latent(study)
    spread = fig03_vae_redecodes(study)
    posterior = fig04_vae_latent_posterior(study)
    for epoch in study.train_p.checkpoints:
        fig05_08_epoch(study, epoch)
    fig09_beta_pair(study)
    table = checkpoint_table(study)
    write_tables(table, epoch_table(study), curves)
    halves = curve_halves(study.figures_p.curve_betas)
    for loss, confidence, half in zip(LOSS_FIGURES, CONFIDENCE_FIGURES, halves, strict=True):
        fig_losses(study, half, loss_figure(loss))
        fig_confidence(study, table, half, confidence_figure(confidence))
    fig14_shifted_samples(study)
    note = fig15_manifold(study)
    fig16_rate_distortion(study, table)
    uniform = fig17_uniform_boxes(study)
    return {
        "redecode_pixel_std": spread,
        "example_posterior": posterior,
        "notes": [note] if note else [],
        **({"uniform_boxes": uniform} if uniform else {}),
    }


def make_figures(
    run: Run,
    models: Path,
    data_root: Path,
    metrics: Path,
    out: Path,
    curves: Path,
    figures_p: params.FiguresParams,
    model_p: params.ModelParams,
    train_p: params.TrainParams,
    eval_p: params.EvalParams,
    vae_p: params.VaeParams,
) -> dict[str, Any]:
    """Draw every figure of `run` into `out` and the CSV tables into `curves`; returns the
    numbers. `models` and `metrics` are the roots that hold every run."""
    inputs = Inputs(models, metrics, run, model_p, train_p.checkpoints, vae_p.betas)
    check_inputs(inputs, figures_p, train_p)
    test = load_split(data_root, "test")
    study = Study(inputs, figures_p, train_p, eval_p, test.flat_float(), test.labels, out)
    with figure_style():
        drawn = draw_all(study, curves)
    index = figures_p.example_index
    return {
        "setup": run.setup,
        "seed": run.seed,
        "example_beta": figures_p.example_beta,
        "example_index": index,
        "example_label": int(test.labels[index]),
        **drawn,
    }
