"""Training FLOPs per image, counted per layer as the training step computes them.

Why not 3 × forward: neither the written-out step (`vaelab.training.stacked_step`) nor
autograd computes the gradient with respect to the images, so the encoder's first layer, the
784-wide one, has no input-gradient matmul. Counting it anyway overstates the wide network's
FLOPs by 17 % and the study network's by ~20 %, and with them every share of the peak.
"""

from __future__ import annotations

from torch import nn

from vaelab.core import params
from vaelab.core.models import AE, build_autoencoder


def products(net: nn.Module) -> list[int]:
    """in·out of every Linear of `net`, in order: each one's multiply-adds per image."""
    return [m.in_features * m.out_features for m in net.modules() if isinstance(m, nn.Linear)]


def training_flops_per_image(model: AE) -> int:
    """One image's matmul FLOPs in one training step of `model` (an AE or VAE of
    `build_autoencoder`): per Linear of in × out, 2·in·out forward, 2·in·out for the weight
    gradient and 2·in·out for the input gradient, except the encoder's first layer, whose
    input is the images. Elementwise work (biases, ReLU, sampling, loss, Adam) is not counted:
    it is O(width), not O(width²), and no matmul peak bounds it."""
    layers = products(model.encoder) + products(model.decoder)
    forward = weight_gradient = 2 * sum(layers)
    input_gradient = 2 * sum(layers[1:])  # layers[0]: the encoder's first layer
    return forward + weight_gradient + input_gradient


def setup_flops_per_image(setup: params.Setup) -> int:
    """`training_flops_per_image` of the setup's VAE (an AE has the same layers)."""
    m = setup.model
    return training_flops_per_image(build_autoencoder("vae", m.hidden, m.latent_dim))
