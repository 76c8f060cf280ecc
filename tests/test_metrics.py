"""Held-out metrics: invariants on real data and closed forms on known distributions."""

import dataclasses
import math

import pytest
import torch

from vaelab.core import latents, objectives, params
from vaelab.core.models import VAE
from vaelab.data.mnist import load_mnist
from vaelab.evaluation import metrics
from vaelab.evaluation.evaluate import _likelihood_terms
from vaelab.training.stacked_step import AdamSettings, StackedStep
from vaelab.training.train import FitSettings, fit_stacked


@pytest.fixture(scope="module")
def trained_vae(mnist_root):
    torch.manual_seed(0)
    train, test = load_mnist(mnist_root)
    x = train.flat_float()[:25600]
    model = VAE([256, 128], 2)
    likelihood = objectives.Likelihood("bernoulli", 0.5)
    settings = FitSettings(epochs=1, batch_size=128, lr=1e-3, seed=0, label="vae")
    step = StackedStep([model], [1.0], likelihood, AdamSettings(1e-3, 1e-8))
    fit_stacked(step, x, x[:512], [settings])
    return step.write_to(0, model).eval(), likelihood, test.flat_float()[:1000]


def test_iwae_is_at_most_neg_elbo_on_real_digits(trained_vae):
    model, likelihood, x = trained_vae
    eval_p = dataclasses.replace(params.load("eval"), batch_size=800, iwae_k=16)
    terms = _likelihood_terms(model, x, likelihood, eval_p, torch.Generator().manual_seed(0))
    iwae, elbo = terms["iwae_nats"].mean(), terms["neg_elbo_nats"].mean()
    assert iwae <= elbo
    assert elbo - iwae < 10  # a 2-D posterior: the bound is loose by a few nats, not hundreds
    assert 100 < float(elbo) < 300


