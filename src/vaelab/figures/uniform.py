"""Beyond the study: the figure its uniform remark describes (§4.2, last paragraph).

"Early attempts were made to create VAEs with uniform distributions where the mean and a–b
boundaries move during the sampling process, yielding interesting insights, especially
regarding the extraction of common features." The sentence states no quantity, so the report
judges no claim on it; it shows this figure and the numbers it rests on instead:
- every test digit's posterior box μ ± √3σ in the latent plane, coloured by digit;
- decodes along the border of the square ±√3·s₀, where a unit-variance uniform prior's
  support would end (our uniform posterior has an N(0, s₀²) prior, core/latents.py);
- decodes along the line between the two digit classes whose centres lie closest;
- the mean half-width of a box per dimension, and the share of digits whose box holds
  another class's centre (a box that does mixes two digits' "common features").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from vaelab.core import latents
from vaelab.core.names import FIG_UNIFORM
from vaelab.data.files import N_CLASSES
from vaelab.figures.decodes import decode
from vaelab.figures.inputs import Study
from vaelab.figures.primitives import DIGIT_COLOURS, new_figure, show_images
from vaelab.labels import model_title

BORDER_PER_SIDE = 8  # decodes per side of the square: 32 around it
LINE_POINTS = 10  # decodes from one class centre to the other


@torch.inference_mode()
def posterior_boxes(model: Any, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) centres μ(x) and half-widths √3σ(x) of the uniform posteriors."""
    mu, logvar = model.encode(x)
    return mu, latents.SQRT3 * torch.exp(0.5 * logvar)


def class_centres(mu: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(10, D) the mean μ(x) of each digit class (NaN for a class without digits)."""
    return torch.stack([mu[labels == digit].mean(dim=0) for digit in range(N_CLASSES)])


def holds_other_centre(
    mu: torch.Tensor, half: torch.Tensor, labels: torch.Tensor, centres: torch.Tensor
) -> torch.Tensor:
    """(N,) whether a digit's box holds (in every dimension) the centre of another class."""
    inside = ((centres[None] - mu[:, None]).abs() <= half[:, None]).all(dim=-1)  # (N, 10)
    inside[torch.arange(len(labels)), labels] = False
    return inside.any(dim=1)


def nearest_classes(centres: torch.Tensor) -> tuple[int, int]:
    """The two classes whose centres lie closest (lowest digit first); a class without
    digits (a NaN centre) is never chosen."""
    distance = torch.cdist(centres, centres).nan_to_num(nan=float("inf"))
    distance.fill_diagonal_(float("inf"))
    first, second = divmod(int(distance.argmin()), len(centres))
    return min(first, second), max(first, second)


def square_border(half_side: float, per_side: int) -> torch.Tensor:
    """(4·per_side, 2) points around the square ±half_side, clockwise from the top-left."""
    steps = torch.linspace(-half_side, half_side, per_side + 1)[:-1]
    top = torch.stack([steps, torch.full_like(steps, half_side)], dim=1)
    right = torch.stack([torch.full_like(steps, half_side), -steps], dim=1)
    return torch.cat([top, right, -top, -right])


def on_plane(points: torch.Tensor, latent_dim: int) -> torch.Tensor:
    """2-D points as latents: the other dimensions at the prior's mean, 0."""
    z = torch.zeros(len(points), latent_dim)
    z[:, :2] = points
    return z


def uniform_numbers(
    mu: torch.Tensor, half: torch.Tensor, labels: torch.Tensor
) -> tuple[dict[str, Any], torch.Tensor]:
    """The numbers the figure rests on, and the class centres."""
    centres = class_centres(mu, labels)
    held = holds_other_centre(mu, half, labels, centres)
    return {
        "digits": len(labels),
        "mean_half_width": half.mean(dim=0).tolist(),
        "share_holding_other_centre": float(held.float().mean()),
        "nearest_classes": list(nearest_classes(centres)),
    }, centres


def fig17_uniform_boxes(study: Study) -> dict[str, Any] | None:
    """The uniform family's boxes and decodes (example β, last epoch); None for the other
    families, which have no bounds to draw."""
    model_p = study.inputs.model_p
    if model_p.latent != "uniform":
        return None
    beta, epoch = study.figures_p.example_beta, study.last_epoch
    model = study.inputs.model(beta, epoch)
    x, labels = study.scatter_digits()
    mu, half = posterior_boxes(model, x)
    numbers, centres = uniform_numbers(mu, half, labels)
    first, second = numbers["nearest_classes"]
    edge = latents.SQRT3 * model_p.prior_std
    border = square_border(edge, BORDER_PER_SIDE)
    weights = torch.linspace(0.0, 1.0, LINE_POINTS)[:, None]
    line = (1 - weights) * centres[first] + weights * centres[second]

    fig = new_figure(17.0, 6.4)
    boxes, around, between = fig.subplots(1, 3, width_ratios=[1.2, 1.0, 1.0])
    corners = (mu[:, :2] - half[:, :2]).numpy()
    sizes = (2 * half[:, :2]).numpy()
    patches = [Rectangle(c, w, h) for c, (w, h) in zip(corners, sizes, strict=True)]
    colours = np.asarray(DIGIT_COLOURS)[labels.numpy()]
    boxes.add_collection(
        PatchCollection(patches, facecolors="none", edgecolors=colours, linewidths=0.3, alpha=0.25)
    )
    boxes.add_patch(Rectangle((-edge, -edge), 2 * edge, 2 * edge, fill=False, ls="--", lw=1))
    boxes.plot(*line[:, :2].T.numpy(), "-", color="black", lw=1.5)
    for digit, centre in enumerate(centres[:, :2].tolist()):
        boxes.text(
            *centre,
            str(digit),
            ha="center",
            va="center",
            weight="bold",
            size="large",
            color=DIGIT_COLOURS[digit],
            bbox={"facecolor": "white", "alpha": 0.8, "lw": 0},
        )
    boxes.autoscale_view()
    boxes.set_aspect("equal", adjustable="datalim")
    boxes.set(
        xlabel="$z_1$",
        ylabel="$z_2$",
        title=f"posterior boxes μ ± √3σ of {len(x)} test digits, by colour\n"
        f"(digits: class centres; dashed: ±√3·s₀; line: centres {first} → {second})",
    )
    show_images(around, decode(model, on_plane(border, model_p.latent_dim)), BORDER_PER_SIDE)
    around.set_title(
        f"decodes along the dashed square (±{edge:.2f}),\nclockwise from the top-left, "
        f"{BORDER_PER_SIDE} per side"
    )
    show_images(between, decode(model, line), 5)
    between.set_title(f"decodes from class centre {first} to {second}")
    half_widths = ", ".join(f"{w:.3f}" for w in numbers["mean_half_width"])
    fig.suptitle(
        f"{model_title(beta, epoch)}, uniform posterior: mean half-width per dimension "
        f"{half_widths}; {numbers['share_holding_other_centre']:.1%} of boxes hold another "
        "class's centre"
    )
    study.save(fig, FIG_UNIFORM)
    return numbers
