"""Training: the loss falls on real data, reruns are bit-identical, failures leave nothing."""

import dataclasses
import math

import pytest
import torch

from vaelab.core import objectives, params
from vaelab.core.checkpoints import CheckpointError, checkpoint_path, load_into, read_checkpoint
from vaelab.core.models import VAE
from vaelab.core.runtime import seed_everything
from vaelab.data.mnist import load_mnist
from vaelab.training.runs import AutoencoderRun, train_autoencoders
from vaelab.training.stacked_step import AdamSettings, StackedStep
from vaelab.training.train import (
    FitSettings,
    TrainingDivergedError,
    evaluate_stacked,
    fit,
    fit_stacked,
)

SEED = 42


def train_one(setup, beta, seed, root, model_dir, live_dir):
    """One stage's run, as `stages/train_autoencoder.py` trains it."""
    return train_autoencoders([[AutoencoderRun(beta, seed, model_dir, live_dir)]], setup, root)[0][
        0
    ]


def small_setup(checkpoints=(1, 2), name="wide"):
    setup = params.load_setup(name)
    train_p = dataclasses.replace(setup.train, checkpoints=checkpoints, batch_size=128)
    return dataclasses.replace(setup, train=train_p)


def test_vae_loss_falls_over_a_few_hundred_steps(mnist_root):
    torch.manual_seed(0)
    train, _ = load_mnist(mnist_root)
    x = train.flat_float()[:38400]
    model = VAE([256, 128], 2)
    step = StackedStep(
        [model], [1.0], objectives.Likelihood("bernoulli", 0.5), AdamSettings(1e-3, 1e-8)
    )
    before = evaluate_stacked(step, x[:2000], 2000, [0])[0]["loss"]
    settings = FitSettings(epochs=2, batch_size=256, lr=1e-3, seed=0, label="test")
    (result,) = fit_stacked(step, x, x[:2000], [settings])  # 300 steps
    after = result.history[-1]["test/loss"]
    assert after < 0.75 * before and after < 250  # an untrained decoder scores ≈ 543 nats


def test_study_setup_trains_with_its_sampling_rule(small_mnist_root, tmp_path):
    """The study's network and rule; the checkpoint and the dvclive summary record the rule."""
    setup = small_setup(checkpoints=(1,), name="study")
    train_one(setup, 1.0, SEED, small_mnist_root, tmp_path / "m", tmp_path / "l")
    checkpoint = read_checkpoint(checkpoint_path(tmp_path / "m", 1))
    assert checkpoint["sampling"] == "log_sigma" and checkpoint["seed"] == SEED
    assert checkpoint["params"]["model"]["hidden"] == [64, 16, 8]
    assert checkpoint["model"]["encoder.net.0.weight"].shape == (64, 784)
    summary = (tmp_path / "l" / "metrics.json").read_text()
    assert '"sampling": "log_sigma"' in summary


def test_same_seed_gives_bit_identical_checkpoints(small_mnist_root, tmp_path):
    setup = small_setup()
    for run in ("a", "b"):
        train_one(
            setup,
            1.0,
            SEED,
            small_mnist_root,
            tmp_path / run,
            tmp_path / f"live_{run}",
        )
    for epoch in (1, 2):
        a_path, b_path = (checkpoint_path(tmp_path / run, epoch) for run in ("a", "b"))
        assert a_path.read_bytes() == b_path.read_bytes()  # DVC sees the same hash
        a, b = read_checkpoint(a_path), read_checkpoint(b_path)
        assert a["epoch"] == epoch and a["environment"]["device"] == "cpu"
        for key in a["model"]:
            assert torch.equal(a["model"][key], b["model"][key]), key
    assert (tmp_path / "live_a" / "metrics.json").read_text() != ""


