"""The written-out stacked step equals autograd + torch.optim.Adam for each of its models."""

import pytest
import torch

from vaelab.core import latents, objectives
from vaelab.core.models import build_autoencoder
from vaelab.training.stacked_step import AdamSettings, StackedStep

HIDDEN = [32, 16, 8]


def autograd_loss(model, x, eps, beta, likelihood):
    """The objective through autograd: the study's loss, s read as log σ² by the KL."""
    mu, logvar = model.encode(x)
    if not model.stochastic:
        return objectives.autoencoder_terms(model.decode(mu), x, likelihood)["loss"]
    z = mu + torch.exp(0.5 * logvar) * eps  # logvar is the sampled q's, under either rule
    kl_logvar = model.objective_logvar(logvar)
    terms = objectives.beta_vae_terms(
        model.decode(z), x, mu, kl_logvar, beta, likelihood, model.family, model.prior_std
    )
    return terms["loss"]


CASES = [
    ("ae", None, "gaussian", "log_var"),
    ("vae", 1.0, "gaussian", "log_var"),
    ("vae", 5.0, "gaussian", "log_sigma"),
    ("vae", 0.0, "bernoulli", "log_sigma"),
    ("vae", 2.0, "bernoulli", "log_var"),
]


def _models(kind, sampling, n, seed=0, dtype=torch.float64, family="normal", prior_std=1.0):
    torch.manual_seed(seed)
    return [
        build_autoencoder(kind, HIDDEN, 2, "glorot_uniform", sampling, family, prior_std).to(dtype)
        for _ in range(n)
    ]


def _stacked_rows(step, k, buffer):
    return step._rows(k, buffer).read()


@pytest.mark.parametrize(("kind", "beta", "likelihood_name", "sampling"), CASES)
def test_gradients_equal_autograd(kind, beta, likelihood_name, sampling):
    """Three models stacked, each with its own batch, ε and β: each one's gradient is the one
    autograd gives that model alone."""
    _compare_with_autograd(_models(kind, sampling, 3), kind, beta, likelihood_name, "normal")


@pytest.mark.parametrize(
    ("family", "sampling", "prior_std"),
    [
        ("laplace", "log_var", 1.0),
        ("laplace", "log_sigma", 0.7),
        ("uniform", "log_var", 1.0),
        ("uniform", "log_sigma", 0.7),
        ("normal", "log_var", 0.7),
    ],
)
def test_each_latent_family_gradients_equal_autograd(family, sampling, prior_std):
    """The same for each family's KL and noise, and for a prior of another spread."""
    models = _models("vae", sampling, 3, family=family, prior_std=prior_std)
    _compare_with_autograd(models, "vae", 5.0, "gaussian", family)


def _compare_with_autograd(models, kind, beta, likelihood_name, family):
    betas = [None] * 3 if kind == "ae" else [beta, 2 * beta + 1, 0.5]
    likelihood = objectives.Likelihood(likelihood_name, 0.5)
    x = torch.rand(3, 16, 784, dtype=torch.float64)
    eps = latents.unit_noise(family, (3, 16, 2), dtype=torch.float64)
    if kind == "ae":
        eps.zero_()
    step = StackedStep(models, betas, likelihood, AdamSettings(1e-3, 1e-7))
    terms = step.gradients(x, eps)
    for k, model in enumerate(models):
        e = None if kind == "ae" else eps[k]
        loss = autograd_loss(model, x[k], e, betas[k], likelihood)
        loss.backward()
        expected = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
        assert float(terms["loss"][k]) == pytest.approx(float(loss.detach()), rel=1e-12)
        got = _stacked_rows(step, k, step.grad)
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-12)
        assert got.abs().sum() > 0


