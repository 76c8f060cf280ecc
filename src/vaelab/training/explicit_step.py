"""One training step of the MLP autoencoder or β-VAE, written out: forward, backward and Adam.

Why not autograd: at the study's batch of 16 an eager autograd step of this small network
costs about 50× its arithmetic in per-op overhead (graph building, one Adam kernel per
tensor). Written out, a step is ~80 tensor ops on one flat parameter buffer, and nothing
leaves the device until the epoch ends. `tests/test_explicit_step.py` checks the gradients
against autograd and the update against `torch.optim.Adam`.

The loss is the study's, per image and averaged over the batch: recon + β·KL, with
KL = ½ Σ (μ² + eˢ − 1 − s) reading the encoder's s as log σ². The sampling rule reads s as
log σ² (z = μ + e^(s/2)·ε, correct) or, like the code the study ran, as log σ (z = μ + eˢ·ε).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vaelab.core.models import AE, LOGVAR_RANGE


@dataclass(frozen=True)
class AdamSettings:
    """PyTorch's Adam (no weight decay): ε is added to √v̂, as in torch.optim.Adam."""

    lr: float
    eps: float
    betas: tuple[float, float] = (0.9, 0.999)


def _linears(net: nn.Sequential) -> list[nn.Linear]:
    return [layer for layer in net if isinstance(layer, nn.Linear)]


class _Layer:
    """One Linear layer's weight and bias as views into the flat buffers."""

    def __init__(self, linear: nn.Linear, theta: torch.Tensor, grad: torch.Tensor, at: int):
        n_w, n_b = linear.weight.numel(), linear.bias.numel()
        shape = linear.weight.shape
        self.w = theta[at : at + n_w].view(shape)
        self.b = theta[at + n_w : at + n_w + n_b]
        self.gw = grad[at : at + n_w].view(shape)
        self.gb = grad[at + n_w : at + n_w + n_b]
        self.end = at + n_w + n_b


