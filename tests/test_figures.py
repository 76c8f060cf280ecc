"""The figures stage on a small fake study: random-weight checkpoints, well-formed metrics.

Nothing is trained: tiny AE/VAE models with random weights are saved as checkpoints with
the meta the training stage writes, and the metrics files follow the evaluate stage's and
dvclive's schema. The digits are the real MNIST test set.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image

from vaelab.core import latents, params
from vaelab.core.checkpoints import CheckpointError, checkpoint_path, save_checkpoint
from vaelab.core.models import build_autoencoder
from vaelab.core.names import (
    FIG_BETA_PAIR,
    FIG_UNIFORM,
    Run,
    curve_path,
    epoch_key,
    eval_path,
    expected_figures,
    kind_of,
    model_dir,
    model_name,
)
from vaelab.data.mnist import load_split
from vaelab.figures.decodes import (
    encode_draws,
    encode_means,
    pixel_std,
    posterior_density,
    prior_disc_mass,
    prior_quantiles,
    redecodes,
)
from vaelab.figures.from_checkpoints import fig09_beta_pair, prior_circle
from vaelab.figures.inputs import FiguresError, Inputs, Study
from vaelab.figures.make import make_figures
from vaelab.figures.primitives import TILE_PADDING, figure_style, tile
from vaelab.figures.uniform import (
    holds_other_centre,
    nearest_classes,
    square_border,
    uniform_numbers,
)

REPO = Path(__file__).resolve().parents[1]
MODEL_P = params.ModelParams(
    hidden=(16,),
    latent_dim=2,
    likelihood="gaussian",
    gaussian_variance=0.5,
    init="torch",
    sampling="log_var",
    latent="normal",
    prior_std=1.0,
)
TRAIN_P = params.TrainParams(
    seeds=(42,),
    extra_seeds=(),
    extra_seed_setups=(),
    more_seeds=(),
    more_seed_setups=(),
    batch_size=8,
    lr=1e-3,
    adam_eps=1e-8,
    checkpoints=(1, 3),
    device="cpu",
    threads=1,
)
VAE_P = params.VaeParams(betas=(0.0, 1.0, 5.0, 50.0))
EVAL_P = params.EvalParams(
    seed=1,
    batch_size=100,
    iwae_k=2,
    n_prior_samples=10,
    shifted_mean=1.0,
    shifted_std=0.5,
    fid_reference_size=10,
    active_unit_threshold=0.01,
)
FIGURES_P = params.FiguresParams(
    betas=(0.0, 1.0, 5.0),
    example_beta=1.0,
    pair_betas=(1.0, 50.0),
    curve_betas=(0.0, 1.0, 5.0, 50.0),
    shifted_betas=(0.0, 5.0),
    dpi=150,
    seed=3,
    example_index=0,
    scatter_points=300,
    grid_images=3,
    manifold_size=4,
)
RUN = Run("study", 42)
PNGS = expected_figures(TRAIN_P.checkpoints, MODEL_P.latent_dim)


def save_models(models: Path, model_p: params.ModelParams = MODEL_P) -> None:
    for beta in (None, *VAE_P.betas):
        kind, folder = kind_of(beta), model_dir(models, RUN, beta)
        for epoch in TRAIN_P.checkpoints:
            torch.manual_seed(epoch)
            model = build_autoencoder(kind, model_p.hidden, model_p.latent_dim)
            save_checkpoint(
                checkpoint_path(folder, epoch),
                model,
                {},
                epoch,
                kind=kind,
                beta=beta,
                params={"model": params.model_record(model_p), "train": params.as_dict(TRAIN_P)},
            )


def eval_entry(beta: float | None, epoch: int) -> dict[str, float]:
    """The keys of one metrics/eval checkpoint entry that figures read, with made-up values."""
    recon = 60.0 / epoch + (beta or 0.0)
    entry = {
        "recon": recon,
        "loss": recon,
        "recon_confidence_ratio": 0.9 + 0.01 * epoch,
        "prior_confidence_ratio": 0.5 + 0.1 * epoch,
        "shifted_confidence_ratio": 0.6,
    }
    if beta is not None:
        kl = 2.0 + epoch / (1.0 + beta)
        entry |= {"kl": kl, "loss": recon + beta * kl, "kl_share": kl / (recon + kl)}
    return entry


def write_metrics(metrics: Path) -> None:
    for beta in (None, *VAE_P.betas):
        name = model_name(beta)
        result = {
            "kind": kind_of(beta),
            "beta": beta,
            "baseline_confidence": 0.95,
            "real_vs_real_frechet_distance": 1.0,
        }
        result |= {epoch_key(e): eval_entry(beta, e) for e in TRAIN_P.checkpoints}
        eval_path(metrics, RUN, beta).parent.mkdir(parents=True, exist_ok=True)
        eval_path(metrics, RUN, beta).write_text(json.dumps(result))
        if beta is None:
            continue
        epochs = range(1, TRAIN_P.epochs + 1)
        for key in ("loss", "recon", "kl", "kl_share"):
            path = curve_path(RUN.metrics(metrics), name, "test", key)
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = pd.DataFrame({"step": epochs, key: [eval_entry(beta, e)[key] for e in epochs]})
            rows.to_csv(path, sep="\t", index=False)


def run(root: Path, mnist_root: Path, **changes) -> dict:
    sections = {
        "figures_p": FIGURES_P,
        "model_p": MODEL_P,
        "train_p": TRAIN_P,
        "eval_p": EVAL_P,
        "vae_p": VAE_P,
    } | changes
    return make_figures(
        RUN,
        root / "models",
        mnist_root,
        root / "metrics",
        root / "figures",
        root / "curves",
        **sections,
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory, mnist_root) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("study")
    save_models(root / "models")
    write_metrics(root / "metrics")
    return root, run(root, mnist_root)


def test_every_figure_is_a_png_at_the_dpi(study):
    root, _ = study
    assert sorted(p.name for p in (root / "figures").iterdir()) == sorted(PNGS)
    for name in PNGS:
        with Image.open(root / "figures" / name) as image:
            image.verify()
            assert image.format == "PNG"
            assert round(image.info["dpi"][0]) >= FIGURES_P.dpi


def test_redecodes_vary_for_the_vae_and_not_for_the_ae(study):
    _, numbers = study
    assert numbers["redecode_pixel_std"]["vae"] > 0
    assert numbers["redecode_pixel_std"]["ae"] == 0
    assert numbers["example_index"] == 0 and numbers["example_label"] == 7
    assert len(numbers["example_posterior"]["sigma"]) == MODEL_P.latent_dim


def test_tables_are_long_and_hold_the_vaes_only(study):
    """Figures 10–13 compare VAEs: an AE line would shift every β's colour in `dvc plots`."""
    root, _ = study
    rd = pd.read_csv(root / "curves" / "rate_distortion.csv")
    assert list(rd.columns) == ["model", "beta", "epoch", "rate_kl", "distortion_recon"]
    assert len(rd) == len(VAE_P.betas) * len(TRAIN_P.checkpoints)
    row = rd[(rd.beta == 5) & (rd.epoch == 3)].iloc[0]
    assert row.rate_kl == pytest.approx(eval_entry(5.0, 3)["kl"])
    for table in ("confidence.csv", "recon_confidence.csv", "epoch_kl.csv"):
        models = pd.read_csv(root / "curves" / table).model
        assert list(models.unique()) == [model_name(b) for b in VAE_P.betas], table


