"""`make bench`: how fast the study runs, as ratios measured in one process on this machine.

Training throughput of our loop against the PyTorch-examples DataLoader loop, the fraction of
the machine's own matmul peak that training reaches, IWAE throughput, push and pull of
the pipeline's cache through a local S3 store (unless `--skip-remote`), what the DVC pipeline
costs end to end (unless `--skip-pipeline`), and the explorer page's size, first paint and
decode time in headless Chromium. Writes `metrics/bench.json`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch

from vaelab.bench import explorer, pipeline, remote, small_batch
from vaelab.bench.training import (
    check_raw_data,
    fit_epochs,
    iwae_samples_per_s,
    median_rate,
    naive_epoch,
    naive_loader,
    peak_matmul_flops,
)
from vaelab.core import objectives, params
from vaelab.core.io import write_json
from vaelab.core.models import build_autoencoder, forward_flops_per_image
from vaelab.core.runtime import environment, resolve_device, seed_everything, set_threads
from vaelab.data.mnist import load_mnist

REPO = Path(__file__).resolve().parents[3]
BETA = 1.0  # the study's VAE


WIDE = "wide"  # the setup whose large batches the DataLoader comparison uses


def training_rows(data_root: Path, epochs: int) -> dict[str, Any]:
    """Our loop vs the naive loop on the wide setup's VAE and batch, and the peak they share."""
    eval_p = params.load("eval")
    setup = params.load_setup(WIDE)
    model_p, train_p = setup.model, setup.train
    set_threads(train_p.threads)
    device = resolve_device(train_p.device)
    likelihood = objectives.Likelihood(model_p.likelihood, model_p.gaussian_variance)
    train, test = load_mnist(data_root)
    train_x, test_x = train.flat_float().to(device), test.flat_float().to(device)

    def new_model():
        seed_everything(train_p.seeds[0])
        model = build_autoencoder(
            "vae", model_p.hidden, model_p.latent_dim, model_p.init, model_p.sampling
        )
        return model.to(device)

    peak = peak_matmul_flops(device=str(device))
    ours = fit_epochs(
        new_model(), train_x, train_p.batch_size, train_p.lr, BETA, likelihood, epochs
    )
    naive_model = new_model()
    naive = naive_epoch(
        naive_model,
        naive_loader(str(data_root), train_p.batch_size),
        torch.optim.Adam(naive_model.parameters(), lr=train_p.lr),
        BETA,
        likelihood,
    )
    ours_rate = median_rate(ours[1:] or ours)  # the first epoch warms up the allocator
    flops_per_image = 3 * forward_flops_per_image(naive_model)  # forward + backward
    return {
        "environment": environment(device),  # threads included
        "peak_matmul_gflops": peak / 1e9,
        "train_flops_per_image": flops_per_image,
        "ours_images_per_s": ours_rate,
        "naive_images_per_s": naive.images_per_s,
        "speedup_vs_naive": ours_rate / naive.images_per_s,
        "ours_epoch1_loss": ours[0].mean_loss,
        "naive_epoch1_loss": naive.mean_loss,
        "fraction_of_peak": flops_per_image * ours_rate / peak,
        "vae_epoch_seconds": len(train_x) / ours_rate,
        "iwae_k": eval_p.iwae_k,
        "iwae_samples_per_s": iwae_samples_per_s(
            naive_model.eval(), test_x, likelihood, eval_p.iwae_k, eval_p.batch_size
        ),
    }


