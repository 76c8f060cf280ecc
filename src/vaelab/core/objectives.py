"""The losses, as pure functions of tensors. Every function states its reduction.

Per image the β-VAE loss is recon + β·KL (Higgins et al. 2017; the study's eq. 12), with
recon summed over the 784 pixels and KL summed over latent dimensions. Batch values are
means over images, so β means the same at any batch size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from vaelab.core import latents

LOG_2PI = math.log(2 * math.pi)


def kl_divergence(
    mu: torch.Tensor, logvar: torch.Tensor, family: str = "normal", prior_std: float = 1.0
) -> torch.Tensor:
    """(B,) KL(q(z|x) || p(z)) summed over latent dimensions, closed form (`core/latents.py`;
    for `normal`, the study's eq. 10). mu, logvar: (B, D)."""
    return latents.kl_per_dim(family, mu, logvar, prior_std).sum(dim=1)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(B,) −log Bernoulli(x | sigmoid(logits)), summed over pixels; x: (B, 784) in [0, 1].

    softplus(l) − x·l equals BCE-with-logits and is stable; it costs half of
    `F.binary_cross_entropy_with_logits` on CPU (no log-sigmoid buffer).
    """
    return (F.softplus(logits) - x * logits).sum(dim=1)


def gaussian_sse(logits: torch.Tensor, x: torch.Tensor, variance: float) -> torch.Tensor:
    """(B,) Σ (x − sigmoid(logits))² / (2σ²): −log N(x | mean, σ²I) without its constant.

    With σ² = 0.5 this is exactly the study's sum of squared errors.
    """
    return (torch.sigmoid(logits) - x).square().sum(dim=1) / (2.0 * variance)


def gaussian_log_constant(pixels: int, variance: float) -> float:
    """The normalising constant D/2 · log(2πσ²) that turns `gaussian_sse` into nats."""
    return 0.5 * pixels * (LOG_2PI + math.log(variance))


class Likelihood:
    """p(x|z) chosen by `model.likelihood`: `recon` for training, `nats_offset` for reporting."""

    def __init__(self, name: str, variance: float, pixels: int = 784) -> None:
        if name not in ("gaussian", "bernoulli"):
            raise ValueError(f"unknown likelihood {name!r}; expected gaussian or bernoulli")
        self.name, self.variance = name, variance
        self.nats_offset = gaussian_log_constant(pixels, variance) if name == "gaussian" else 0.0

    def recon(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) reconstruction term; add `nats_offset` for −log p(x|z) in nats."""
        if self.name == "bernoulli":
            return bernoulli_nll(logits, x)
        return gaussian_sse(logits, x, self.variance)


def beta_vae_terms(
    logits: torch.Tensor,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float,
    likelihood: Likelihood,
    family: str = "normal",
    prior_std: float = 1.0,
) -> dict[str, torch.Tensor]:
    """Batch means of recon, kl and the loss recon + β·KL. β = 0 still reports KL."""
    recon = likelihood.recon(logits, x).mean()
    kl = kl_divergence(mu, logvar, family, prior_std).mean()
    return {"loss": recon + beta * kl, "recon": recon, "kl": kl}


def autoencoder_terms(
    logits: torch.Tensor, x: torch.Tensor, likelihood: Likelihood
) -> dict[str, torch.Tensor]:
    """The plain autoencoder's loss is the reconstruction alone (batch mean)."""
    recon = likelihood.recon(logits, x).mean()
    return {"loss": recon, "recon": recon}


def classifier_terms(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Mean cross-entropy and accuracy over the batch."""
    accuracy = (logits.argmax(dim=1) == labels).float().mean()
    return {"loss": F.cross_entropy(logits, labels), "accuracy": accuracy}


def kl_shares(recon: float, kl: float, beta: float) -> dict[str, float]:
    """The two KL shares of the study's loss plots.

    `kl_share` = KL / (recon + KL), the share of the unweighted ELBO terms (figures 10–11
    and claim 7: defined for β = 0 too); `beta_kl_share` = β·KL / (recon + β·KL), the share
    of the optimised loss.
    """
    total = recon + beta * kl
    return {
        "kl_share": kl / (recon + kl) if recon + kl else 0.0,
        "beta_kl_share": beta * kl / total if total else 0.0,
    }


# The autograd loop's objective(model, x, labels) -> {"loss": …, …}: the classifier's.


def classifier_objective(model, x, labels):
    """The training loop's objective for the digit classifier."""
    return classifier_terms(model(x), labels)
