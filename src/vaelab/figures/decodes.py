"""What a figure shows of a model: latents, reconstructions, samples, redecodes, a quantile grid.

Pure functions of a model, images and a seeded `torch.Generator`, under inference mode.
Images are (N, 784) in [0, 1]; latents are (N, D).
"""

from __future__ import annotations

import math

import torch

from vaelab.core import latents
from vaelab.core.models import AE


@torch.inference_mode()
def encode_means(model: AE, x: torch.Tensor) -> torch.Tensor:
    """(N, D) posterior means μ(x): the latent codes without the draw that training decodes."""
    return model.encode(x)[0]


@torch.inference_mode()
def encode_draws(model: AE, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(N, D) one z ~ q(z|x) per image, by the model's own sampling rule (the AE's is μ).

    The study's §4.1 plots these, "a combination of weights ... and a random draw": where a
    collapsed VAE's means sit in a dot at the origin, its draws fill N(0, I).
    """
    mu, logvar = model.encode(x)
    return model.latent(mu, logvar, generator)


@torch.inference_mode()
def reconstruct(model: AE, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The model's own forward pass, z drawn from q(z|x) for a VAE (mu for the AE)."""
    mu, logvar = model.encode(x)
    return torch.sigmoid(model.decode(model.latent(mu, logvar, generator)))


@torch.inference_mode()
def decode(model: AE, z: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(model.decode(z))


@torch.inference_mode()
def redecodes(model: AE, x: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 784): one image (1, 784) encoded once and decoded from n fresh draws of q(z|x).

    Each draw is decoded on its own: a batched matmul may round identical rows differently,
    and the AE's spread across redecodes must come out exactly 0.
    """
    mu, logvar = model.encode(x)
    draws = [model.latent(mu, logvar, generator) for _ in range(n)]
    return torch.cat([torch.sigmoid(model.decode(z)) for z in draws])


def pixel_std(images: torch.Tensor) -> torch.Tensor:
    """(784,) per-pixel standard deviation across images (N, 784); N = 1 gives zeros."""
    return images.std(dim=0, unbiased=False)


def prior_quantiles(size: int, family: str = "normal", prior_std: float = 1.0) -> torch.Tensor:
    """`size` quantiles of the family's prior p(z) per dimension, at probabilities
    (i + 0.5) / size: equal prior mass apart."""
    probs = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    if latents.prior_family(family) == "laplace":
        prior = torch.distributions.Laplace(0.0, prior_std / latents.SQRT2)
    else:
        prior = torch.distributions.Normal(0.0, prior_std)
    return prior.icdf(probs).float()


def prior_disc_mass(family: str, radius: float, points: int = 20_001) -> float:
    """The share of the family's prior (unit variance per dimension) that lies within
    `radius` of the origin in two of its dimensions: the dashed circle of the latent
    scatters. Normal: 1 − e^(−r²/2). Laplace (b = 1/√2): ∫ p(z₁) P(|z₂| ≤ √(r² − z₁²)) dz₁,
    by the trapezoid rule on `points` points."""
    if latents.prior_family(family) != "laplace":
        return 1.0 - math.exp(-0.5 * radius**2)
    b = 1.0 / latents.SQRT2
    z1 = torch.linspace(0.0, radius, points, dtype=torch.float64)
    inside = 1.0 - torch.exp(-(radius**2 - z1.square()).clamp(min=0.0).sqrt() / b)
    density = torch.exp(-z1 / b) / (2.0 * b)
    return 2.0 * float(torch.trapezoid(density * inside, z1))


@torch.inference_mode()
def manifold(model: AE, size: int) -> torch.Tensor:
    """(size², 784) decodes of a 2-D grid of the prior's quantiles, row-major from the
    top-left.

    Rows run from high z₂ (top) to low, columns from low z₁ (left) to high, as on a plot.
    """
    q = prior_quantiles(size, model.family, model.prior_std)
    z2, z1 = torch.meshgrid(q.flip(0), q, indexing="ij")
    return decode(model, torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=1))


def posterior_density(
    mu: torch.Tensor,
    sigma: torch.Tensor,
    family: str = "normal",
    points: int = 200,
    width: float = 4.0,
) -> tuple[torch.Tensor, list[float]]:
    """Density of a diagonal 2-D posterior q(z|x) of the family (mu, sigma: (2,); σ² its
    variance) on a square raster around mu.

    The square spans ±width·max(σ) on both axes, so equal aspect keeps the true shape (an
    ellipse, a diamond, a box). Returns the (points, points) raster, row 0 the lowest z₂,
    and its imshow extent.
    """
    half = width * float(sigma.max())
    z1, z2 = (torch.linspace(float(m) - half, float(m) + half, points) for m in mu)
    grid_z2, grid_z1 = torch.meshgrid(z2, z1, indexing="ij")
    points_z = torch.stack([grid_z1, grid_z2], dim=-1)
    if family == "normal":
        log_q = torch.distributions.Normal(mu, sigma).log_prob(points_z)
    else:
        eps = (points_z - mu) / sigma
        log_q = latents.log_unit_density(family, eps) - sigma.log()
        if family == "uniform":  # zero density outside the box μ ± √3σ
            log_q = log_q.masked_fill(eps.abs() > latents.SQRT3, -math.inf)
    density = log_q.sum(dim=-1).exp()
    return density, [float(z1[0]), float(z1[-1]), float(z2[0]), float(z2[-1])]
