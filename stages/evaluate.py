"""Stage evaluate_ae@<setup> / evaluate_vae@<setup>-<β>: every checkpoint of one model, each
seed of train.seeds, on the test set."""

import argparse
import dataclasses
import sys
from pathlib import Path

from vaelab.core import params
from vaelab.core.checkpoints import CheckpointError
from vaelab.core.io import write_json
from vaelab.core.names import epoch_key, train_target
from vaelab.evaluation.evaluate import evaluate_models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--setup", required=True, help="a key of setups in params.yaml")
    parser.add_argument("--kind", choices=("ae", "vae"), required=True)
    parser.add_argument("--beta", type=float, help="KL weight (vae only)")
    parser.add_argument("--models", type=Path, required=True, help="holds seed_<seed>/ folders")
    parser.add_argument(
        "--classifiers", type=Path, required=True, help="models root holding classifier/"
    )
    parser.add_argument("--data", type=Path, required=True, help="root holding MNIST/raw")
    parser.add_argument("--out", type=Path, required=True, help="folder of seed_<seed>.json")
    parser.add_argument("--runtime", type=Path, required=True, help="seconds and machine JSON")
    args = parser.parse_args()
    try:
        clf_p, eval_p, base_train = params.load("classifier", "eval", "train")
        setup = params.load_setup(args.setup)
        # The setup's model and checkpoints; the base thread count, since a setup's (one
        # thread for small training batches) would only slow evaluation's large ones.
        model_p = setup.model
        train_p = dataclasses.replace(setup.train, threads=base_train.threads)
        runs = setup.runs
        found, runtime = evaluate_models(
            args.kind,
            args.beta,
            [args.models / run.seed_folder for run in runs],
            [f"dvc repro {train_target(args.beta, run)}" for run in runs],
            args.classifiers,
            args.data,
            model_p,
            train_p,
            clf_p,
            eval_p,
        )
    except (params.ParamsError, CheckpointError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    # Written only once every seed is measured, so a failure leaves no partial folder.
    for run, result in zip(runs, found, strict=True):
        write_json(args.out / run.seed_file, result)
        last = result[epoch_key(train_p.epochs)]
        print(
            f"{args.out / run.seed_file}: epoch {train_p.epochs} "
            f"recon {last['recon']:.2f}, prior confidence ratio "
            f"{last['prior_confidence_ratio']:.3f}"
        )
    write_json(args.runtime, runtime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