def test_adam_update_is_torch_adam_fused():
    """The same kernel over the stacked buffers instead of one per tensor: equal up to where
    the vectorised loop splits (a last-bit difference), after several steps."""
    models = _models("vae", "log_var", 2, seed=1, dtype=torch.float32)
    references = _models("vae", "log_var", 2, seed=1, dtype=torch.float32)
    initial = [
        torch.nn.utils.parameters_to_vector(m.parameters()).detach().clone() for m in models
    ]
    likelihood = objectives.Likelihood("gaussian", 0.5)
    step = StackedStep(models, [1.0, 5.0], likelihood, AdamSettings(1e-3, 1e-7))
    adams = [torch.optim.Adam(r.parameters(), lr=1e-3, eps=1e-7, fused=True) for r in references]
    for _ in range(3):
        step.step(torch.rand(2, 16, 784), torch.randn(2, 16, 2))
        # each reference gets the very gradients the step computed: only Adam is compared
        for k, (reference, adam) in enumerate(zip(references, adams, strict=True)):
            grad, offset = _stacked_rows(step, k, step.grad), 0
            for p in reference.parameters():
                p.grad = grad[offset : offset + p.numel()].view_as(p).clone()
                offset += p.numel()
            adam.step()
    for k, reference in enumerate(references):
        trained = step.write_to(k, models[k])
        for ours, theirs in zip(trained.parameters(), reference.parameters(), strict=True):
            torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-8)
        moved = torch.nn.utils.parameters_to_vector(trained.parameters()) - initial[k]
        assert moved.abs().max() > 1e-4  # three steps of lr 1e-3 moved the weights
    state = step.optimizer_state(1)
    assert state["exp_avg"].shape == initial[1].shape and float(state["step"]) == 3


def test_an_ae_beside_vaes_gets_the_autoencoders_gradient():
    """An AE steps as a VAE with ε = 0 and β = 0: its gradient is the AE objective's, and its
    s-head (which its loss does not read) gets exactly zero."""
    (ae,) = _models("ae", "log_var", 1)
    vaes = _models("vae", "log_sigma", 2, seed=1)
    likelihood = objectives.Likelihood("gaussian", 0.5)
    step = StackedStep(
        [vaes[0], ae, vaes[1]], [1.0, None, 5.0], likelihood, AdamSettings(1e-3, 1e-7)
    )
    x = torch.rand(3, 16, 784, dtype=torch.float64)
    eps = torch.randn(3, 16, 2, dtype=torch.float64)
    eps[1] = 0
    terms = step.gradients(x, eps)
    loss = autograd_loss(ae, x[1], None, None, likelihood)
    loss.backward()
    expected = torch.cat([p.grad.reshape(-1) for p in ae.parameters()])
    assert float(terms["loss"][1]) == float(terms["recon"][1]) == pytest.approx(loss.item())
    torch.testing.assert_close(_stacked_rows(step, 1, step.grad), expected, rtol=1e-9, atol=1e-12)
    head = ae.encoder.net[-1]
    assert not head.weight.grad[2:].any() and step.term_names(1) == ("loss", "recon")


def test_models_of_another_shape_or_a_wrong_beta_cannot_share_a_step():
    likelihood = objectives.Likelihood("gaussian", 0.5)
    adam = AdamSettings(1e-3, 1e-7)
    other = build_autoencoder("vae", [32, 8], 2, "torch", "log_var")
    with pytest.raises(ValueError, match="same shape"):
        StackedStep([*_models("vae", "log_var", 1), other.double()], [1.0, 1.0], likelihood, adam)
    with pytest.raises(ValueError, match="β None for each AE"):
        StackedStep(_models("ae", "log_var", 1), [1.0], likelihood, adam)


def test_sampling_rules_differ_only_in_sigma():
    """log_sigma samples z = μ + eˢ·ε; encode reports the log-variance 2s of that q."""
    torch.manual_seed(2)
    a = build_autoencoder("vae", HIDDEN, 2, "torch", "log_var")
    b = build_autoencoder("vae", HIDDEN, 2, "torch", "log_sigma")
    b.load_state_dict(a.state_dict())
    x = torch.rand(4, 784)
    (mu_a, s), (mu_b, logvar_b) = a.encode(x), b.encode(x)
    assert torch.equal(mu_a, mu_b)
    torch.testing.assert_close(logvar_b, 2 * s)
    torch.testing.assert_close(b.objective_logvar(logvar_b), s)


def test_glorot_init_gives_each_head_its_own_fan():
    torch.manual_seed(3)
    model = build_autoencoder("vae", [64, 16, 8], 2, "glorot_uniform", "log_sigma")
    head = model.encoder.net[-1]
    limit = (6 / (8 + 2)) ** 0.5  # Keras: one Dense(2) per head, fan_in 8, fan_out 2
    assert head.weight.abs().max() <= limit
    assert head.weight.abs().max() > (6 / (8 + 4)) ** 0.5  # wider than one Dense(4) allows
    assert all(
        float(m.bias.detach().abs().sum()) == 0 for m in model.modules() if hasattr(m, "bias")
    )
