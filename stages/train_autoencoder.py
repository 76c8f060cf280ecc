"""Stage train_ae@<setup>-<seed> / train_vae@<setup>-<β>-<seed>: the autoencoder or one β-VAE
of one setup, trained with one seed, with epoch checkpoints.

`--together FILE` trains several such stages in this one process, stacked (`make repro` does
this: src/vaelab/repro.py): FILE holds JSON {"steps": [[argument lists, each as its dvc.yaml
command gives it], …]}, each inner list the stages that step at once. Each model's bytes are
those it gets alone.
"""

import argparse
import json
import sys
from pathlib import Path

from vaelab.core import params
from vaelab.core.io import write_json
from vaelab.core.runtime import DeviceError
from vaelab.data.mnist import DataMissingError
from vaelab.training.runs import AutoencoderRun, train_autoencoders


def stage_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--setup", required=True, help="a key of setups in params.yaml")
    parser.add_argument("--seed", type=int, required=True, help="one of train.seeds")
    parser.add_argument("--kind", choices=("ae", "vae"), required=True)
    parser.add_argument("--beta", type=float, help="KL weight (vae only)")
    parser.add_argument("--data", type=Path, required=True, help="root holding MNIST/raw")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint directory")
    parser.add_argument("--live", type=Path, required=True, help="dvclive directory")
    parser.add_argument("--runtime", type=Path, required=True, help="speed and machine JSON")
    return parser


def parse_stage(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if (args.kind == "vae") != (args.beta is not None):
        parser.error("--beta is required for --kind vae and not allowed for --kind ae")
    if args.beta is not None and args.beta < 0:
        parser.error(f"--beta {args.beta}: β must be ≥ 0")
    return args


def steps_to_train(argv: list[str]) -> list[list[argparse.Namespace]]:
    """One stage's arguments, or with `--together FILE` the groups of stages FILE lists."""
    if argv[:1] != ["--together"]:
        return [[parse_stage(stage_parser(), argv)]]
    if len(argv) != 2:
        sys.exit("usage: train_autoencoder.py --together FILE (see --help)")
    steps = json.loads(Path(argv[1]).read_text())["steps"]
    parser = stage_parser()
    groups = [[parse_stage(parser, list(a)) for a in step] for step in steps]
    every = [s for group in groups for s in group]
    if not all(groups) or len({(s.setup, s.data) for s in every}) != 1:
        sys.exit(f"{argv[1]}: stages trained together need one setup and data folder")
    return groups


def main() -> int:
    groups = steps_to_train(sys.argv[1:])
    first = groups[0][0]
    try:
        setup = params.load_setup(first.setup)
        steps = [[AutoencoderRun(s.beta, s.seed, s.out, s.live) for s in g] for g in groups]
        trained = train_autoencoders(steps, setup, first.data)
        for group, runtimes in zip(groups, trained, strict=True):
            for stage, runtime in zip(group, runtimes, strict=True):
                write_json(stage.runtime, runtime)
            print(
                f"{len(group)} model(s) at {runtime['images_per_s']:.0f} img/s in all, "
                f"over {runtime['train_seconds'] * len(group):.1f} s of training steps"
            )
    except (params.ParamsError, DeviceError, DataMissingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