class ExplicitStep:
    """Trains a copy of `model`'s parameters; `write_to(model)` copies them back.

    The parameter order is `model.parameters()` order, so `write_to` is one vector copy.
    """

    def __init__(
        self,
        model: AE,
        beta: float | None,
        likelihood,
        adam: AdamSettings,
    ) -> None:
        self.latent_dim = model.latent_dim
        self.stochastic = model.stochastic
        self.log_sigma = model.sampling == "log_sigma"
        self.beta = 0.0 if beta is None else float(beta)
        self.likelihood = likelihood
        self.adam = adam
        self.theta = nn.utils.parameters_to_vector(model.parameters()).detach().clone()
        self.grad = torch.zeros_like(self.theta)
        self.m = torch.zeros_like(self.theta)
        self.v = torch.zeros_like(self.theta)
        self.step_count = torch.zeros((), dtype=torch.float32, device=self.theta.device)
        at = 0
        self.encoder: list[_Layer] = []
        self.decoder: list[_Layer] = []
        for net, layers in ((model.encoder.net, self.encoder), (model.decoder, self.decoder)):
            for linear in _linears(net):
                layers.append(_Layer(linear, self.theta, self.grad, at))
                at = layers[-1].end
        if at != self.theta.numel():
            raise ValueError("the model has parameters outside its Linear layers")

    # -- forward ------------------------------------------------------------------------

    @staticmethod
    def _forward(layers: list[_Layer], x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The MLP (ReLU between layers, none after the last): each layer's input, and the
        output. The inputs are what `_backward` needs."""
        inputs = [x]
        h = x
        for layer in layers[:-1]:
            h = torch.addmm(layer.b, h, layer.w.t()).relu_()
            inputs.append(h)
        last = layers[-1]
        return inputs, torch.addmm(last.b, h, last.w.t())

    def _recon(self, logits: torch.Tensor, x: torch.Tensor):
        """Batch-mean recon and its gradient w.r.t. the logits (already divided by B)."""
        image = torch.sigmoid(logits)
        n = len(x)
        if self.likelihood.name == "bernoulli":
            recon = (nn.functional.softplus(logits) - x * logits).sum() / n
            return recon, (image - x).div_(n)
        variance = self.likelihood.variance
        diff = image - x
        recon = diff.square().sum() / (2.0 * variance * n)
        # d/dl (σ(l) − x)² / 2v = (σ − x) σ (1 − σ) / v
        slope = image - image.square()
        return recon, diff.mul_(slope).div_(variance * n)

    def loss_terms(
        self, x: torch.Tensor, eps: torch.Tensor | None
    ) -> tuple[dict[str, torch.Tensor], tuple]:
        """The objective's batch means (as 0-d tensors) and what the backward pass needs."""
        inputs_e, head = self._forward(self.encoder, x)
        d = self.latent_dim
        mu, s_raw = head[:, :d], head[:, d:]
        if not self.stochastic:
            inputs_d, logits = self._forward(self.decoder, mu)
            recon, g_logits = self._recon(logits, x)
            return {"loss": recon, "recon": recon}, (inputs_e, inputs_d, g_logits, None)
        s = s_raw.clamp(*LOGVAR_RANGE)
        exp_s = s.exp()
        std = exp_s if self.log_sigma else exp_s.sqrt()
        z = torch.addcmul(mu, std, eps)
        inputs_d, logits = self._forward(self.decoder, z)
        recon, g_logits = self._recon(logits, x)
        kl = (mu.square() + exp_s - 1.0 - s).sum() * (0.5 / len(x))
        terms = {"loss": recon + self.beta * kl, "recon": recon, "kl": kl}
        return terms, (inputs_e, inputs_d, g_logits, (mu, s_raw, s, exp_s, std, eps))

    # -- backward -----------------------------------------------------------------------

    @staticmethod
    def _backward(layers: list[_Layer], inputs: list[torch.Tensor], g: torch.Tensor, need_input):
        """Fills each layer's gradient views; returns the gradient of the first input or None."""
        for i in range(len(layers) - 1, -1, -1):
            layer, a_in = layers[i], inputs[i]
            torch.mm(g.t(), a_in, out=layer.gw)
            torch.sum(g, dim=0, out=layer.gb)
            if i > 0:
                g = torch.ops.aten.threshold_backward(torch.mm(g, layer.w), a_in, 0.0)
            elif need_input:
                return torch.mm(g, layer.w)
        return None

    def _head_gradient(self, g_z: torch.Tensor, saved, n: int) -> torch.Tensor:
        if saved is None:  # the AE: z = μ, and s does not enter the loss
            return torch.cat([g_z, torch.zeros_like(g_z)], dim=1)
        mu, s_raw, s, exp_s, std, eps = saved
        k = self.beta / n
        g_mu = torch.add(g_z, mu, alpha=k)
        dstd_ds = std if self.log_sigma else std * 0.5
        g_s = (g_z * eps).mul_(dstd_ds).add_(exp_s - 1.0, alpha=0.5 * k)
        low, high = LOGVAR_RANGE
        g_s.mul_((s_raw >= low) & (s_raw <= high))  # clamp passes gradient only inside
        return torch.cat([g_mu, g_s], dim=1)

    def _adam(self) -> None:
        """torch.optim.Adam(fused=True)'s own kernel: one pass over the flat buffers."""
        self.step_count.add_(1)
        beta1, beta2 = self.adam.betas
        torch._fused_adam_(
            [self.theta],
            [self.grad],
            [self.m],
            [self.v],
            [],
            [self.step_count],
            amsgrad=False,
            lr=self.adam.lr,
            beta1=beta1,
            beta2=beta2,
            weight_decay=0.0,
            eps=self.adam.eps,
            maximize=False,
        )

    def gradients(self, x: torch.Tensor, eps: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Forward and backward: fills `self.grad`; returns the batch's terms."""
        terms, (inputs_e, inputs_d, g_logits, saved) = self.loss_terms(x, eps)
        g_z = self._backward(self.decoder, inputs_d, g_logits, need_input=True)
        g_head = self._head_gradient(g_z, saved, len(x))
        self._backward(self.encoder, inputs_e, g_head, need_input=False)
        return terms

    @torch.no_grad()
    def evaluate(
        self, x: torch.Tensor, batch_size: int, generator: torch.Generator
    ) -> dict[str, float]:
        """Image-weighted means of the objective's terms over a split, without a step."""
        sums: dict[str, float] = {}
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            eps = self.noise(len(xb), generator, xb.device)
            for key, value in self.loss_terms(xb, eps)[0].items():
                sums[key] = sums.get(key, 0.0) + float(value) * len(xb)
        return {key: total / len(x) for key, total in sums.items()}

    def noise(
        self, n: int, generator: torch.Generator, device: torch.device
    ) -> torch.Tensor | None:
        """n draws of ε ~ N(0, I) for z (None for the AE), drawn on the CPU generator."""
        if not self.stochastic:
            return None
        return torch.randn((n, self.latent_dim), generator=generator).to(device)

    def step(self, x: torch.Tensor, eps: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """One Adam step on batch x (eps: the batch's N(0, I) draws, None for the AE)."""
        terms = self.gradients(x, eps)
        self._adam()
        return terms

    @torch.no_grad()
    def write_to(self, model: AE) -> AE:
        nn.utils.vector_to_parameters(self.theta, model.parameters())
        return model

    def optimizer_state(self) -> dict[str, object]:
        """Adam's state, saved in checkpoints beside the weights (flat, in parameter order)."""
        return {
            "step": self.step_count.clone(),
            "exp_avg": self.m.clone(),
            "exp_avg_sq": self.v.clone(),
        }