ROWS = (
    ("peak float32 matmul (GFLOP/s)", "peak_matmul_gflops", "{:.1f}"),
    *small_batch.ROWS,
    ("wide setup: training, our loop (img/s)", "ours_images_per_s", "{:.0f}"),
    ("training, DataLoader loop (img/s)", "naive_images_per_s", "{:.0f}"),
    ("  speedup (target ≥ 2.0×)", "speedup_vs_naive", "{:.2f}×"),
    ("  epoch-1 loss, ours / naive", ("ours_epoch1_loss", "naive_epoch1_loss"), "{:.2f} / {:.2f}"),
    ("fraction of matmul peak (target ≥ 55 %)", "fraction_of_peak", "{:.1%}"),
    ("one VAE epoch (s)", "vae_epoch_seconds", "{:.2f}"),
    ("IWAE importance samples/s", "iwae_samples_per_s", "{:.0f}"),
    ("full make repro, empty cache (s)", "full_repro_seconds", "{:.1f}"),
    ("  of which training steps (s)", "training_step_seconds", "{:.1f}"),
    ("  share outside training (target ≤ 15 %)", "outside_training_share", "{:.1%}"),
    ("  evaluate stages, all models (s)", "evaluate_seconds", "{:.1f}"),
    ("  figures stage (s)", "figures_seconds", "{:.1f}"),
    ("no-op dvc repro, median of 3 (s, target ≤ 3)", "noop_repro_seconds", "{:.2f}"),
    ("  no-op make repro, median of 3 (s)", "noop_make_repro_seconds", "{:.2f}"),
    ("  stages DVC checks", "noop_stages", "{}"),
    ("add one β: dvc repro (s)", "add_beta_seconds", "{:.1f}"),
    ("  its train + evaluate alone (s)", "one_model_seconds", "{:.1f}"),
    ("  ratio (target ≤ 1.3)", "add_beta_ratio", "{:.2f}"),
    ("4-point β training sweep, dvc queue -j 1 (s)", "sweep_4_j1_seconds", "{:.1f}"),
    ("4-point β training sweep, dvc queue -j 2 (s)", "sweep_4_j2_seconds", "{:.1f}"),
    ("  speedup", "sweep_speedup", "{:.2f}×"),
    ("peak RSS of any process (MB, target ≤ 2048)", "peak_rss_mb", "{:.0f}"),
    *remote.ROWS,
    ("explorer page (MB, target ≤ 3)", "explorer_page_mb", "{:.2f}"),
    ("  models it offers", "explorer_models", "{}"),
    ("  first paint (ms, target ≤ 1000)", "explorer_first_paint_ms", "{:.0f}"),
    ("  one decode, pointer→pixels (ms, target ≤ 5)", "explorer_decode_ms_median", "{:.2f}"),
    ("  slowest of the decodes (ms)", "explorer_decode_ms_max", "{:.2f}"),
)


def table(result: dict[str, Any]) -> str:
    """The rows that were measured, one per line."""
    lines = []
    for label, keys, fmt in ROWS:
        keys = keys if isinstance(keys, tuple) else (keys,)
        if all(result.get(k) is not None for k in keys):
            lines.append(f"{label:<46} {fmt.format(*(result[k] for k in keys))}")
    env = result["environment"]
    lines.append(
        f"(torch {env['torch']}, {env['device']} {env['device_name']}, {env['threads']} threads, "
        f"{env['cpu_count']} cores)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/raw"), help="root of MNIST/raw")
    parser.add_argument("--out", type=Path, default=Path("metrics/bench.json"))
    parser.add_argument("--epochs", type=int, default=3, help="epochs of our loop to time")
    parser.add_argument(
        "--skip-pipeline", action="store_true", help="skip the DVC rows (they take minutes)"
    )
    parser.add_argument(
        "--increments",
        action="store_true",
        help="of the DVC rows, time only the no-ops and adding a β, in a clone that borrows this "
        "workspace's cache (minutes, not an hour; needs make repro first)",
    )
    parser.add_argument(
        "--skip-remote", action="store_true", help="skip push and pull through a local S3"
    )
    parser.add_argument(
        "--explorer", type=Path, default=Path("report/explorer.html"), help="the page to time"
    )
    args = parser.parse_args(argv)
    try:
        check_raw_data(str(args.data))
        result = training_rows(args.data, args.epochs)
        result |= small_batch.measure(args.data)
    except (FileNotFoundError, params.ParamsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.explorer.is_file():
        result |= explorer.measure(args.explorer)
    else:
        print(f"note: {args.explorer} not found, so not timed; run `make repro` first")
    if not args.skip_remote:
        print("pushing and pulling the pipeline's cache through a local S3 store…", flush=True)
        result |= remote.measure(REPO)
    print(table(result), flush=True)
    if args.increments:
        print("timing no-ops and adding a β in a clone of HEAD (minutes)…", flush=True)
        result |= pipeline.measure_increments(REPO)
        print(table(result))
    elif not args.skip_pipeline:
        print("measuring the DVC pipeline in a fresh clone of HEAD (an hour)…", flush=True)
        result |= pipeline.measure(REPO)
        print(table(result))
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
