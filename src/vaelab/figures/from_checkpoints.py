"""The figures drawn from checkpoints: the study's figures 2–9 and 14, and a manifold grid.

Each function draws one figure file into `study.out` and returns the numbers behind it
that metrics/eval does not hold (for metrics/figures.json). A VAE's latent space is drawn
twice: the posterior means μ(x), and one draw z ~ q(z|x) per digit, which is what the
study's §4.1 says its scatter plots show (a collapsed VAE is a dot in one, N(0, I) in the other).
"""

from __future__ import annotations

from typing import Any

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from vaelab.core.models import AE
from vaelab.core.names import (
    FIG_AE_LATENT,
    FIG_BETA_PAIR,
    FIG_MANIFOLD,
    FIG_POSTERIOR,
    FIG_REDECODES,
    FIG_SHIFTED,
    draws_manifold,
    epoch_figure,
)
from vaelab.data.files import IMAGE_SIDE
from vaelab.figures.decodes import (
    decode,
    encode_draws,
    encode_means,
    manifold,
    pixel_std,
    posterior_density,
    prior_disc_mass,
    prior_quantiles,
    reconstruct,
    redecodes,
)
from vaelab.figures.inputs import Study
from vaelab.figures.primitives import (
    TILE_PADDING,
    blank_ticks,
    digit_legend,
    new_figure,
    scatter_latent,
    show_images,
    tile_corner,
)
from vaelab.labels import (
    PRIOR_CIRCLE_STDS,
    beta_label,
    model_title,
    prior_label,
    shifted_prior_label,
)

LATENT_ROWS = ("latent", "draws")  # the rows of a grid figure that scatter latents
MEANS_NAME = "posterior means μ(x)"
DRAWS_NAME = "one draw z ~ q(z|x) per digit"
STUDY_READING = "(the study's reading)"  # §4.1: its plotted latents include a random draw


def prior_circle(study: Study) -> tuple[float, str]:
    """The latent scatters' dashed circle: its radius, and its legend entry naming the prior
    and the share of it inside."""
    model_p = study.inputs.model_p
    radius = PRIOR_CIRCLE_STDS * model_p.prior_std
    mass = prior_disc_mass(model_p.latent, PRIOR_CIRCLE_STDS)
    return radius, f"{prior_label(model_p)}\n{100 * mass:.0f} % (r = {radius:g})"


def row_labels(study: Study) -> dict[str, str]:
    """The y label of each kind of row in the grid figures."""
    model_p = study.inputs.model_p
    shifted = shifted_prior_label(model_p, study.eval_p)
    return {
        "latent": MEANS_NAME,
        "draws": f"{DRAWS_NAME}\n{STUDY_READING}",
        "recon": "reconstructions\n(first test digits)",
        "samples": f"decodes of\nz ~ {prior_label(model_p)}",
        "shifted": f"decodes of\nz ~ {shifted}",
    }


def draw_column(
    study: Study, axes: list[Axes], beta: float, epoch: int, rows: tuple[str, ...]
) -> None:
    """One model in one column: its latent scatters and/or image grids, top to bottom.

    Each column's draws use a fresh `figures.seed` generator: columns share their noise.
    """
    model = study.inputs.model(beta, epoch)
    side = study.grid_side
    x, labels = study.scatter_digits()
    radius = prior_circle(study)[0]
    for ax, row in zip(axes, rows, strict=True):
        if row == "latent":
            scatter_latent(ax, encode_means(model, x), labels, radius)
        elif row == "draws":
            scatter_latent(ax, encode_draws(model, x, study.generator()), labels, radius)
        elif row == "recon":
            show_images(ax, reconstruct(model, study.grid_digits(), study.generator()), side)
        else:
            z = study.prior_z() if row == "samples" else study.shifted_z()
            show_images(ax, decode(model, z), side)


def model_grid(
    study: Study,
    columns: list[tuple[float, int]],
    rows: tuple[str, ...],
    titles: list[str],
    suptitle: str,
) -> tuple[Figure, list[list[Axes]]]:
    """A figure of models (β, epoch) by column and `rows` by row."""
    fig = new_figure(2.7 * len(columns) + 1.4, 2.75 * len(rows) + 0.5)
    axes = fig.subplots(len(rows), len(columns), squeeze=False)
    labels = row_labels(study)
    for col, ((beta, epoch), title) in enumerate(zip(columns, titles, strict=True)):
        draw_column(study, [axes[r][col] for r in range(len(rows))], beta, epoch, rows)
        axes[0][col].set_title(title)
    for r, row in enumerate(rows):
        # a scatter keeps its own "$z_2$" under the row's name
        name_and_axis = (labels[row], axes[r][0].get_ylabel())
        axes[r][0].set_ylabel("\n".join(filter(None, name_and_axis)))
    fig.suptitle(suptitle, wrap=True)  # a long prior's name would run past the edges
    if set(LATENT_ROWS) & set(rows):
        digit_legend(fig, prior_circle(study)[1])
    return fig, axes


