"""Held-out metrics as pure functions of tensors: IWAE, active units, aggregate posterior,
classifier confidence and Fréchet distance."""

from __future__ import annotations

import math

import torch

from vaelab.core import latents
from vaelab.core.objectives import LOG_2PI, Likelihood


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z | mu, diag exp(logvar)), summed over the last dimension."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).square() / logvar.exp()).sum(dim=-1)


def importance_log_weights(
    model, x: torch.Tensor, likelihood: Likelihood, k: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """log w = log p(x|z) + log p(z) − log q(z|x) for k draws z ~ q(z|x) (Burda et al. 2015).

    x: (B, 784). Returns (log_w (k, B), recon_nats (k, B)); all k·B decodes in one batch.
    """
    mu, logvar = model.encode(x)
    family, prior_std = model.family, model.prior_std
    eps = latents.unit_noise(family, (k, *mu.shape), generator, mu.dtype, mu.device)
    z = mu + torch.exp(0.5 * logvar) * eps  # (k, B, D)
    logits = model.decode(z.reshape(-1, z.shape[-1]))
    x_rep = x.expand(k, *x.shape).reshape(-1, x.shape[-1])
    recon_nats = (likelihood.recon(logits, x_rep) + likelihood.nats_offset).reshape(k, -1)
    if latents.is_standard_normal(family, prior_std):  # the order of operations of before
        log_prior = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
    else:
        log_prior = latents.log_prior(family, z, prior_std)
    log_w = -recon_nats + log_prior - latents.log_posterior(family, eps, logvar)
    return log_w, recon_nats


def iwae_nats(log_w: torch.Tensor) -> torch.Tensor:
    """(B,) −log p(x) estimated as −log mean_k w_k, a bound tighter than −ELBO for k ≥ 1."""
    return -(torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0]))


def active_units(mu: torch.Tensor, threshold: float) -> tuple[int, list[float]]:
    """Burda et al.: a unit is active when Cov_x(E_q[z|x]) > threshold. mu: (N, D)."""
    variance = mu.var(dim=0)
    return int((variance > threshold).sum()), variance.tolist()


def aggregate_posterior(mu: torch.Tensor, logvar: torch.Tensor | None) -> dict[str, object]:
    """Mean and covariance of q(z) = E_x q(z|x), and KL(N(mean, cov) || N(0, I)) in nats.

    cov = Cov_x(mu) + E_x[diag σ²]; the AE (logvar None) is deterministic, σ = 0.
    """
    mean = mu.mean(dim=0)
    cov = torch.cov(mu.T.double()).reshape(mu.shape[1], mu.shape[1])
    if logvar is not None:
        cov = cov + torch.diag(logvar.double().exp().mean(dim=0))
    dim = mu.shape[1]
    logdet = torch.linalg.slogdet(cov).logabsdet
    kl = 0.5 * (torch.trace(cov) + mean.double().square().sum() - dim - logdet)
    return {"mean": mean.tolist(), "cov": cov.tolist(), "kl_to_prior": float(kl)}


def class_entropy_bits(predictions: torch.Tensor, n_classes: int = 10) -> tuple[float, list]:
    """Entropy (bits) of the predicted-class histogram; log2(10) = 3.32 is all classes equal."""
    counts = torch.bincount(predictions, minlength=n_classes).double()
    p = counts / counts.sum()
    entropy = -(p[p > 0] * p[p > 0].log2()).sum()
    return float(entropy) + 0.0, counts.long().tolist()  # + 0.0: one class gives 0, not -0


def _sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """‖μa − μb‖² + tr(Ca + Cb − 2 (Ca^½ Cb Ca^½)^½) between Gaussians fitted to features."""
    a, b = features_a.double(), features_b.double()
    mean_a, mean_b = a.mean(dim=0), b.mean(dim=0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    root_a = _sqrtm_psd(cov_a)
    cross = _sqrtm_psd(root_a @ cov_b @ root_a)
    value = (mean_a - mean_b).square().sum() + torch.trace(cov_a + cov_b - 2 * cross)
    return float(value)
