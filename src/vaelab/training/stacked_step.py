"""One training step of K autoencoders or β-VAEs of one shape at once, written out: forward,
backward and Adam.

Why stacked: at the study's batch of 16 one model's step is ~80 tensor ops on tiny
matrices, so its cost is per-op overhead, not arithmetic. Stacking K models (their own
weights, batches, ε and β) makes each op one batched matmul or one elementwise pass over all
K, and the overhead is shared. Why written out: an eager autograd step of this network costs
~50× its arithmetic in graph building and one Adam kernel per tensor.

A model's numbers must not depend on which models share its step (a DVC stage trains one
model; `make repro` trains many together and commits each): every op acts on each model's
slice alone (batched matmuls, elementwise ops, sums one row at a time), and each model's copy
of each tensor starts at a multiple of `ALIGN` floats, so that Adam's vectorised loop treats
every model's numbers alike. `tests/test_train.py` compares a model trained alone with the
same model trained beside others, byte for byte; `tests/test_stacked_step.py` checks the
gradients against autograd and the update against `torch.optim.Adam`.

The loss is the study's, per image and averaged over the batch: recon + β·KL, with
KL = ½ Σ (μ² + eˢ − 1 − s) reading the encoder's s as log σ². The sampling rule reads s as
log σ² (z = μ + e^(s/2)·ε, correct) or, like the code the study ran, as log σ (z = μ + eˢ·ε).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from vaelab.core import latents
from vaelab.core.models import AE, LOGVAR_RANGE

ALIGN = 64  # floats: a multiple of every vector width (AVX2 8, AVX-512 16) and of its unrolling


@dataclass(frozen=True)
class AdamSettings:
    """PyTorch's Adam (no weight decay): ε is added to √v̂, as in torch.optim.Adam."""

    lr: float
    eps: float
    betas: tuple[float, float] = (0.9, 0.999)


def _linears(net: nn.Sequential) -> list[nn.Linear]:
    return [layer for layer in net if isinstance(layer, nn.Linear)]


class _Layer:
    """One Linear layer of all K models as views into the flat buffers: weights (K, out, in)
    and biases (K, 1, out). Each tensor's K copies lie side by side, each padded to `ALIGN`
    floats, so the big weights' gradients are contiguous and a batched matmul fills them."""

    def __init__(
        self, linear: nn.Linear, k: int, theta: torch.Tensor, grad: torch.Tensor, at: int
    ):
        self.slots: list[tuple[int, int]] = []  # (start, size) of the weight's and bias's block
        views = []
        for tensor in (linear.weight, linear.bias):
            size, padded = tensor.numel(), _padded(tensor.numel())
            self.slots.append((at, size))
            for buffer in (theta, grad):
                block = buffer[at : at + k * padded].view(k, padded)[:, :size]
                views.append(block.unflatten(1, tensor.shape))
            at += k * padded
        self.w, self.gw, bias, self.gb = views
        self.b = bias.unsqueeze(1)
        self.end = at


def _model_sums(t: torch.Tensor) -> torch.Tensor:
    """Each model's sum over its (B, n) slice, (K,): one row at a time, then over the rows,
    so that no thread count or K splits a model's sum differently."""
    return t.sum(dim=2).sum(dim=1)


