"""Drawing primitives shared by every figure: style, image tiles, latent scatter, saving.

One seaborn theme and one digit palette, so the same digit has the same colour in every
figure. Figures are plain `matplotlib.figure.Figure`s, not pyplot's: no backend or global
figure list to manage, and each is freed as soon as it is saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import numpy as np
import seaborn as sns
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from vaelab.core.io import write_with
from vaelab.data.files import IMAGE_SIDE, N_CLASSES

DIGIT_COLOURS = sns.color_palette("tab10", N_CLASSES)
TILE_PADDING = 2  # pixels of white between tiles


@contextmanager
def figure_style() -> Iterator[None]:
    """The stage's one theme, undone on exit so importing vaelab changes nothing global."""
    with mpl.rc_context():
        sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure (inches) whose constrained layout keeps titles, labels and legends apart."""
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Figure, path: Path, dpi: int) -> None:
    """PNG at `dpi`, written to a temporary name (hence `format`) and renamed onto `path`."""
    write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))


def tile(images: torch.Tensor, per_row: int) -> np.ndarray:
    """(N, 784) in [0, 1] -> one (H, W) image, `per_row` tiles per row on a white grid.

    The layout of torchvision's `make_grid` (padding before each tile and after the last),
    without importing torchvision, which costs the figures stage a second.
    """
    count = len(images)
    if count == 1:  # as make_grid: a lone image (an inset) gets no frame
        return images.reshape(IMAGE_SIDE, IMAGE_SIDE).numpy()
    cols = min(per_row, count)
    rows = -(-count // cols)
    tiles = np.ones((rows * cols, IMAGE_SIDE, IMAGE_SIDE), dtype=np.float32)
    tiles[:count] = images.reshape(count, IMAGE_SIDE, IMAGE_SIDE).numpy()
    tiles = np.pad(tiles, ((0, 0), (TILE_PADDING, 0), (TILE_PADDING, 0)), constant_values=1.0)
    step = IMAGE_SIDE + TILE_PADDING
    grid = tiles.reshape(rows, cols, step, step).transpose(0, 2, 1, 3).reshape(rows * step, -1)
    return np.pad(grid, ((0, TILE_PADDING), (0, TILE_PADDING)), constant_values=1.0)


def show_images(ax: Axes, images: torch.Tensor, per_row: int) -> None:
    """Tiles as white digits on black, without ticks (the axes keep their labels)."""
    ax.imshow(tile(images, per_row), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    blank_ticks(ax)


def tile_corner(index: int, per_row: int) -> tuple[float, float]:
    """Top-left pixel (x, y) of tile `index` in `tile`'s output."""
    step = IMAGE_SIDE + TILE_PADDING
    row, col = divmod(index, per_row)
    return col * step + TILE_PADDING - 0.5, row * step + TILE_PADDING - 0.5


def latent_plane(z: torch.Tensor) -> tuple[np.ndarray, str, str]:
    """(N, D ≥ 2) latents -> (N, 2) points to draw and the axis labels.

    The study's latent space is 2-D; a wider one is drawn by its first two coordinates,
    the exact marginal of a diagonal posterior.
    """
    suffix = f" (of {z.shape[1]})" if z.shape[1] > 2 else ""
    return z[:, :2].numpy(), f"$z_1${suffix}", f"$z_2${suffix}"


def scatter_latent(ax: Axes, z: torch.Tensor, labels: torch.Tensor, radius: float) -> None:
    """Test-set latents coloured by digit, with the prior's dashed circle of `radius`
    (two of its standard deviations; `digit_legend` names it)."""
    xy, xlabel, ylabel = latent_plane(z)
    colours = np.asarray(DIGIT_COLOURS)[labels.numpy()]
    ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=1.5, linewidths=0, alpha=0.6, rasterized=True)
    ax.add_patch(Circle((0, 0), radius, fill=False, ls="--", lw=0.8, color="0.2"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("equal", adjustable="datalim")


def digit_legend(fig: Figure, circle: str, loc: str = "outside right center") -> None:
    """One legend per figure: the digit colours and the prior's circle, named by `circle`."""
    handles = [
        Line2D([], [], ls="", marker="o", color=c, label=str(d))
        for d, c in enumerate(DIGIT_COLOURS)
    ]
    handles.append(Line2D([], [], ls="--", color="0.2", label=circle))
    fig.legend(handles=handles, loc=loc, title="digit", frameon=False)


def blank_ticks(ax: Axes) -> None:
    """Images need no ticks or grid, but keep their axis labels (row names)."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