def fig05_08_epoch(study: Study, epoch: int) -> None:
    """The study's figures 5–8: one column per figures.betas after `epoch` epochs."""
    betas = study.figures_p.betas
    fig, _ = model_grid(
        study,
        [(b, epoch) for b in betas],
        (*LATENT_ROWS, "recon", "samples"),
        [beta_label(b) for b in betas],
        f"β-VAEs after epoch {epoch}: latent means and draws, reconstructions, samples",
    )
    study.save(fig, epoch_figure(epoch))


def fig09_beta_pair(study: Study) -> None:
    """The study's figure 9: pair_betas at the first and the last checkpoint."""
    epochs = sorted({study.train_p.checkpoints[0], study.last_epoch})
    columns = [(b, e) for b in study.figures_p.pair_betas for e in epochs]
    fig, _ = model_grid(
        study,
        columns,
        (*LATENT_ROWS, "samples"),
        [model_title(b, e) for b, e in columns],
        "β-VAEs at the first and last checkpoint: latent means and draws, and samples",
    )
    study.save(fig, FIG_BETA_PAIR)


def fig14_shifted_samples(study: Study) -> None:
    """The study's figure 14: decodes of a shifted Gaussian, its draws marked on the latents."""
    epoch, betas = study.last_epoch, study.figures_p.shifted_betas
    shifted = shifted_prior_label(study.inputs.model_p, study.eval_p)
    fig, axes = model_grid(
        study,
        [(b, epoch) for b in betas],
        (*LATENT_ROWS, "shifted"),
        [model_title(b, epoch) for b in betas],
        f"Decodes of z ~ {shifted} (× on the latent means and draws), last epoch",
    )
    z = study.shifted_z().numpy()
    for ax in (*axes[0], *axes[1]):
        ax.scatter(z[:, 0], z[:, 1], marker="x", s=12, c="black", linewidths=0.8)
    study.save(fig, FIG_SHIFTED)


def fig02_ae_latent(study: Study) -> None:
    """The study's figure 2: the deterministic autoencoder's latent space."""
    x, labels = study.scatter_digits()
    fig = new_figure(6.8, 5.4)
    ax = fig.subplots()
    radius, circle = prior_circle(study)
    model = study.inputs.model(None, study.last_epoch)
    scatter_latent(ax, encode_means(model, x), labels, radius)
    ax.set_title(f"{model_title(None, study.last_epoch)}: latent codes of {len(x)} test digits")
    digit_legend(fig, circle)
    study.save(fig, FIG_AE_LATENT)


def redecode_images(study: Study, beta: float | None) -> torch.Tensor:
    """grid_images² − 1 redecodes of the example digit by the last epoch of a model."""
    model = study.inputs.model(beta, study.last_epoch)
    return redecodes(model, study.example(), max(study.grid_side**2 - 1, 2), study.generator())


def fig03_vae_redecodes(study: Study) -> dict[str, float]:
    """The study's figure 3: one digit and its redecodes; returns the mean per-pixel std."""
    beta, side = study.figures_p.example_beta, study.grid_side
    images = redecode_images(study, beta)
    spread = pixel_std(images)
    fig = new_figure(10.0, 5.0)
    left, right = fig.subplots(1, 2, width_ratios=[1.25, 1])
    show_images(left, torch.cat([study.example(), images]), side)
    left.add_patch(
        Rectangle(
            tile_corner(0, side), IMAGE_SIDE, IMAGE_SIDE, fill=False, edgecolor="red", linewidth=2
        )
    )
    left.set_title(
        f"test digit #{study.figures_p.example_index} (red) and "
        f"{len(images)} decodes of new z ~ q(z|x)"
    )
    shown = right.imshow(spread.reshape(IMAGE_SIDE, IMAGE_SIDE).numpy(), cmap="magma")
    blank_ticks(right)
    right.set_title(f"per-pixel std across the decodes (mean {float(spread.mean()):.4f})")
    fig.colorbar(shown, ax=right, label="standard deviation of pixel intensity", shrink=0.8)
    fig.suptitle(f"{model_title(beta, study.last_epoch)}: the same input, redecoded")
    study.save(fig, FIG_REDECODES)
    ae_spread = pixel_std(redecode_images(study, None))
    return {"vae": float(spread.mean()), "ae": float(ae_spread.mean())}


