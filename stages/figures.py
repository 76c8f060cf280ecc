"""Stage figures@<setup>: the study's figures and two beyond it, for one setup's first seed,
from checkpoints and metrics only."""

import argparse
import sys
import time
from pathlib import Path

from vaelab.core import params
from vaelab.core.checkpoints import CheckpointError
from vaelab.core.io import write_json
from vaelab.core.names import Run
from vaelab.figures.inputs import FiguresError
from vaelab.figures.make import make_figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--setup", required=True, help="a key of setups in params.yaml")
    parser.add_argument("--models", type=Path, required=True, help="holds <setup>/<model>/seed_*/")
    parser.add_argument("--data", type=Path, required=True, help="root holding MNIST/raw")
    parser.add_argument("--metrics", type=Path, required=True, help="holds runs/<setup>/")
    parser.add_argument("--out", type=Path, required=True, help="folder of the PNG figures")
    parser.add_argument("--curves", type=Path, required=True, help="folder of the CSV tables")
    parser.add_argument("--numbers", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--runtime", type=Path, required=True, help="seconds JSON to write")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        figures_p, eval_p, vae_p = params.load("figures", "eval", "vae")
        setup = params.load_setup(args.setup)
        run = Run(setup.name, setup.train.seeds[0])
        numbers = make_figures(
            run,
            args.models,
            args.data,
            args.metrics,
            args.out,
            args.curves,
            figures_p,
            setup.model,
            setup.train,
            eval_p,
            vae_p,
        )
    except (params.ParamsError, CheckpointError, FiguresError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    write_json(args.numbers, numbers)
    write_json(args.runtime, {"seconds": seconds})
    for note in numbers["notes"]:
        print(f"note: {note}")
    spread = numbers["redecode_pixel_std"]
    print(
        f"{args.out}: figures in {seconds:.1f} s; redecode pixel std "
        f"VAE {spread['vae']:.4f}, AE {spread['ae']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