def _padded(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


def _same(models: Sequence[AE], attribute: str):
    values = {getattr(m, attribute) for m in models}
    if len(values) != 1:
        raise ValueError(f"models trained together must share {attribute}; got {values}")
    return values.pop()


class StackedStep:
    """Trains copies of `models`' parameters, model k with `betas[k]` (None for an AE);
    `write_to(k, model)` copies model k's back. All models share one shape; AEs and VAEs
    may mix."""

    def __init__(
        self,
        models: Sequence[AE],
        betas: Sequence[float | None],
        likelihood,
        adam: AdamSettings,
    ) -> None:
        if not models or len(models) != len(betas):
            raise ValueError("give one β (None for an AE) per model, and at least one model")
        self.latent_dim = _same(models, "latent_dim")
        # AEs step as VAEs with ε = 0 and β = 0 (z = μ; their s-head gets no gradient), so
        # that an AE can share a step with VAEs and take the same path alone.
        self.stochastic = [m.stochastic for m in models]
        vaes = [m for m in models if m.stochastic]
        self.log_sigma = bool(vaes) and _same(vaes, "sampling") == "log_sigma"
        self.family = _same(vaes, "family") if vaes else "normal"
        self.prior_std = _same(vaes, "prior_std") if vaes else 1.0
        self.eq10 = latents.is_standard_normal(self.family, self.prior_std)  # today's order
        self.likelihood = likelihood
        self.adam = adam
        first = models[0]
        self.count = len(models)
        linears = _linears(first.encoder.net) + _linears(first.decoder)
        in_linears = [p for linear in linears for p in linear.parameters()]
        if sum(p.numel() for p in in_linears) != sum(p.numel() for p in first.parameters()):
            raise ValueError("the model has parameters outside its Linear layers")
        total = self.count * sum(_padded(p.numel()) for p in in_linears)
        self.theta = next(first.parameters()).new_zeros(total)
        self.grad = torch.zeros_like(self.theta)
        self.m = torch.zeros_like(self.theta)
        self.v = torch.zeros_like(self.theta)
        self.step_count = torch.zeros((), dtype=torch.float32, device=self.theta.device)
        if any((b is None) == m.stochastic for b, m in zip(betas, models, strict=True)):
            raise ValueError("give β None for each AE and a number for each VAE")
        self.beta = self.theta.new_tensor([0.0 if b is None else float(b) for b in betas])
        self.noisy = self.theta.new_tensor(self.stochastic).view(-1, 1, 1)  # 1 VAE, 0 AE
        self.layers: list[_Layer] = []
        at = 0
        for linear in linears:
            self.layers.append(_Layer(linear, self.count, self.theta, self.grad, at))
            at = self.layers[-1].end
        n_encoder = len(_linears(first.encoder.net))
        self.encoder, self.decoder = self.layers[:n_encoder], self.layers[n_encoder:]
        with torch.no_grad():
            for k, model in enumerate(models):  # a model of another shape fails here
                self._rows(k, self.theta).copy_(nn.utils.parameters_to_vector(model.parameters()))

    def _rows(self, k: int, buffer: torch.Tensor) -> _Rows:
        """Model k's part of a flat buffer, in `model.parameters()` order."""
        parts = []
        for layer in self.layers:
            for start, size in layer.slots:
                padded = _padded(size)
                parts.append(buffer[start + k * padded : start + k * padded + size])
        return _Rows(parts)

    def __len__(self) -> int:
        return self.count

    def term_names(self, k: int) -> tuple[str, ...]:
        """What model k's objective has: an AE has no KL term."""
        return ("loss", "recon", "kl") if self.stochastic[k] else ("loss", "recon")

    # -- forward ------------------------------------------------------------------------

    @staticmethod
    def _forward(layers: list[_Layer], x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The MLP (ReLU between layers, none after the last) on x (K, B, in): each layer's
        input, and the output. The inputs are what `_backward` needs."""
        inputs = [x]
        h = x
        for layer in layers[:-1]:
            h = torch.baddbmm(layer.b, h, layer.w.transpose(1, 2)).relu_()
            inputs.append(h)
        last = layers[-1]
        return inputs, torch.baddbmm(last.b, h, last.w.transpose(1, 2))

    def _recon(self, logits: torch.Tensor, x: torch.Tensor):
        """Each model's batch-mean recon (K,) and its gradient w.r.t. the logits (÷ B)."""
        image = torch.sigmoid(logits)
        n = x.shape[1]
        if self.likelihood.name == "bernoulli":
            recon = _model_sums(nn.functional.softplus(logits) - x * logits) / n
            return recon, (image - x).div_(n)
        variance = self.likelihood.variance
        diff = image - x
        recon = _model_sums(diff.square()) / (2.0 * variance * n)
        # d/dl (σ(l) − x)² / 2v = (σ − x) σ (1 − σ) / v
        slope = image - image.square()
        return recon, diff.mul_(slope).div_(variance * n)

    def loss_terms(
        self, x: torch.Tensor, eps: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], tuple]:
        """Each model's batch means (K,) and what the backward pass needs. x (K, B, 784),
        eps (K, B, D), zero for AEs. An AE's KL is computed but is no term of its loss."""
        inputs_e, head = self._forward(self.encoder, x)
        d = self.latent_dim
        mu, s_raw = head[..., :d], head[..., d:]
        s = s_raw.clamp(*LOGVAR_RANGE)
        exp_s = s.exp()
        std = exp_s if self.log_sigma else exp_s.sqrt()
        z = torch.addcmul(mu, std, eps)
        inputs_d, logits = self._forward(self.decoder, z)
        recon, g_logits = self._recon(logits, x)
        if self.eq10:
            kl = _model_sums(mu.square() + exp_s - 1.0 - s) * (0.5 / x.shape[1])
        else:
            kl = _model_sums(latents.kl_per_dim(self.family, mu, s, self.prior_std)) / x.shape[1]
        terms = {"loss": recon + self.beta * kl, "recon": recon, "kl": kl}
        return terms, (inputs_e, inputs_d, g_logits, (mu, s_raw, s, exp_s, std, eps))

    # -- backward -----------------------------------------------------------------------

    @staticmethod
    def _backward(layers: list[_Layer], inputs: list[torch.Tensor], g: torch.Tensor, need_input):
        """Fills each layer's gradient views; returns the gradient of the first input or None."""
        for i in range(len(layers) - 1, -1, -1):
            layer, a_in = layers[i], inputs[i]
            if layer.gw.is_contiguous():
                torch.bmm(g.transpose(1, 2), a_in, out=layer.gw)
            else:  # a small layer whose copies are padded apart
                layer.gw.copy_(torch.bmm(g.transpose(1, 2), a_in))
            torch.sum(g, dim=1, out=layer.gb)
            if i > 0:
                g = torch.ops.aten.threshold_backward(torch.bmm(g, layer.w), a_in, 0.0)
            elif need_input:
                return torch.bmm(g, layer.w)
        return None

    def _head_gradient(self, g_z: torch.Tensor, saved, n: int) -> torch.Tensor:
        if saved is None:  # the AE: z = μ, and s does not enter the loss
            return torch.cat([g_z, torch.zeros_like(g_z)], dim=2)
        mu, s_raw, s, exp_s, std, eps = saved
        k = (self.beta / n).view(-1, 1, 1)
        dstd_ds = std if self.log_sigma else std * 0.5
        if self.eq10:
            g_mu = torch.addcmul(g_z, mu, k)
            g_s = torch.addcmul((g_z * eps).mul_(dstd_ds), exp_s - 1.0, 0.5 * k)
        else:  # the KL's own gradients; z = μ + σ·ε is the same for every family
            kl_mu, kl_s = latents.kl_gradients(self.family, mu, s, self.prior_std)
            g_mu = torch.addcmul(g_z, kl_mu, k)
            g_s = torch.addcmul((g_z * eps).mul_(dstd_ds), kl_s, k)
        low, high = LOGVAR_RANGE
        g_s.mul_((s_raw >= low) & (s_raw <= high))  # clamp passes gradient only inside
        g_s.mul_(self.noisy)  # an AE's s does not enter its loss
        return torch.cat([g_mu, g_s], dim=2)

    def _adam(self) -> None:
        """torch.optim.Adam(fused=True)'s own kernel: one pass over the stacked buffers."""
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

    def gradients(self, x: torch.Tensor, eps: torch.Tensor) -> dict[str, torch.Tensor]:
        """Forward and backward: fills `self.grad`; returns each model's batch terms (K,)."""
        terms, (inputs_e, inputs_d, g_logits, saved) = self.loss_terms(x, eps)
        g_z = self._backward(self.decoder, inputs_d, g_logits, need_input=True)
        g_head = self._head_gradient(g_z, saved, x.shape[1])
        self._backward(self.encoder, inputs_e, g_head, need_input=False)
        return terms

    def step(self, x: torch.Tensor, eps: torch.Tensor) -> dict[str, torch.Tensor]:
        """One Adam step of every model on its batch x[k] (eps[k]: its N(0, I) draws; zero
        for an AE)."""
        terms = self.gradients(x, eps)
        self._adam()
        return terms

    @torch.no_grad()
    def write_to(self, k: int, model: AE) -> AE:
        nn.utils.vector_to_parameters(self._rows(k, self.theta).read(), model.parameters())
        return model

    def optimizer_state(self, k: int) -> dict[str, object]:
        """Model k's Adam state, saved in its checkpoints (flat, in parameter order)."""
        return {
            "step": self.step_count.clone(),
            "exp_avg": self._rows(k, self.m).read(),
            "exp_avg_sq": self._rows(k, self.v).read(),
        }


class _Rows:
    """Model k's slices of a flat buffer, read or written as one vector in parameter order."""

    def __init__(self, parts: list[torch.Tensor]) -> None:
        self.parts = parts

    def read(self) -> torch.Tensor:
        return torch.cat(self.parts)

    def copy_(self, vector: torch.Tensor) -> None:
        if len(vector) != sum(len(p) for p in self.parts):
            raise ValueError("models trained together must have the same shape")
        at = 0
        for part in self.parts:
            part.copy_(vector[at : at + len(part)])
            at += len(part)
