"""`make bench`: how fast the study trains and what the pipeline costs, on this machine,
under the kernels every stage runs with (dvc.yaml's `pinned`).

In one run: the float32 matmul peak (whole machine and one core) before and after the
training rows; the study network over the whole machine, plain eager against today's path
(one model per process) and the new one (make repro's models stacked per process), machine
rate against machine rate, and each one's share of the peak with FLOPs counted per layer;
the wide setup's loop against the DataLoader loop; IWAE throughput; push and pull through a
local S3 store (unless `--skip-remote`); the full pipeline's wall time from an empty cache,
split into its parts, and the DVC increments (unless `--skip-pipeline`); the explorer page
in headless Chromium. Writes `metrics/bench.json`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch

from vaelab.bench import explorer, floor, peak, pipeline, remote, study, wide
from vaelab.bench.flops import setup_flops_per_image
from vaelab.bench.pinned import KernelMismatchError, check_kernels, pinned_variables
from vaelab.bench.table import table
from vaelab.core import params
from vaelab.core.io import write_json
from vaelab.core.runtime import environment, kernels
from vaelab.data.files import raw_dir

REPO = Path(__file__).resolve().parents[3]
# Steps per timed window: one epoch of each setup (60 000 images at batch 16 and at 256),
# or a short window with --quick (a smoke test, not a measurement).
STEPS = {"study": 3750, "wide": 235}
QUICK_STEPS = {"study": 250, "wide": 20}


def check_raw_data(root: Path) -> None:
    """Raise FileNotFoundError with the fix when the pipeline's MNIST is not there yet."""
    folder = raw_dir(root)
    if not folder.is_dir() or len(list(folder.glob("*-ubyte"))) < 4:
        raise FileNotFoundError(
            f"{folder}: MNIST not found; run `make repro` first (or `dvc repro download`)"
        )


def peak_shares(result: dict[str, Any]) -> dict[str, Any]:
    """FLOPs per image (per layer) and each training row's share of the machine's peak."""
    rows = {"study": [f"study_{path}" for path in study.PATHS], "wide": ["wide_ours"]}
    found: dict[str, Any] = {}
    for setup, names in rows.items():
        flops = setup_flops_per_image(params.load_setup(setup))
        found[f"{setup}_flops_per_image"] = flops
        for name in names:
            if (rate := result.get(f"{name}_images_per_s")) is not None:
                low, high = peak.shares(flops, rate, result)
                found[f"{name}_share_low"], found[f"{name}_share_high"] = low, high
    return found


def training_rows(data: Path, steps: dict[str, int], windows: int) -> dict[str, Any]:
    """The peak, the study network over the whole machine, the wide setup, the peak again."""
    pinned = pinned_variables()
    check_kernels(kernels(), pinned, "make bench")
    result: dict[str, Any] = {
        "environment": environment(torch.device("cpu")),
        "kernels": kernels(),
        "pinned": pinned,
        "windows": windows,
        "steps_per_window": steps,
    }
    result |= peak.measure("before")
    result |= study.measure(data, pinned, peak.cores(), steps["study"], windows)
    result |= wide.measure(data, steps["wide"], windows)
    result |= peak.measure("after")
    result |= peak.summary(result)
    return result | peak_shares(result) | floor.bench_rows(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/raw"), help="root of MNIST/raw")
    parser.add_argument("--out", type=Path, default=Path("metrics/bench.json"))
    parser.add_argument("--windows", type=int, default=3, help="timed windows per loop (≥ 3)")
    parser.add_argument(
        "--quick", action="store_true", help="short windows: a smoke test, not a measurement"
    )
    parser.add_argument(
        "--skip-pipeline", action="store_true", help="skip the DVC rows (they take an hour)"
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
    if args.windows < 3:
        parser.error("--windows: time at least 3 windows, so that their median means something")
    try:
        check_raw_data(args.data)
        steps = QUICK_STEPS if args.quick else STEPS
        result = training_rows(args.data, steps, args.windows) | {"quick": args.quick}
    except (FileNotFoundError, params.ParamsError, KernelMismatchError) as error:
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
        result |= floor.bench_rows(result)  # now with the split: each part's share of the peak
        print(table(result))
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
