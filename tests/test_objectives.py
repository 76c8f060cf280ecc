"""The losses: closed forms against Monte Carlo and against straightforward references."""

import math

import torch
import torch.nn.functional as F

from vaelab.core import objectives


def test_kl_closed_form_matches_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    mu = torch.tensor([[0.5, -1.0]])
    logvar = torch.tensor([[-0.7, 0.4]])
    z = mu + torch.exp(0.5 * logvar) * torch.randn((200_000, 2), generator=gen)
    log_q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(1)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(1)
    monte_carlo = (log_q - log_p).mean()
    closed = objectives.kl_divergence(mu, logvar)[0]
    assert abs(float(closed) - float(monte_carlo)) < 0.01
    assert float(objectives.kl_divergence(torch.zeros(1, 2), torch.zeros(1, 2))[0]) == 0.0


def reference_loss(logits, x, mu, logvar, beta, likelihood, variance):
    """A deliberately plain per-image loop: what the fast batched path must equal."""
    total = 0.0
    for i in range(len(x)):
        p = torch.sigmoid(logits[i])
        if likelihood == "bernoulli":
            recon = F.binary_cross_entropy(p, x[i], reduction="sum")
        else:
            recon = ((p - x[i]) ** 2).sum() / (2 * variance)
        kl = sum(
            -0.5 * (1 + logvar[i, j] - mu[i, j] ** 2 - logvar[i, j].exp())
            for j in range(mu.shape[1])
        )
        total += recon + beta * kl
    return total / len(x)


def test_fast_loss_equals_reference_on_a_small_batch():
    gen = torch.Generator().manual_seed(1)
    x = torch.rand((7, 784), generator=gen)
    logits = torch.randn((7, 784), generator=gen) * 3
    mu, logvar = torch.randn((7, 2), generator=gen), torch.randn((7, 2), generator=gen)
    for name in ("bernoulli", "gaussian"):
        likelihood = objectives.Likelihood(name, 0.5)
        fast = objectives.beta_vae_terms(logits, x, mu, logvar, 5.0, likelihood)["loss"]
        slow = reference_loss(logits, x, mu, logvar, 5.0, name, 0.5)
        assert torch.allclose(fast, slow, rtol=1e-5), name


def test_gaussian_with_variance_half_is_the_studys_squared_error():
    x, logits = torch.rand(3, 784), torch.randn(3, 784)
    sse = ((torch.sigmoid(logits) - x) ** 2).sum(1)
    assert torch.allclose(objectives.Likelihood("gaussian", 0.5).recon(logits, x), sse)
    offset = objectives.Likelihood("gaussian", 0.5).nats_offset
    assert math.isclose(offset, 392 * math.log(math.pi))
    assert objectives.Likelihood("bernoulli", 0.5).nats_offset == 0.0


def test_beta_zero_still_reports_kl_and_is_batch_size_free():
    x, logits = torch.rand(4, 784), torch.randn(4, 784)
    mu, logvar = torch.ones(4, 2), torch.zeros(4, 2)
    likelihood = objectives.Likelihood("bernoulli", 0.5)
    terms = objectives.beta_vae_terms(logits, x, mu, logvar, 0.0, likelihood)
    assert float(terms["kl"]) == 1.0 and torch.equal(terms["loss"], terms["recon"])
    half = objectives.beta_vae_terms(logits[:2], x[:2], mu[:2], logvar[:2], 0.0, likelihood)
    doubled = torch.cat([x[:2], x[:2]]), torch.cat([logits[:2], logits[:2]])
    both = objectives.beta_vae_terms(doubled[1], doubled[0], mu, logvar, 0.0, likelihood)
    assert torch.allclose(half["loss"], both["loss"])


def test_kl_shares():
    shares = objectives.kl_shares(recon=90.0, kl=10.0, beta=2.0)
    assert math.isclose(shares["kl_share"], 0.1)
    assert math.isclose(shares["beta_kl_share"], 20.0 / 110.0)
    assert objectives.kl_shares(recon=90.0, kl=10.0, beta=0.0)["beta_kl_share"] == 0.0
