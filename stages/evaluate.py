"""Stage evaluate_ae@<setup>-<seed> / evaluate_vae@<setup>-<β>-<seed>: every checkpoint of one
model on the test set."""

import argparse
import dataclasses
import sys
from pathlib import Path

from vaelab.core import params
from vaelab.core.checkpoints import CheckpointError
from vaelab.core.io import write_json
from vaelab.core.names import epoch_key
from vaelab.evaluation.evaluate import evaluate_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--setup", required=True, help="a key of setups in params.yaml")
    parser.add_argument("--kind", choices=("ae", "vae"), required=True)
    parser.add_argument("--beta", type=float, help="KL weight (vae only)")
    parser.add_argument("--models", type=Path, required=True, help="checkpoint directory")
    parser.add_argument(
        "--classifiers", type=Path, required=True, help="models root holding classifier/"
    )
    parser.add_argument("--data", type=Path, required=True, help="root holding MNIST/raw")
    parser.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--runtime", type=Path, required=True, help="seconds and machine JSON")
    args = parser.parse_args()
    try:
        clf_p, eval_p, base_train = params.load("classifier", "eval", "train")
        setup = params.load_setup(args.setup)
        # The setup's model and checkpoints; the base thread count, since a setup's (one
        # thread for small training batches) would only slow evaluation's large ones.
        model_p = setup.model
        train_p = dataclasses.replace(setup.train, threads=base_train.threads)
        result, runtime = evaluate_model(
            args.kind,
            args.beta,
            args.models,
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
    write_json(args.out, result)
    write_json(args.runtime, runtime)
    last = result[epoch_key(train_p.epochs)]
    print(
        f"{args.out}: epoch {train_p.epochs} recon {last['recon']:.2f}, "
        f"prior confidence ratio {last['prior_confidence_ratio']:.3f} "
        f"({runtime['seconds']:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
