"""The pipeline's arithmetic: the matmul FLOPs each part of `make repro` must do, and so the
least wall time any implementation could reach at the machine's float32 matmul peak.

Why: a time budget is reachable only if each part's arithmetic fits in it. A part's FLOPs
divided by its measured seconds say how close to the peak it runs, and so what bounds it:
the arithmetic (near the peak) or everything around it (far below). Matmuls only, counted
per layer as `flops` counts them; elementwise work, Adam, data movement and DVC are not
arithmetic a matmul peak bounds, so the floor is a floor, never an estimate.

`python -m vaelab.bench.floor --peak GFLOPS [params.yaml …]` prints each part for each params
file at the peak `make bench` measured (its first row).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from torch import nn

from vaelab.bench.flops import products, training_flops_per_image
from vaelab.core import params
from vaelab.core.models import AE, Classifier, build_autoencoder

TRAIN_IMAGES, TEST_IMAGES = 60_000, 10_000  # MNIST
PARTS = ("training", "classifiers", "test_passes", "evaluation")


def forward_flops(net: nn.Module) -> int:
    """One image through every Linear of `net`: 2·in·out each."""
    return 2 * sum(products(net))


def classifier_training_flops(classifier: Classifier) -> int:
    """One image's training step: forward, weight gradients and input gradients but the
    first layer's (the images'), as `flops.training_flops_per_image` counts an AE."""
    layers = products(classifier)
    return 4 * sum(layers) + 2 * sum(layers[1:])


def evaluation_flops(model: AE, classifier: Classifier, eval_p: params.EvalParams, n: int) -> int:
    """One checkpoint of `evaluation.evaluate_checkpoint` with an ensemble of n classifiers:
    the test images encoded (twice for a VAE: once more for IWAE's draws) and decoded (once,
    k more times for IWAE; an AE decodes its means again for its recon), the prior's and the
    shifted prior's samples decoded, and every classifier on the reconstructions and both
    sets of samples."""
    encoder, decoder = forward_flops(model.encoder), forward_flops(model.decoder)
    samples = 2 * eval_p.n_prior_samples
    if model.stochastic:
        own = TEST_IMAGES * (2 * encoder + (1 + eval_p.iwae_k) * decoder)
    else:
        own = TEST_IMAGES * (encoder + 2 * decoder)
    return own + samples * decoder + n * (TEST_IMAGES + samples) * forward_flops(classifier)


def setup_training_flops(setup: params.Setup, vae_p: params.VaeParams) -> int:
    """The training steps of a setup's AE and VAEs, every seed (an AE has a VAE's layers)."""
    m = setup.model
    model = build_autoencoder("vae", m.hidden, m.latent_dim)
    per_model = setup.train.epochs * TRAIN_IMAGES * training_flops_per_image(model)
    return (1 + len(vae_p.betas)) * len(setup.runs) * per_model


def pipeline_flops(path: Path | str = params.DEFAULT_PATH) -> dict[str, int]:
    """Matmul FLOPs of every part of the pipeline params.yaml at `path` defines: `training`
    (the steps of each setup's AE and VAEs, every seed), `classifiers` (the ensemble's
    steps), `test_passes` (every model's test loss after each epoch) and `evaluation` (every
    checkpoint of every model and seed, and each evaluate stage's reference: the ensemble on
    the test images and the first classifier on `fid_reference_size` training images)."""
    vae_p, clf_p, eval_p, setups = params.load("vae", "classifier", "eval", "setups", path=path)
    classifier = Classifier(clf_p.hidden, clf_p.dropout)
    clf_forward = forward_flops(classifier)
    ensemble = len(clf_p.seeds)
    found = dict.fromkeys(PARTS, 0)
    for setup in setups.values():
        m, t = setup.model, setup.train
        found["training"] += setup_training_flops(setup, vae_p)
        for kind, count in (("ae", 1), ("vae", len(vae_p.betas))):
            model = build_autoencoder(kind, m.hidden, m.latent_dim)
            models = count * len(setup.runs)
            found["test_passes"] += models * t.epochs * TEST_IMAGES * forward_flops(model)
            checkpoint = evaluation_flops(model, classifier, eval_p, ensemble)
            found["evaluation"] += models * len(t.checkpoints) * checkpoint
            reference = (ensemble * TEST_IMAGES + eval_p.fid_reference_size) * clf_forward
            found["evaluation"] += count * reference  # one evaluate stage per setup × model
    found["classifiers"] = (
        ensemble * clf_p.epochs * TRAIN_IMAGES * classifier_training_flops(classifier)
    )
    found["test_passes"] += ensemble * clf_p.epochs * TEST_IMAGES * clf_forward
    return found


def least_seconds(flops: dict[str, int], peak_gflops: float) -> dict[str, float]:
    """Each part's seconds, and the total's, were it to run at `peak_gflops`."""
    seconds = {part: value / (peak_gflops * 1e9) for part, value in flops.items()}
    return seconds | {"total": sum(seconds.values())}


def bench_rows(result: dict, path: Path | str = params.DEFAULT_PATH) -> dict[str, float]:
    """`make bench`'s rows: each part's TFLOP, the least seconds of the whole at the highest
    and the lowest peak measured, and, once the full pipeline's split is in `result`, the
    share of the peak its training steps (AEs, VAEs and classifiers, as the split counts
    them: without the test passes) and its evaluation reached: (share of the highest peak,
    share of the lowest)."""
    flops = pipeline_flops(path)
    found: dict[str, float] = {f"floor_{part}_tflop": flops[part] / 1e12 for part in PARTS}
    for end in ("max", "min"):
        peak_gflops = result[f"peak_machine_gflops_{end}"]
        found[f"floor_seconds_at_peak_{end}"] = least_seconds(flops, peak_gflops)["total"]
    measured = {
        "training": (flops["training"] + flops["classifiers"], "pipeline_training_seconds"),
        "evaluation": (flops["evaluation"], "pipeline_evaluation_seconds"),
    }
    for part, (part_flops, key) in measured.items():
        if result.get(key):
            for end, side in (("max", "low"), ("min", "high")):
                achieved = part_flops / result[key] / 1e9
                found[f"pipeline_{part}_share_of_peak_{side}"] = (
                    achieved / result[f"peak_machine_gflops_{end}"]
                )
    return found


def describe(path: Path | str, peak_gflops: float) -> str:
    """One line per part: TFLOP and the least seconds at the peak."""
    flops = pipeline_flops(path)
    seconds = least_seconds(flops, peak_gflops)
    lines = [f"{path}: matmul arithmetic at {peak_gflops:.1f} GFLOP/s"]
    for part in PARTS:
        label = part.replace("_", " ")
        lines.append(f"  {label:<12} {flops[part] / 1e12:8.1f} TFLOP  ≥ {seconds[part]:7.0f} s")
        if part == "training":
            vae_p, setups = params.load("vae", "setups", path=path)
            for name, setup in setups.items():
                own = setup_training_flops(setup, vae_p)
                lines.append(
                    f"    {name:<10} {own / 1e12:8.1f} TFLOP  ≥ {own / (peak_gflops * 1e9):7.0f} s"
                    f"  ({len(setup.runs)} seeds × {1 + len(vae_p.betas)} models)"
                )
    total = sum(flops.values())
    lines.append(f"  {'total':<12} {total / 1e12:8.1f} TFLOP  ≥ {seconds['total']:7.0f} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("params", nargs="*", type=Path, default=[params.DEFAULT_PATH])
    parser.add_argument(
        "--peak",
        type=float,
        required=True,
        help="the whole machine's float32 matmul GFLOP/s, as `make bench` measures it",
    )
    args = parser.parse_args(argv)
    if args.peak <= 0:
        parser.error(f"--peak {args.peak}: a peak is a positive GFLOP/s")
    try:
        print("\n".join(describe(path, args.peak) for path in args.params))
    except params.ParamsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