def test_redecodes_are_deterministic():
    """figures.json's redecode spread comes from one seeded generator: reruns agree exactly."""
    torch.manual_seed(0)
    model = build_autoencoder("vae", MODEL_P.hidden, MODEL_P.latent_dim)
    x = torch.rand(1, 784)
    first, again = (redecodes(model, x, 5, torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(first, again) and pixel_std(first).mean() > 0


def test_latent_draws_are_the_models_own_draws_and_repeat_with_the_seed():
    """The draws rows plot μ + σ·ε with ε from figures.seed: not the means, and the same bytes
    on every run; the AE's draw is its mean."""
    torch.manual_seed(0)
    vae = build_autoencoder("vae", MODEL_P.hidden, MODEL_P.latent_dim)
    x = torch.rand(50, 784, generator=torch.Generator().manual_seed(1))
    first, again = (encode_draws(vae, x, torch.Generator().manual_seed(3)) for _ in range(2))
    means = encode_means(vae, x)
    assert first.shape == means.shape == (50, MODEL_P.latent_dim)
    assert torch.equal(first, again)
    assert not torch.isclose(first, means).any()
    with torch.no_grad():
        _, logvar = vae.encode(x)
    eps = torch.randn(means.shape, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(first, means + (0.5 * logvar).exp() * eps)
    assert not torch.equal(first, encode_draws(vae, x, torch.Generator().manual_seed(4)))
    ae = build_autoencoder("ae", MODEL_P.hidden, MODEL_P.latent_dim)
    assert torch.equal(encode_draws(ae, x, torch.Generator().manual_seed(3)), encode_means(ae, x))


def test_figure_with_latent_draws_redraws_to_the_same_bytes(study, mnist_root, tmp_path):
    """Figure 9's draws row comes from figures.seed, so a second drawing is byte-identical."""
    root, _ = study
    inputs = Inputs(
        root / "models", root / "metrics", RUN, MODEL_P, TRAIN_P.checkpoints, VAE_P.betas
    )
    test = load_split(mnist_root, "test")
    again = Study(inputs, FIGURES_P, TRAIN_P, EVAL_P, test.flat_float(), test.labels, tmp_path)
    with figure_style():
        fig09_beta_pair(again)
    fresh, first = tmp_path / FIG_BETA_PAIR, root / "figures" / FIG_BETA_PAIR
    assert fresh.read_bytes() == first.read_bytes()


def test_untrained_beta_names_its_train_target(study, mnist_root, tmp_path):
    pairs = params.FiguresParams(**{**params.as_dict(FIGURES_P), "pair_betas": (1.0, 7.0)})
    with pytest.raises(FiguresError, match=r"train_vae@study-7-42"):
        run(study[0], mnist_root, figures_p=pairs)


def test_missing_checkpoint_names_it_and_writes_nothing(mnist_root, tmp_path):
    save_models(tmp_path / "models")
    write_metrics(tmp_path / "metrics")
    checkpoint_path(model_dir(tmp_path / "models", RUN, 5.0), 3).unlink()
    with pytest.raises(
        CheckpointError, match=r"beta_5/seed_42/epoch_003\.pt.*train_vae@study-5-42"
    ):
        run(tmp_path, mnist_root)
    assert not (tmp_path / "figures").exists() and not list(tmp_path.rglob("*.tmp"))


def test_checkpoint_of_other_model_params_is_refused(mnist_root, tmp_path):
    save_models(
        tmp_path / "models", params.ModelParams(**{**params.as_dict(MODEL_P), "hidden": (8,)})
    )
    write_metrics(tmp_path / "metrics")
    with pytest.raises(CheckpointError, match=r"train_ae"):
        run(tmp_path, mnist_root)


def test_stage_exits_1_naming_the_target_without_traceback(study, mnist_root, tmp_path):
    """vae.betas lists β = 500 but nothing trained it: the message names its stage."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    sections = raw | {
        "explorer": raw["explorer"] | {"checkpoints": list(TRAIN_P.checkpoints)},
        "figures": {**params.as_dict(FIGURES_P), "pair_betas": [1.0, 500.0]},
        "model": params.as_dict(MODEL_P),
        "train": params.as_dict(TRAIN_P),
        "eval": params.as_dict(EVAL_P),
        "vae": {"betas": [0, 1, 5, 50, 500]},
        "setups": {"study": {}},  # the base model and train: the test's small network
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(sections))
    root = study[0]
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "stages" / "figures.py"),
            "--setup",
            "study",
            "--models",
            str(root / "models"),
            "--data",
            str(mnist_root),
            "--metrics",
            str(root / "metrics"),
            "--out",
            "figures",
            "--curves",
            "curves",
            "--numbers",
            "figures.json",
            "--runtime",
            "runtime.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "train_vae@study-500-42" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_prior_quantiles_per_family():
    assert prior_quantiles(2).tolist() == pytest.approx([-0.6745, 0.6745], abs=1e-4)
    # Laplace(0, b): the quartiles are ±b·log 2; the uniform family's prior is normal
    b = 2.0 / math.sqrt(2)
    laplace = prior_quantiles(2, "laplace", 2.0).tolist()
    assert laplace == pytest.approx([-b * math.log(2), b * math.log(2)], rel=1e-5)
    assert prior_quantiles(3, "uniform", 2.0).tolist() == pytest.approx(
        (2.0 * prior_quantiles(3)).tolist()
    )


@pytest.mark.parametrize("family", ["normal", "laplace", "uniform"])
def test_prior_disc_mass_is_the_share_of_prior_draws_inside(family):
    draws = latents.prior_sample(family, (400_000, 2), torch.Generator().manual_seed(0), 0.0, 1.0)
    for radius in (1.0, 2.0, 3.0):
        inside = float((draws.norm(dim=1) <= radius).double().mean())
        assert prior_disc_mass(family, radius) == pytest.approx(inside, abs=3e-3)
    assert prior_disc_mass("normal", 2.0) == pytest.approx(1 - math.exp(-2), rel=1e-12)


@pytest.mark.parametrize("family", ["normal", "laplace", "uniform"])
def test_posterior_raster_is_the_family_density(family):
    mu, sigma = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 0.25])
    density, extent = posterior_density(mu, sigma, family, points=401)
    cell = (
        (extent[1] - extent[0])
        / (density.shape[1] - 1)
        * (extent[3] - extent[2])
        / (density.shape[0] - 1)
    )
    assert float(density.sum()) * cell == pytest.approx(1.0, abs=0.03)
    assert math.isclose(extent[1] - extent[0], extent[3] - extent[2])
    centre = density[200, 200]  # the raster's middle is μ: the mode of each family
    assert float(centre) == pytest.approx(float(density.max()), rel=1e-6)
    z1 = torch.linspace(extent[0], extent[1], 401)
    inside = (z1 - mu[0]).abs() <= math.sqrt(3) * sigma[0]
    row = density[200]
    if family == "uniform":  # a box of width 2√3σ: flat inside, zero outside
        assert torch.all(row[~inside] == 0) and torch.allclose(row[inside], centre)
    else:
        assert torch.all(row[~inside] > 0)


@pytest.mark.parametrize(("count", "per_row"), [(64, 8), (5, 8), (10, 4), (400, 20), (1, 3)])
def test_tile_matches_torchvision_make_grid(count, per_row):
    from torchvision.utils import make_grid

    images = torch.rand((count, 784), generator=torch.Generator().manual_seed(count))
    expected = make_grid(
        images.reshape(-1, 1, 28, 28), nrow=per_row, padding=TILE_PADDING, pad_value=1.0
    )[0].numpy()
    assert np.array_equal(tile(images, per_row), expected)


@pytest.mark.parametrize("family", ["laplace", "uniform"])
def test_other_families_draw_every_figure_from_their_own_prior(family, mnist_root, tmp_path):
    model_p = dataclasses.replace(MODEL_P, latent=family, prior_std=2.0)
    save_models(tmp_path / "models", model_p)
    write_metrics(tmp_path / "metrics")
    numbers = run(tmp_path, mnist_root, model_p=model_p)
    expected = expected_figures(TRAIN_P.checkpoints, model_p.latent_dim, family)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(expected)
    assert (FIG_UNIFORM in expected) == (family == "uniform")
    inputs = Inputs(tmp_path / "models", tmp_path / "metrics", RUN, model_p, (1, 3), VAE_P.betas)
    drawn = Study(
        inputs, FIGURES_P, TRAIN_P, EVAL_P, torch.zeros(1, 784), torch.zeros(1), tmp_path
    )
    name = "Laplace(0, 1.41)" if family == "laplace" else "N(0, 2²)"  # uniform: a normal prior
    assert prior_circle(drawn) == (4.0, f"{name}\n86 % (r = 4)")
    z = drawn.prior_z()
    expected_z = latents.prior_sample(family, z.shape, drawn.generator(), 0.0, 2.0)
    assert torch.equal(z, expected_z)
    assert torch.equal(
        drawn.shifted_z(), latents.prior_sample(family, z.shape, drawn.generator(), 1.0, 1.0)
    )
    if family != "uniform":
        assert "uniform_boxes" not in numbers
        return
    boxes = numbers["uniform_boxes"]
    assert boxes["digits"] == FIGURES_P.scatter_points
    assert 0.0 <= boxes["share_holding_other_centre"] <= 1.0
    assert all(w > 0 for w in boxes["mean_half_width"])
    first, second = boxes["nearest_classes"]
    assert 0 <= first < second <= 9


def test_uniform_box_numbers_on_known_boxes():
    mu = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.2, 0.0], [10.0, 10.0]])
    half = torch.tensor([[0.5, 0.5], [0.5, 0.5], [4.0, 4.0], [0.1, 0.1]])
    labels = torch.tensor([0, 1, 0, 2])
    centres = torch.tensor([[0.1, 0.0], [3.0, 0.0], [10.0, 10.0]])
    # digit 2's wide box holds class 1's centre; the others hold only their own class's
    held = holds_other_centre(mu, half, labels, centres)
    assert held.tolist() == [False, False, True, False]
    assert nearest_classes(centres) == (0, 1)
    numbers, found = uniform_numbers(mu, half, labels)
    assert numbers["share_holding_other_centre"] == pytest.approx(0.25)
    assert numbers["mean_half_width"] == pytest.approx([1.275, 1.275])
    assert torch.allclose(found[:3], centres) and torch.isnan(found[3:]).all()


def test_square_border_goes_around_the_square():
    points = square_border(2.0, 4)
    assert points.shape == (16, 2)
    assert torch.all(points.abs().max(dim=1).values == 2.0)  # every point on the border
    assert points[0].tolist() == [-2.0, 2.0] and len({tuple(p) for p in points.tolist()}) == 16
