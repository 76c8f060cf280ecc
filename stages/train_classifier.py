"""Stage train_classifier@<seed>: one digit classifier of the ensemble whose confidence is the
study's baseline."""

import argparse
import sys
from pathlib import Path

from vaelab.core import params
from vaelab.core.io import write_json
from vaelab.core.runtime import DeviceError
from vaelab.data.mnist import DataMissingError
from vaelab.training.runs import train_classifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, required=True, help="one of classifier.seeds")
    parser.add_argument("--data", type=Path, required=True, help="root holding MNIST/raw")
    parser.add_argument("--model", type=Path, required=True, help="checkpoint to write")
    parser.add_argument("--live", type=Path, required=True, help="dvclive directory")
    parser.add_argument("--metrics", type=Path, required=True, help="summary JSON to write")
    parser.add_argument("--runtime", type=Path, required=True, help="speed and machine JSON")
    args = parser.parse_args()
    try:
        clf_p, train_p = params.load("classifier", "train")
        summary, runtime = train_classifier(
            clf_p, args.seed, train_p, args.data, args.model, args.live
        )
    except (params.ParamsError, DeviceError, DataMissingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_json(args.metrics, summary)
    write_json(args.runtime, runtime)
    print(
        f"classifier (seed {args.seed}): test accuracy {summary['test_accuracy']:.4f}, "
        f"baseline confidence {summary['baseline_confidence']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
