"""What the page carries of one model: its decoder in 16-bit fixed point, the test set's latent
means, the plane's extent and the classifier's verdicts on a grid. Arrays go in base64.

16 bits per weight keep the page small. Fixed point with one float32 scale per row is 8× finer
than float16 for a typical weight (float16 keeps 11 significant bits of every value; fixed
point 15 bits of the row's largest), which keeps the page's decode within a fraction of 1/255
of PyTorch's where float16 was not. The page decodes in float64 arithmetic; `page_error`
measures how far that lands from PyTorch's float32 decode, so the fidelity is a number.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import torch
from torch import nn

from vaelab.core.models import AE, Classifier

EXTENT_QUANTILE = 0.005  # the plane shows the middle 99 % of the means along each axis...
EXTENT_PADDING = 0.05  # ...and the two priors' circles, plus this share of the width
ERROR_GRID = 101  # points per side where page_error compares the two decodes


FIXED_MAX = 32767  # int16: the largest magnitude of a row maps here


def b64(array: np.ndarray, dtype: str) -> str:
    """Little-endian bytes of `array` as `dtype`, base64: what the page's typed arrays read."""
    return base64.b64encode(
        np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    ).decode("ascii")


def linear_layers(model: AE) -> list[nn.Linear]:
    return [m for m in model.decoder if isinstance(m, nn.Linear)]


def fixed_point(values: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """int16 values and float32 scales along `dim` (one per row for dim=1): values ≈ q · scale."""
    largest = values.detach().abs().amax(dim=dim, keepdim=True).float()
    scale = torch.where(largest > 0, largest / FIXED_MAX, torch.ones_like(largest))
    q = torch.round(values.detach().double() / scale.double()).to(torch.int16)
    return q, scale


def dequantized(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """What the page computes from q and scale: their product in float64."""
    return q.double() * scale.double()


def encoded(q: torch.Tensor, scale: torch.Tensor) -> dict[str, str]:
    return {"q": b64(q.numpy(), "i2"), "scale": b64(scale.reshape(-1).numpy(), "f4")}


def decoder_layers(model: AE) -> list[dict[str, Any]]:
    """Each Linear as rows × cols with row-major fixed-point weights and float32 biases;
    ReLU between them, sigmoid after the last."""
    return [
        {
            "rows": layer.out_features,
            "cols": layer.in_features,
            "weight": encoded(*fixed_point(layer.weight, dim=1)),
            "bias": b64(layer.bias.detach().numpy(), "f4"),
        }
        for layer in linear_layers(model)
    ]


def page_decode(model: AE, z: torch.Tensor) -> torch.Tensor:
    """The page's decode: fixed-point weights, float32 biases, float64 arithmetic."""
    h = z.double()
    layers = linear_layers(model)
    for i, layer in enumerate(layers):
        weight = dequantized(*fixed_point(layer.weight, dim=1))
        h = h @ weight.T + layer.bias.detach().double()
        if i < len(layers) - 1:
            h = h.clamp_min(0)
    return torch.sigmoid(h)


def latent_extent(
    means: torch.Tensor, prior_radius: float, shifted_mean: float, shifted_radius: float
) -> list[list[float]]:
    """[lo, hi] per latent dimension: the bulk of the means and both priors' circles (the
    prior's about 0, the shifted prior's about `shifted_mean`)."""
    q = torch.quantile(
        means.double(),
        torch.tensor([EXTENT_QUANTILE, 1 - EXTENT_QUANTILE], dtype=torch.float64),
        dim=0,
    )
    lo = torch.minimum(q[0], torch.tensor(min(-prior_radius, shifted_mean - shifted_radius)))
    hi = torch.maximum(q[1], torch.tensor(max(prior_radius, shifted_mean + shifted_radius)))
    pad = EXTENT_PADDING * (hi - lo)
    return [[float(a), float(b)] for a, b in zip(lo - pad, hi + pad, strict=True)]


def square_window(extent: list[list[float]], dims: tuple[int, ...]) -> list[float]:
    """[x0, x1, y0, y1]: the extent of `dims` widened to a square, so circles stay round.

    page.js computes the same window from the same extent (`squareWindow`).
    """
    centres = [(extent[d][0] + extent[d][1]) / 2 for d in dims]
    half = max((extent[d][1] - extent[d][0]) / 2 for d in dims)
    window = []
    for centre in centres:
        window += [centre - half, centre + half]
    if len(dims) == 1:
        window += [0.0, 1.0]
    return window


def plane_points(
    window: list[float], dims: tuple[int, ...], held: torch.Tensor, size: int
) -> torch.Tensor:
    """(size^k, D) latents at the centres of a size × size (or size) grid over the window,
    row-major from the lowest y; dimensions outside `dims` held at `held` (D,)."""
    axes = [
        window[2 * i]
        + (torch.arange(size, dtype=torch.float64) + 0.5)
        * (window[2 * i + 1] - window[2 * i])
        / size
        for i in range(len(dims))
    ]
    coords = axes
    if len(dims) == 2:
        y, x = torch.meshgrid(axes[1], axes[0], indexing="ij")  # rows of y, columns of x
        coords = [x.reshape(-1), y.reshape(-1)]
    z = held.double().repeat(len(coords[0]), 1)
    for dim, values in zip(dims, coords, strict=True):
        z[:, dim] = values
    return z


@torch.inference_mode()
def classifier_grid(
    model: AE,
    classifier: Classifier,
    window: list[float],
    dims: tuple[int, ...],
    held: torch.Tensor,
    size: int,
) -> dict[str, Any]:
    """The classifier's digit and confidence (0–255) for the decode at each grid point."""
    z = plane_points(window, dims, held, size).float()
    confidence, predicted, _ = classifier.predict(torch.sigmoid(model.decode(z)), batch_size=4096)
    return {
        "size": size,
        "window": window,
        "digit": b64(predicted.numpy(), "u1"),
        "confidence": b64(torch.round(confidence * 255).numpy(), "u1"),
    }


@torch.inference_mode()
def page_error(model: AE, window: list[float], dims: tuple[int, ...], held: torch.Tensor) -> float:
    """Largest pixel gap (in 1/255) between the page's decode and PyTorch's on the plane."""
    z = plane_points(window, dims, held, ERROR_GRID)
    exact = torch.sigmoid(model.decode(z.float())).double()
    return float((page_decode(model, z) - exact).abs().max() * 255)


@torch.inference_mode()
def model_entry(
    model: AE,
    images: torch.Tensor,
    classifier: Classifier,
    held_index: int,
    circles: tuple[float, float, float],
    grid_size: int,
) -> tuple[dict[str, Any], float]:
    """One model's part of the payload, and its measured decode error (in 1/255). circles:
    the prior's radius, the shifted prior's mean and radius, which its plane must show."""
    means = model.encode(images)[0]
    means_q, means_scale = fixed_point(means, dim=0)
    extent = latent_extent(means, *circles)
    dims = (0, 1) if means.shape[1] >= 2 else (0,)
    window = square_window(extent, dims)
    held = means[held_index]
    entry = {
        "layers": decoder_layers(model),
        "means": encoded(means_q, means_scale),
        "extent": extent,
        "grid": classifier_grid(model, classifier, window, dims, held, grid_size),
    }
    return entry, page_error(model, window, dims, held)
