"""The latent families a VAE can use (`normal`, `laplace`, `uniform`): noise, densities, KL.

Every family draws z = μ + σ·ε with ε of zero mean and unit variance, so the encoder's two
heads mean the same in each (σ² is the posterior's variance), the reparameterisation and its
gradient w.r.t. z are the Gaussian's, and only the noise, the densities and the KL differ:

- `normal`: q = N(μ, σ²), prior N(0, s₀²): today's models.
- `laplace`: q = Laplace(μ, σ/√2), prior Laplace(0, s₀/√2): unit variance at s₀ = 1, so a
  prior "moved to mean 1 and scaled to 0.5 of its spread" means what N(1, 0.5²) means.
- `uniform`: q = U(μ − √3σ, μ + √3σ), the study's moving centre and bounds, with an N(0, s₀²)
  prior. A Gaussian prior keeps the KL finite for any bounds the encoder outputs (a uniform
  prior would make it infinite whenever a posterior pokes out of its support), and its closed
  form is the Gaussian KL plus a constant.

The KL takes the variance as the objective reads it (`logvar`), which under the study's
`log_sigma` sampling rule is not the sampling σ² (see `VAE.objective_logvar`).
"""

from __future__ import annotations

import math

import torch

from vaelab.core.sections import LATENT_FAMILIES as FAMILIES

LOG_2PI = math.log(2 * math.pi)
SQRT2 = math.sqrt(2.0)
SQRT3 = math.sqrt(3.0)
# log q(ε) of the unit-variance uniform U(−√3, √3) and the Gaussian-to-uniform KL constant
LOG_UNIFORM_WIDTH = math.log(2 * SQRT3)
UNIFORM_KL_OFFSET = 0.5 + 0.5 * LOG_2PI - LOG_UNIFORM_WIDTH


def check_family(family: str) -> str:
    """The family, or a ValueError naming the ones there are."""
    if family not in FAMILIES:
        raise ValueError(
            f"unknown latent family {family!r}; expected one of {', '.join(FAMILIES)}"
        )
    return family


def is_standard_normal(family: str, prior_std: float) -> bool:
    """The family every model had before the others existed, whose code paths keep their old
    order of operations (and so the old bytes)."""
    return family == "normal" and prior_std == 1.0


def prior_family(family: str) -> str:
    """The family of the prior p(z): the uniform posterior has a Gaussian prior."""
    return "normal" if check_family(family) == "uniform" else family


def unit_noise(
    family: str,
    shape: tuple[int, ...],
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """ε of zero mean and unit variance, one draw of the generator per element. `normal` is
    exactly `torch.randn`, so today's models keep their bytes."""
    if check_family(family) == "normal":
        return torch.randn(shape, generator=generator, dtype=dtype, device=device)
    u = torch.rand(shape, generator=generator, dtype=dtype, device=device)
    if family == "uniform":
        return u.mul_(2.0).sub_(1.0).mul_(SQRT3)
    return laplace_from_uniform(u)


def laplace_from_uniform(u: torch.Tensor) -> torch.Tensor:
    """Unit-variance Laplace noise from u ~ U[0, 1) by the inverse CDF, in place. u = 0 would
    give log 0, so w = 2u − 1 stays above −1 (as torch's Laplace.rsample keeps it), which
    bounds |ε| by −log(eps)/√2 ≈ 11 in float32."""
    w = u.mul_(2.0).sub_(1.0).clamp_(min=torch.finfo(u.dtype).eps - 1.0)
    return torch.log1p(-w.abs()).mul_(-w.sign()).div_(SQRT2)


def log_unit_density(family: str, eps: torch.Tensor) -> torch.Tensor:
    """log of ε's density, elementwise (ε inside the uniform's support)."""
    if check_family(family) == "normal":
        return -0.5 * (LOG_2PI + eps.square())
    if family == "laplace":
        return -SQRT2 * eps.abs() - 0.5 * math.log(2.0)
    return torch.full_like(eps, -LOG_UNIFORM_WIDTH)


def log_posterior(family: str, eps: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log q(z|x) at z = μ + σ·ε, from ε itself (σ² = exp(logvar)), summed over the last
    dimension. Computing z − μ again in float32 loses σ·ε when σ is far below the spacing of
    floats near μ; ε is exact."""
    if check_family(family) == "normal":  # the order of operations of today's IWAE
        return -0.5 * (LOG_2PI + logvar + eps.square()).sum(dim=-1)
    return (log_unit_density(family, eps) - 0.5 * logvar).sum(dim=-1)


def log_prior(family: str, z: torch.Tensor, prior_std: float = 1.0) -> torch.Tensor:
    """log p(z) of the family's prior (mean 0, standard deviation s₀), summed over the last
    dimension."""
    return (log_unit_density(prior_family(family), z / prior_std) - math.log(prior_std)).sum(
        dim=-1
    )


def prior_sample(
    family: str,
    shape: tuple[int, ...],
    generator: torch.Generator | None = None,
    mean: float = 0.0,
    std: float = 1.0,
) -> torch.Tensor:
    """Draws of the family's unit-variance prior moved to `mean` and scaled to `std` (the
    study's figure 14 draws N(1, 0.5²): mean 1, half the prior's spread)."""
    noise = unit_noise(prior_family(family), shape, generator)
    return noise if (mean, std) == (0.0, 1.0) else mean + std * noise


def kl_per_dim(
    family: str, mu: torch.Tensor, logvar: torch.Tensor, prior_std: float = 1.0
) -> torch.Tensor:
    """KL(q(z|x) ‖ p(z)) per image and latent dimension, closed form (no reduction)."""
    if check_family(family) == "laplace":
        # KL(Laplace(μ, b) ‖ Laplace(0, b₀)) = log(b₀/b) + |μ|/b₀ + (b/b₀)·e^(−|μ|/b) − 1
        a, b, b0 = _laplace_scales(mu, logvar, prior_std)
        return math.log(b0) - torch.log(b) + a / b0 + (b / b0) * torch.exp(-a / b) - 1.0
    if prior_std == 1.0:  # the study's eq. 10 in today's order of operations
        gaussian = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)
    else:
        variance = prior_std**2
        gaussian = 0.5 * ((mu.square() + logvar.exp()) / variance - 1.0 - logvar)
        gaussian = gaussian + math.log(prior_std)
    return gaussian + UNIFORM_KL_OFFSET if family == "uniform" else gaussian


def kl_gradients(
    family: str, mu: torch.Tensor, logvar: torch.Tensor, prior_std: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """∂KL/∂μ and ∂KL/∂logvar, elementwise, for a step that writes its backward pass out."""
    if check_family(family) == "laplace":
        a, b, b0 = _laplace_scales(mu, logvar, prior_std)
        decay = torch.exp(-a / b)
        grad_mu = mu.sign() * (1.0 - decay) / b0
        grad_logvar = 0.5 * ((b / b0) * decay * (1.0 + a / b) - 1.0)
        return grad_mu, grad_logvar
    variance = prior_std**2
    return mu / variance, 0.5 * (logvar.exp() / variance - 1.0)


def _laplace_scales(
    mu: torch.Tensor, logvar: torch.Tensor, prior_std: float
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """|μ|, the posterior's scale b = σ/√2 and the prior's b₀ = s₀/√2."""
    return mu.abs(), torch.exp(0.5 * logvar) / SQRT2, prior_std / SQRT2
