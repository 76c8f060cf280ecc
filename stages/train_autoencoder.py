"""Stage train_ae@<setup>-<seed> / train_vae@<setup>-<β>-<seed>: the autoencoder or one β-VAE
of one setup, trained with one seed, with epoch checkpoints."""

import argparse
import sys
from pathlib import Path

from vaelab.core import params
from vaelab.core.io import write_json
from vaelab.core.runtime import DeviceError
from vaelab.data.mnist import DataMissingError
from vaelab.training.runs import train_autoencoder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--setup", required=True, help="a key of setups in params.yaml")
    parser.add_argument("--seed", type=int, required=True, help="one of train.seeds")
    parser.add_argument("--kind", choices=("ae", "vae"), required=True)
    parser.add_argument("--beta", type=float, help="KL weight (vae only)")
    parser.add_argument("--data", type=Path, required=True, help="root holding MNIST/raw")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint directory")
    parser.add_argument("--live", type=Path, required=True, help="dvclive directory")
    parser.add_argument("--runtime", type=Path, required=True, help="speed and machine JSON")
    args = parser.parse_args()
    if (args.kind == "vae") != (args.beta is not None):
        parser.error("--beta is required for --kind vae and not allowed for --kind ae")
    if args.beta is not None and args.beta < 0:
        parser.error(f"--beta {args.beta}: β must be ≥ 0")
    try:
        setup = params.load_setup(args.setup)
        runtime = train_autoencoder(
            args.kind, args.beta, setup, args.seed, args.data, args.out, args.live
        )
    except (params.ParamsError, DeviceError, DataMissingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_json(args.runtime, runtime)
    print(
        f"{args.kind}: {runtime['images_per_s']:.0f} img/s over "
        f"{runtime['train_seconds']:.1f} s of training steps"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