def test_different_seed_gives_different_weights(small_mnist_root, tmp_path):
    setup = small_setup(checkpoints=(1,))
    train_one(setup, None, SEED, small_mnist_root, tmp_path / "a", tmp_path / "la")
    train_one(setup, None, SEED + 1, small_mnist_root, tmp_path / "b", tmp_path / "lb")
    a = read_checkpoint(checkpoint_path(tmp_path / "a", 1))["model"]
    b = read_checkpoint(checkpoint_path(tmp_path / "b", 1))["model"]
    assert not torch.equal(a["decoder.0.weight"], b["decoder.0.weight"])


def test_nan_loss_stops_at_once_and_names_where(tmp_path):
    model = VAE([8], 2)
    calls = {"n": 0}

    def objective(m, x, _y):
        calls["n"] += 1
        loss = m(x)[0].mean() * (math.nan if calls["n"] == 3 else 1.0)
        return {"loss": loss}

    saved = []
    x = torch.rand(64, 784)
    settings = FitSettings(epochs=2, batch_size=16, lr=1e-3, seed=0, label="vae_beta_5")
    with pytest.raises(TrainingDivergedError) as error:
        fit(
            model,
            objective,
            (x, x[:, 0]),
            (x, x[:, 0]),
            settings,
            lambda epoch, *_: saved.append(epoch),
        )
    message = str(error.value)
    assert "vae_beta_5" in message and "epoch 1, step 3" in message and "train.lr" in message
    assert saved == []


def test_loading_a_checkpoint_of_another_shape_names_both(small_mnist_root, tmp_path):
    setup = small_setup(checkpoints=(1,))
    train_one(setup, 1.0, SEED, small_mnist_root, tmp_path / "m", tmp_path / "live")
    path = checkpoint_path(tmp_path / "m", 1)
    with pytest.raises(CheckpointError) as error:
        load_into(VAE([64, 32], 2), read_checkpoint(path), path)
    assert "(256, 784)" in str(error.value) and "(64, 784)" in str(error.value)


def test_missing_checkpoint_names_the_stage(tmp_path):
    with pytest.raises(CheckpointError, match="dvc repro train_vae@5"):
        read_checkpoint(tmp_path / "epoch_001.pt", "dvc repro train_vae@5")


def test_seed_everything_turns_deterministic_kernels_on():
    torch.use_deterministic_algorithms(False)
    seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.initial_seed() == 0


def _tree_bytes(folder):
    return {
        p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize(
    ("setup_name", "betas"), [("study", (None, 5.0, 0.0)), ("wide", (1.0, None, 500.0))]
)
def test_a_model_trained_beside_others_has_the_bytes_it_has_alone(
    small_mnist_root, tmp_path, setup_name, betas
):
    """Seed 42 alone, then stacked between 43 and 44 (with other β): its checkpoints and
    dvclive logs are the same bytes, so `make repro` and a plain `dvc repro` agree."""
    own_batch = params.load_setup(setup_name).train.batch_size  # and its own threads
    setup = small_setup(name=setup_name)
    setup = dataclasses.replace(
        setup, train=dataclasses.replace(setup.train, batch_size=own_batch)
    )
    alone = tmp_path / "alone"
    train_one(setup, betas[0], SEED, small_mnist_root, alone / "m", alone / "live")
    runs = [
        AutoencoderRun(beta, seed, tmp_path / f"s{seed}" / "m", tmp_path / f"s{seed}" / "live")
        for beta, seed in zip(
            (betas[1], betas[0], betas[2]), (SEED + 1, SEED, SEED + 2), strict=True
        )
    ]
    (runtimes,) = train_autoencoders([runs], setup, small_mnist_root)
    together = tmp_path / f"s{SEED}"
    assert _tree_bytes(alone / "m") == _tree_bytes(together / "m")
    assert _tree_bytes(alone / "live") == _tree_bytes(together / "live")
    assert len(_tree_bytes(together / "m")) == 2  # epochs 1 and 2
    assert _tree_bytes(together / "m") != _tree_bytes(tmp_path / f"s{SEED + 1}" / "m")
    assert [r["models_in_step"] for r in runtimes] == [3, 3, 3]