def test_iwae_with_one_sample_is_the_single_sample_elbo():
    log_w = torch.tensor([[-3.0, -5.0]])
    assert torch.equal(metrics.iwae_nats(log_w), torch.tensor([3.0, 5.0]))
    log_w = torch.log(torch.tensor([[1.0], [3.0]]))
    assert torch.allclose(metrics.iwae_nats(log_w), -torch.log(torch.tensor([2.0])))


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_importance_weights_give_the_exact_log_likelihood_when_z_is_ignored(
    mnist_root, likelihood
):
    """Closed form: with q(z|x) = p(z) and a decoder that ignores z, every weight is p(x), so
    IWAE must equal the exact −log p(x) for any k; a wrong log q or log p(z) would show."""
    torch.manual_seed(0)
    model = VAE([16], 3)
    with torch.no_grad():
        for parameter in model.encoder.parameters():
            parameter.zero_()  # mu = 0, logvar = 0: q(z|x) = N(0, I) = p(z)
        model.decoder[0].weight.zero_()  # the decoder's output no longer depends on z
    x = load_mnist(mnist_root)[1].flat_float()[:64]
    law = objectives.Likelihood(likelihood, 0.5)
    with torch.inference_mode():
        logits = model.decode(torch.randn(1, 3)).expand(len(x), -1)
        exact = law.recon(logits, x) + law.nats_offset  # −log p(x), no z involved
        for k in (1, 7):
            log_w, _ = metrics.importance_log_weights(
                model, x, law, k, torch.Generator().manual_seed(k)
            )
            assert torch.allclose(metrics.iwae_nats(log_w), exact, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("family", ["laplace", "uniform"])
def test_importance_weights_of_each_latent_family_in_closed_form(mnist_root, family):
    """As above, with q(z|x) the family's unit-variance posterior. Laplace's prior is q itself,
    so IWAE is exact for any k. The uniform's prior is N(0, I), so the weights average to
    p(x)·P(|z| ≤ √3)^D, and IWAE tends to −log p(x) − D·log P(|z| ≤ √3) as k grows."""
    torch.manual_seed(0)
    model = VAE([16], 3, family=family)
    with torch.no_grad():
        for parameter in model.encoder.parameters():
            parameter.zero_()
        model.decoder[0].weight.zero_()
    x = load_mnist(mnist_root)[1].flat_float()[:4]
    law = objectives.Likelihood("gaussian", 0.5)
    with torch.inference_mode():
        exact = law.recon(model.decode(torch.randn(1, 3)).expand(len(x), -1), x)
        exact = exact + law.nats_offset
        k = 1 if family == "laplace" else 20_000
        log_w, _ = metrics.importance_log_weights(
            model, x, law, k, torch.Generator().manual_seed(k)
        )
    inside = math.erf(math.sqrt(3) / math.sqrt(2))  # P(|z| ≤ √3), z ~ N(0, 1)
    expected = exact if family == "laplace" else exact - 3 * math.log(inside)
    assert torch.allclose(metrics.iwae_nats(log_w), expected, rtol=1e-5, atol=0.02)


def test_log_normal_is_the_diagonal_gaussian_log_density():
    g = torch.Generator().manual_seed(0)
    z, mu, logvar = (torch.randn((5, 3), generator=g) for _ in range(3))
    expected = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(dim=-1)
    assert torch.allclose(metrics.log_normal(z, mu, logvar), expected, atol=1e-5)


def test_aggregate_posterior_of_the_prior_is_close_to_zero_kl():
    z = torch.randn((20000, 2), generator=torch.Generator().manual_seed(0))
    assert metrics.aggregate_posterior(z, None)["kl_to_prior"] < 0.001
    shifted = metrics.aggregate_posterior(z * 3 + 1, None)
    assert shifted["kl_to_prior"] == pytest.approx(0.5 * (2 * 9 + 2 - 2 - 2 * 2.1972), rel=0.02)
    with_sigma = metrics.aggregate_posterior(torch.zeros(4, 2), torch.zeros(4, 2))
    assert with_sigma["cov"] == [[1.0, 0.0], [0.0, 1.0]]


def test_active_units_threshold():
    mu = torch.stack([torch.linspace(-1, 1, 100), torch.full((100,), 0.3)], dim=1)
    count, variance = metrics.active_units(mu, 0.01)
    assert count == 1 and variance[1] == 0.0


def test_class_entropy():
    assert metrics.class_entropy_bits(torch.arange(10))[0] == pytest.approx(3.3219, abs=1e-4)
    entropy, counts = metrics.class_entropy_bits(torch.full((7,), 3))
    assert entropy == 0.0 and str(entropy) == "0.0" and counts[3] == 7  # not "-0.0"


def test_frechet_distance_is_zero_for_a_set_and_its_mean_shift_squared():
    a = torch.randn((5000, 4), generator=torch.Generator().manual_seed(1))
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert metrics.frechet_distance(a, a + 2.0) == pytest.approx(16.0, rel=1e-6)


def test_log_posterior_survives_a_tiny_sigma_far_from_zero():
    """σ = 1e-6 at μ = 30: z − μ underflows float32's spacing, ε does not."""
    mu, logvar = torch.full((1, 2), 30.0), torch.full((1, 2), 2 * math.log(1e-6))
    eps = torch.tensor([[[0.5, -1.0]]])
    z = mu + torch.exp(0.5 * logvar) * eps
    exact = latents.log_posterior("normal", eps, logvar)
    naive = metrics.log_normal(z, mu, logvar)
    expected = -0.5 * (2 * math.log(2 * math.pi) + 2 * 2 * math.log(1e-6) + 1.25)
    assert float(exact) == pytest.approx(expected, rel=1e-6)
    assert abs(float(naive) - expected) > 0.1  # what the IWAE estimate used to get


def white_features(n: int, dim: int, seed: int) -> torch.Tensor:
    """(n, dim) float64 features with zero column means and sample covariance exactly I
    (whitened by the inverse Cholesky factor), so Fréchet distances have closed forms."""
    raw = torch.randn((n, dim), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    centred = raw - raw.mean(dim=0)
    factor = torch.linalg.cholesky(torch.cov(centred.T))
    return torch.linalg.solve_triangular(factor, centred.T, upper=False).T


@pytest.mark.parametrize("dim", [2, 3, 8])
def test_frechet_distance_covariance_term_of_i_against_4i_is_the_dimension(dim):
    """tr(I + 4I − 2(I·4I·I)^½) = tr(I + 4I − 4I) = d. Without the cross term it would be 5d,
    with the cross term counted once 3d, without its outer square root −3d."""
    a = white_features(500, dim, seed=dim)
    assert torch.allclose(torch.cov(a.T), torch.eye(dim, dtype=torch.float64), atol=1e-12)
    assert metrics.frechet_distance(a, 2 * a) == pytest.approx(dim, rel=1e-9)
    assert metrics.frechet_distance(2 * a, a) == pytest.approx(dim, rel=1e-9)


def test_frechet_distance_adds_the_squared_mean_shift_to_the_covariance_term():
    a = white_features(500, 4, seed=0)
    shift = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)  # ‖Δμ‖² = 14.25
    assert metrics.frechet_distance(a, 2 * a + shift) == pytest.approx(4 + 14.25, rel=1e-9)
