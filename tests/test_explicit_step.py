"""The written-out training step equals autograd + torch.optim.Adam on the same batch."""

import pytest
import torch

from vaelab.core import objectives
from vaelab.core.models import build_autoencoder
from vaelab.training.explicit_step import AdamSettings, ExplicitStep

HIDDEN = [32, 16, 8]


def autograd_loss(model, x, eps, beta, likelihood):
    """The objective through autograd: the study's loss, s read as log σ² by the KL."""
    mu, logvar = model.encode(x)
    if not model.stochastic:
        return objectives.autoencoder_terms(model.decode(mu), x, likelihood)["loss"]
    z = mu + torch.exp(0.5 * logvar) * eps  # logvar is the sampled q's, under either rule
    kl_logvar = model.objective_logvar(logvar)
    return objectives.beta_vae_terms(model.decode(z), x, mu, kl_logvar, beta, likelihood)["loss"]


CASES = [
    ("ae", None, "gaussian", "log_var"),
    ("vae", 1.0, "gaussian", "log_var"),
    ("vae", 5.0, "gaussian", "log_sigma"),
    ("vae", 0.0, "bernoulli", "log_sigma"),
    ("vae", 2.0, "bernoulli", "log_var"),
]


@pytest.mark.parametrize(("kind", "beta", "likelihood_name", "sampling"), CASES)
def test_gradients_equal_autograd(kind, beta, likelihood_name, sampling):
    torch.manual_seed(0)
    model = build_autoencoder(kind, HIDDEN, 2, "glorot_uniform", sampling).double()
    likelihood = objectives.Likelihood(likelihood_name, 0.5)
    x = torch.rand(16, 784, dtype=torch.float64)
    eps = torch.randn(16, 2, dtype=torch.float64) if kind == "vae" else None
    step = ExplicitStep(model, beta, likelihood, AdamSettings(1e-3, 1e-7))
    terms = step.gradients(x, eps)
    loss = autograd_loss(model, x, eps, beta, likelihood)
    loss.backward()
    expected = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    assert float(terms["loss"]) == pytest.approx(float(loss.detach()), rel=1e-12)
    torch.testing.assert_close(step.grad, expected, rtol=1e-9, atol=1e-12)
    assert step.grad.abs().sum() > 0


def test_adam_update_is_torch_adam_fused():
    """The same kernel over one flat buffer instead of one per tensor: equal up to where the
    vectorised loop splits (a last-bit difference), after several steps."""
    torch.manual_seed(1)
    model = build_autoencoder("vae", HIDDEN, 2, "torch", "log_var")
    reference = build_autoencoder("vae", HIDDEN, 2, "torch", "log_var")
    reference.load_state_dict(model.state_dict())
    initial = torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone()
    likelihood = objectives.Likelihood("gaussian", 0.5)
    step = ExplicitStep(model, 1.0, likelihood, AdamSettings(1e-3, 1e-7))
    adam = torch.optim.Adam(reference.parameters(), lr=1e-3, eps=1e-7, fused=True)
    for _ in range(3):
        x, eps = torch.rand(16, 784), torch.randn(16, 2)
        step.step(x, eps)
        # the reference gets the very gradients the step computed: only Adam is compared
        offset = 0
        for p in reference.parameters():
            p.grad = step.grad[offset : offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        adam.step()
    trained = step.write_to(model)
    for ours, theirs in zip(trained.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-8)
    moved = torch.nn.utils.parameters_to_vector(trained.parameters()) - initial
    assert moved.abs().max() > 1e-4  # three steps of lr 1e-3 moved the weights


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