def draw_posterior(
    fig: Figure,
    ax: Axes,
    mu: torch.Tensor,
    sigma: torch.Tensor,
    draw: torch.Tensor,
    family: str = "normal",
) -> list[float]:
    """q(z|x) as a density raster (first two dims, (D,) each) with its mean and one draw.

    Returns the raster's extent [z1_min, z1_max, z2_min, z2_max].
    """
    density, extent = posterior_density(mu[:2], sigma[:2], family)
    shown = ax.imshow(density.numpy(), origin="lower", extent=extent, cmap="Blues")
    ax.plot(*draw[:2].tolist(), "o", color="black", ms=7, label="one draw z ~ q(z|x)")
    ax.plot(*mu[:2].tolist(), "+", color="red", ms=12, mew=2, label="mean μ(x)")
    ax.grid(False)
    ax.legend(loc="upper right")
    fig.colorbar(shown, ax=ax, label="density of q(z|x)", shrink=0.85)
    return extent


def example_posterior(study: Study, model: AE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """μ, σ and one draw z ~ q(z|x), each (D,), of the example digit (figure 4's right)."""
    with torch.inference_mode():
        mu, logvar = model.encode(study.example())
        draw = model.latent(mu, logvar, study.generator())
    return mu[0], (0.5 * logvar[0]).exp(), draw[0]


def scatter_means_and_draws(study: Study, model: AE, means: Axes, draws: Axes) -> None:
    """Figure 4's left and middle: the test digits' μ(x), then one z ~ q(z|x) each."""
    x, labels = study.scatter_digits()
    radius = prior_circle(study)[0]
    scatter_latent(means, encode_means(model, x), labels, radius)
    scatter_latent(draws, encode_draws(model, x, study.generator()), labels, radius)
    index = study.figures_p.example_index
    means.set_title(f"{MEANS_NAME} of {len(x)} test digits (★ digit #{index})")
    draws.set_title(
        f"{DRAWS_NAME} {STUDY_READING}\n(○ the draw of digit #{index} shown on the right)"
    )


def fig04_vae_latent_posterior(study: Study) -> dict[str, Any]:
    """The study's figure 4: the VAE's latent means and draws, and q(z|x) of one digit."""
    beta, epoch = study.figures_p.example_beta, study.last_epoch
    index = study.figures_p.example_index
    model = study.inputs.model(beta, epoch)
    mu, sigma, draw = example_posterior(study, model)
    fig = new_figure(18.0, 5.6)
    means, draws, right = fig.subplots(1, 3)
    scatter_means_and_draws(study, model, means, draws)
    x0, x1, y0, y1 = draw_posterior(fig, right, mu, sigma, draw, model.family)
    means.plot(*mu[:2].tolist(), "*", ms=15, mfc="white", mec="black")
    means.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="black"))
    draws.plot(*draw[:2].tolist(), "o", ms=9, mfc="white", mec="black")
    right.set(
        xlabel=means.get_xlabel(),
        ylabel=means.get_ylabel(),
        title=f"q(z|x) of test digit #{index} (the □ on the left)",
    )
    show_images(right.inset_axes((0.02, 0.76, 0.22, 0.22)), study.example(), 1)
    fig.suptitle(
        f"{model_title(beta, epoch)}: latent means, latent draws, one approximate posterior"
    )
    digit_legend(fig, prior_circle(study)[1])
    study.save(fig, FIG_POSTERIOR)
    return {"mu": mu.tolist(), "sigma": sigma.tolist(), "draw": draw.tolist()}


def fig15_manifold(study: Study) -> str | None:
    """Beyond the study: decodes of a grid of the prior's quantiles (Kingma & Welling 2014,
    fig. 4): N(0, 1)'s for the normal and uniform families, Laplace's for the Laplace.

    Returns a note instead of drawing when the latent space is not 2-D.
    """
    if not draws_manifold(study.latent_dim):
        return (
            f"{FIG_MANIFOLD} skipped: model.latent_dim = {study.latent_dim}; "
            "the quantile grid needs a 2-D latent space"
        )
    beta, epoch = study.figures_p.example_beta, study.last_epoch
    size = study.figures_p.manifold_size
    images = manifold(study.inputs.model(beta, epoch), size)
    model_p = study.inputs.model_p
    quantiles = prior_quantiles(size, model_p.latent, model_p.prior_std).tolist()
    prior = prior_label(model_p, identity="1")
    step = max(1, size // 6)
    centres = [
        i * (IMAGE_SIDE + TILE_PADDING) + TILE_PADDING + IMAGE_SIDE / 2 - 0.5 for i in range(size)
    ][::step]
    fig = new_figure(7.6, 8.0)
    ax = fig.subplots()
    show_images(ax, images, size)
    ax.set_xticks(centres, [f"{q:.2f}" for q in quantiles[::step]])
    ax.set_yticks(centres, [f"{q:.2f}" for q in quantiles[::-1][::step]])
    ax.set(
        xlabel=f"$z_1$ ({prior} quantiles)",
        ylabel=f"$z_2$ ({prior} quantiles)",
        title=f"{model_title(beta, epoch)}: decodes of a {size} × {size} grid of "
        f"{prior} quantiles",
    )
    study.save(fig, FIG_MANIFOLD)
    return None
