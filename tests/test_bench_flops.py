"""The bench's FLOP count: per layer, without the input gradient of the images, checked
against hand-computed numbers and against what the step and autograd really multiply."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from vaelab.bench.flops import training_flops_per_image
from vaelab.core import objectives
from vaelab.core.models import build_autoencoder
from vaelab.training.stacked_step import AdamSettings, StackedStep

GAUSSIAN = objectives.Likelihood("gaussian", 0.5)

# in·out of every Linear, by hand: encoder 784-64-16-8-4 (μ and s), decoder 2-8-16-64-784.
STUDY_PRODUCTS = [784 * 64, 64 * 16, 16 * 8, 8 * 4] + [2 * 8, 8 * 16, 16 * 64, 64 * 784]
# encoder 784-256-128-4, decoder 2-128-256-784.
WIDE_PRODUCTS = [784 * 256, 256 * 128, 128 * 4] + [2 * 128, 128 * 256, 256 * 784]


@pytest.mark.parametrize(
    ("hidden", "products", "expected"),
    [([64, 16, 8], STUDY_PRODUCTS, 515_872), ([256, 128], WIDE_PRODUCTS, 2_404_864)],
)
@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_count_by_hand(hidden, products, expected, kind):
    # forward 2·in·out, weight gradient 2·in·out, input gradient 2·in·out but the first layer's
    by_hand = 2 * sum(products) + 2 * sum(products) + 2 * sum(products[1:])
    assert by_hand == expected
    assert training_flops_per_image(build_autoencoder(kind, hidden, 2)) == expected


def test_three_times_forward_overstates_the_study_network_by_a_fifth():
    forward = 2 * sum(STUDY_PRODUCTS)
    assert 3 * forward / training_flops_per_image(build_autoencoder("vae", [64, 16, 8], 2)) == (
        pytest.approx(1.1945, abs=1e-4)
    )


@pytest.mark.parametrize("hidden", [[64, 16, 8], [256, 128]])
@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_count_is_what_the_step_and_autograd_multiply(hidden, kind):
    batch = 16
    model = build_autoencoder(kind, hidden, 2)
    beta = 1.0 if kind == "vae" else None
    step = StackedStep([model], [beta], GAUSSIAN, AdamSettings(1e-3, 1e-8))
    x = torch.rand(1, batch, 784)
    eps = torch.randn(1, batch, 2) if kind == "vae" else torch.zeros(1, batch, 2)
    with FlopCounterMode(display=False) as counted:
        step.gradients(x, eps)
    assert counted.get_total_flops() == batch * training_flops_per_image(model)
    with FlopCounterMode(display=False) as counted:
        recon, mu, logvar = model(x[0])
        objectives.beta_vae_terms(recon, x[0], mu, logvar, 1.0, GAUSSIAN)["loss"].backward()
    assert counted.get_total_flops() == batch * training_flops_per_image(model)
