"""The latent families' closed forms against torch.distributions, Monte Carlo and autograd."""

import math

import pytest
import torch
from torch import distributions as D

from vaelab.core import latents

FAMILIES = latents.FAMILIES


def _posterior(family, mu, logvar):
    std = torch.exp(0.5 * logvar)
    if family == "normal":
        return D.Normal(mu, std)
    if family == "laplace":
        return D.Laplace(mu, std / math.sqrt(2))
    return D.Uniform(mu - math.sqrt(3) * std, mu + math.sqrt(3) * std)


def _prior(family, prior_std):
    zero = torch.zeros((), dtype=torch.float64)
    if family == "laplace":
        return D.Laplace(zero, torch.tensor(prior_std / math.sqrt(2), dtype=torch.float64))
    return D.Normal(zero, torch.tensor(prior_std, dtype=torch.float64))


def _heads(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = 2.0 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    logvar = 3.0 * torch.rand(n, 2, generator=g, dtype=torch.float64) - 2.5
    return mu, logvar


@pytest.mark.parametrize("family", FAMILIES)
def test_unit_noise_has_zero_mean_and_unit_variance(family):
    eps = latents.unit_noise(family, (400_000,), torch.Generator().manual_seed(1))
    assert eps.dtype == torch.float32 and torch.isfinite(eps).all()
    assert abs(eps.mean().item()) < 0.01
    assert abs(eps.var().item() - 1.0) < 0.01


def test_normal_noise_is_torch_randn():
    """The normal family draws exactly what today's models draw."""
    ours = latents.unit_noise("normal", (16, 2), torch.Generator().manual_seed(7))
    assert torch.equal(ours, torch.randn((16, 2), generator=torch.Generator().manual_seed(7)))


def test_laplace_noise_is_finite_at_the_edge_of_the_uniform():
    eps = latents.laplace_from_uniform(torch.tensor([0.0, 0.5, 1.0 - 2**-24]))
    assert torch.isfinite(eps).all()
    assert eps[1] == 0 and eps[0] < -10 and eps[2] > 10  # the inverse CDF rises with u


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("prior_std", [1.0, 0.7])
def test_kl_matches_torch_distributions(family, prior_std):
    mu, logvar = _heads()
    ours = latents.kl_per_dim(family, mu, logvar, prior_std)
    theirs = D.kl_divergence(_posterior(family, mu, logvar), _prior(family, prior_std))
    torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("family", FAMILIES)
def test_kl_matches_a_monte_carlo_estimate(family):
    """E_q[log q(z|x) − log p(z)] over the family's own draws, within 5 standard errors."""
    mu = torch.tensor([[0.3, -1.2]], dtype=torch.float64)
    logvar = torch.tensor([[-1.0, 0.4]], dtype=torch.float64)
    eps = latents.unit_noise(family, (200_000, 1, 2), torch.Generator().manual_seed(3))
    eps = eps.double()
    z = mu + torch.exp(0.5 * logvar) * eps
    log_ratio = latents.log_posterior(family, eps, logvar) - latents.log_prior(family, z)
    exact = latents.kl_per_dim(family, mu, logvar).sum().item()
    error = log_ratio.std().item() / math.sqrt(log_ratio.numel())
    assert abs(log_ratio.mean().item() - exact) < 5 * error


@pytest.mark.parametrize("family", FAMILIES)
def test_densities_match_torch_distributions(family):
    mu, logvar = _heads(n=32, seed=4)
    eps = latents.unit_noise(family, tuple(mu.shape), torch.Generator().manual_seed(5)).double()
    z = mu + torch.exp(0.5 * logvar) * eps
    posterior = _posterior(family, mu, logvar).log_prob(z).sum(dim=-1)
    torch.testing.assert_close(latents.log_posterior(family, eps, logvar), posterior)
    prior = _prior(latents.prior_family(family), 0.7).log_prob(z).sum(dim=-1)
    torch.testing.assert_close(latents.log_prior(family, z, 0.7), prior)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("prior_std", [1.0, 0.7])
def test_kl_gradients_match_autograd(family, prior_std):
    mu, logvar = _heads(seed=6)
    mu.requires_grad_(True)
    logvar.requires_grad_(True)
    latents.kl_per_dim(family, mu, logvar, prior_std).sum().backward()
    grad_mu, grad_logvar = latents.kl_gradients(family, mu.detach(), logvar.detach(), prior_std)
    torch.testing.assert_close(grad_mu, mu.grad)
    torch.testing.assert_close(grad_logvar, logvar.grad)


@pytest.mark.parametrize("family", FAMILIES)
def test_shifted_prior_samples_have_the_asked_mean_and_spread(family):
    z = latents.prior_sample(family, (200_000, 2), torch.Generator().manual_seed(8), 1.0, 0.5)
    assert torch.allclose(z.mean(dim=0), torch.ones(2), atol=0.01)
    assert torch.allclose(z.std(dim=0), torch.full((2,), 0.5), atol=0.01)


def test_an_unknown_family_is_named():
    with pytest.raises(ValueError, match="unknown latent family 'gamma'; expected one of normal"):
        latents.kl_per_dim("gamma", torch.zeros(1, 2), torch.zeros(1, 2))


def test_the_normal_family_computes_what_models_computed_before_the_families():
    """Bit for bit, the expressions of eq. 10 and of log q before the families existed: a
    `normal` VAE must keep its bytes."""
    mu, logvar = (t.float() for t in _heads(seed=9))
    eps = latents.unit_noise("normal", (5, *mu.shape), torch.Generator().manual_seed(10))
    kl = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)
    log_q = -0.5 * (latents.LOG_2PI + logvar + eps.square()).sum(dim=-1)
    assert torch.equal(latents.kl_per_dim("normal", mu, logvar), kl)
    assert torch.equal(latents.log_posterior("normal", eps, logvar), log_q)
    draws = latents.prior_sample("normal", (7, 2), torch.Generator().manual_seed(11))
    assert torch.equal(draws, torch.randn((7, 2), generator=torch.Generator().manual_seed(11)))
