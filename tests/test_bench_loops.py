"""The bench's ruler: every loop warms up, then times ≥ 3 equal windows; the study rows'
workers start together under the pinned kernels, and `new` deals the models as make repro."""

import pytest
import torch

from vaelab import repro
from vaelab.bench import study, wide
from vaelab.bench.loops import (
    Plain,
    Timing,
    eager_windows,
    loader_windows,
    plain_optimizer,
    stacked_windows,
)
from vaelab.bench.pinned import pinned_variables
from vaelab.core import objectives, params
from vaelab.core.models import build_autoencoder
from vaelab.training.stacked_step import AdamSettings, StackedStep
from vaelab.training.train import FitSettings

GAUSSIAN = objectives.Likelihood("gaussian", 0.5)


def _vae(seed: int = 0):
    torch.manual_seed(seed)
    return build_autoencoder("vae", [32, 8], 2)


def test_timing_needs_three_windows_after_a_warm_up():
    with pytest.raises(ValueError, match="at least 3 windows"):
        Timing(steps=10, windows=2)
    with pytest.raises(ValueError):
        Timing(steps=10, warmup=0)


def test_every_loop_times_its_windows_and_trains_the_same_model():
    x = torch.rand(256, 784)
    timing = Timing(steps=4, windows=3)
    step = StackedStep([_vae(), _vae(1)], [1.0, 5.0], GAUSSIAN, AdamSettings(1e-3, 1e-8))
    settings = [FitSettings(1, 16, 1e-3, seed, "bench", 16) for seed in (0, 1)]
    ours = stacked_windows(step, x, settings, timing)
    model = _vae()
    optimizer = plain_optimizer(model, 1e-3, 1e-8, Plain(ftz=True, fused=True))
    plain = eager_windows(model, optimizer, x, 16, 1.0, GAUSSIAN, timing)
    loader = [(x[i : i + 16].view(-1, 1, 28, 28), None) for i in range(0, 256, 16)]
    model = _vae()
    optimizer = plain_optimizer(model, 1e-3, 1e-8, Plain())
    through_loader = loader_windows(model, optimizer, loader, 1.0, GAUSSIAN, timing)
    for rates in (ours, plain, through_loader):
        assert len(rates.per_window) == 3
        assert rates.median > 0
    # the same initial weights on the same kind of images: the first losses agree roughly
    assert ours.first_loss == pytest.approx(plain.first_loss, rel=0.2)
    assert plain.first_loss == pytest.approx(through_loader.first_loss, rel=0.2)


def test_new_path_steps_the_vaes_as_make_repro_does():
    """Each process times the first group of VAEs that make repro's process steps at once."""
    shares = study.new_shares(cores=2)
    setup, vae = params.load_setup(study.SETUP), params.load("vae")
    everyone = {(float(b), s) for s in setup.train.seeds for b in vae.betas}
    timed = [(float(b), s) for share in shares for b, s in share]
    assert len(set(timed)) == len(timed) and set(timed) <= everyone
    assert len(shares) == study.processes(cores=2) == 2 // setup.train.threads
    assert all(2 <= len(share) <= repro.MODELS_IN_STEP for share in shares)


def test_workers_start_together_under_the_pinned_kernels(small_mnist_root):
    found = study.measure(
        small_mnist_root, pinned_variables(), cores=2, steps=2, paths=("plain", "today")
    )
    for path in ("plain", "today"):
        workers = found[f"study_{path}_workers"]
        assert len(workers) == found["study_processes"]
        assert found[f"study_{path}_images_per_s"] == pytest.approx(
            sum(w["images_per_s"] for w in workers)
        )
        assert all(len(w["per_window"]) == 3 for w in workers)
        assert 0 < found[f"study_{path}_overlap"] <= 1
    assert found["study_today_vs_plain"] > 0


def test_wide_rows_compare_our_loop_with_each_dataloader_loop(small_mnist_root):
    found = wide.measure(small_mnist_root, steps=2)
    for name in ("plain", "plain_ftz", "plain_ftz_fused"):
        assert found[f"wide_ours_vs_{name}"] == pytest.approx(
            found["wide_ours_images_per_s"] / found[f"wide_{name}_images_per_s"]
        )
    assert found["wide_ours_first_loss"] == pytest.approx(found["wide_plain_first_loss"], rel=0.1)
    assert found["iwae_samples_per_s"] > 0
