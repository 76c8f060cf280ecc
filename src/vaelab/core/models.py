"""MLP autoencoder, VAE and digit classifier. Models return what they compute; no losses here.

Shapes: x (B, 784) in [0, 1]; z (B, D); the decoder returns logits (B, 784).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vaelab.core import latents
from vaelab.core.sections import INITS, SAMPLING_RULES, ModelParams
from vaelab.data.files import N_CLASSES, PIXELS

# exp(±20) stays finite in float32 and no MNIST posterior needs a wider σ.
LOGVAR_RANGE = (-20.0, 20.0)


def mlp(sizes: Sequence[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with ReLU (and optional dropout) between them, none after the last."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """x (B, 784) -> (mu, logvar), each (B, D); logvar clamped so exp cannot overflow."""

    def __init__(self, hidden: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        self.net = mlp([PIXELS, *hidden, 2 * latent_dim])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.net(x).chunk(2, dim=1)
        return mu, logvar.clamp(*LOGVAR_RANGE)


class AE(nn.Module):
    """Deterministic autoencoder: z = mu (the study's 'neural network' autoencoder)."""

    stochastic = False
    sampling = "log_var"
    # No posterior, but its "prior samples" decode N(0, I), as the study's figures do.
    family = "normal"
    prior_std = 1.0

    def __init__(self, hidden: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = Encoder(hidden, latent_dim)
        self.decoder = mlp([latent_dim, *reversed(hidden), PIXELS])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, D) -> logits (B, 784); images are sigmoid(logits)."""
        return self.decoder(z)

    def latent(
        self, mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        return mu

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (recon_logits, mu, logvar)."""
        mu, logvar = self.encode(x)
        return self.decode(self.latent(mu, logvar)), mu, logvar


class VAE(AE):
    """Variational autoencoder: z = mu + sigma * eps (reparameterisation), eps of zero mean and
    unit variance from the latent family (`core/latents.py`; N(0, I) for `normal`).

    `encode` returns the log-variance of the q(z|x) it samples from: under `log_sigma` that is
    2s, not the s the training objective's KL reads (`objective_logvar` undoes it).
    """

    stochastic = True

    def __init__(
        self,
        hidden: Sequence[int],
        latent_dim: int,
        sampling: str = "log_var",
        family: str = "normal",
        prior_std: float = 1.0,
    ) -> None:
        super().__init__(hidden, latent_dim)
        if sampling not in SAMPLING_RULES:
            raise ValueError(f"unknown sampling rule {sampling!r}; expected {SAMPLING_RULES}")
        self.sampling = sampling
        self.family = latents.check_family(family)
        self.prior_std = prior_std

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, s = self.encoder(x)
        return mu, 2.0 * s if self.sampling == "log_sigma" else s

    def objective_logvar(self, logvar: torch.Tensor) -> torch.Tensor:
        """The s the training objective's KL term reads as log σ²."""
        return 0.5 * logvar if self.sampling == "log_sigma" else logvar

    def latent(
        self, mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        eps = latents.unit_noise(self.family, mu.shape, generator, mu.dtype, mu.device)
        return mu + torch.exp(0.5 * logvar) * eps


class Classifier(nn.Module):
    """MLP digit classifier; `features` is the penultimate layer used for Fréchet distances."""

    def __init__(self, hidden: Sequence[int], dropout: float) -> None:
        super().__init__()
        self.body = mlp([PIXELS, *hidden], dropout)
        self.body.append(nn.ReLU())
        self.head = nn.Linear(hidden[-1], N_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 784) -> logits (B, 10)."""
        return self.head(self.features(x))

    @torch.inference_mode()
    def predict(
        self, images: torch.Tensor, batch_size: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Top-class probability (the study's 'confidence') (N,), predicted digit (N,) and
        penultimate features (N, H) of images (N, 784), in eval mode and in batches."""
        self.eval()
        outputs = []
        for start in range(0, len(images), batch_size):
            features = self.features(images[start : start + batch_size])
            probs = self.head(features).softmax(dim=1)
            outputs.append((probs.amax(dim=1), probs.argmax(dim=1), features))
        confidence, predicted, features = (
            torch.cat(parts) for parts in zip(*outputs, strict=True)
        )
        return confidence, predicted, features


def build_autoencoder(
    kind: str,
    hidden: Sequence[int],
    latent_dim: int,
    init: str = "torch",
    sampling: str = "log_var",
    family: str = "normal",
    prior_std: float = 1.0,
) -> AE:
    """`kind` is 'ae' or 'vae'; `init` one of INITS, `sampling` one of SAMPLING_RULES,
    `family` one of the latent families (an AE has none)."""
    if kind == "ae":
        model = AE(hidden, latent_dim)
    else:
        model = VAE(hidden, latent_dim, sampling, family, prior_std)
    if init == "glorot_uniform":
        glorot_uniform_(model, latent_dim)
    elif init != "torch":
        raise ValueError(f"unknown init {init!r}; expected one of {INITS}")
    return model


def autoencoder_for(kind: str, model_p: ModelParams) -> AE:
    """`build_autoencoder` with every setting from a setup's `model` params."""
    return build_autoencoder(
        kind,
        model_p.hidden,
        model_p.latent_dim,
        model_p.init,
        model_p.sampling,
        model_p.latent,
        model_p.prior_std,
    )


@torch.no_grad()
def glorot_uniform_(model: AE, latent_dim: int) -> None:
    """Keras's defaults: Glorot-uniform weights and zero biases. The encoder's last layer is
    Keras's two heads (μ and s) side by side, so each half gets its own fan-out."""
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    head = model.encoder.net[-1].weight
    for half in (head[:latent_dim], head[latent_dim:]):
        nn.init.xavier_uniform_(half)


def forward_flops_per_image(model: nn.Module) -> int:
    """Multiply-adds of the Linear layers ×2: the FLOPs of one forward pass of one image."""
    return sum(
        2 * m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear)
    )
