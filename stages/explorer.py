"""Stage explorer: report/explorer.html, the latent plane with the decoders inlined, offline.

Offers the models of `explorer.setup`'s first seed: `explorer.betas` (and the AE if
`explorer.autoencoder`) at each of `explorer.checkpoints`; writes the page's size and its
decode error against PyTorch to a summary.
"""

import argparse
import sys
from pathlib import Path

from vaelab.core import params
from vaelab.core.checkpoints import (
    CheckpointError,
    checkpoint_path,
    load_autoencoder,
    load_classifier,
)
from vaelab.core.io import write_json, write_text
from vaelab.core.names import Run, model_dir
from vaelab.data.mnist import load_mnist
from vaelab.explorer.page import ExplorerError, offered, payload, render


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--models", type=Path, required=True, help="holds <setup>/<model>/seed_*/ and classifier/"
    )
    parser.add_argument("--data", type=Path, required=True, help="root holding MNIST/raw")
    parser.add_argument("--out", type=Path, required=True, help="the HTML page to write")
    parser.add_argument("--summary", type=Path, required=True, help="metrics JSON to write")
    args = parser.parse_args()
    try:
        explorer_p, clf_p, eval_p = params.load("explorer", "classifier", "eval")
        setup = params.load_setup(explorer_p.setup)
        model_p, run = setup.model, Run(setup.name, setup.train.seeds[0])
        models = []
        for beta in [*([None] if explorer_p.autoencoder else []), *explorer_p.betas]:
            for epoch in explorer_p.checkpoints:
                path = checkpoint_path(model_dir(args.models, run, beta), epoch)
                models.append(offered(beta, epoch, load_autoencoder(path, beta, model_p)))
        seed = clf_p.seeds[0]  # the page shows one classifier: the ensemble's first
        classifier = load_classifier(args.models, seed)
        test = load_mnist(args.data)[1]
        data = payload(
            models, test.flat_float(), test.labels, classifier, seed, explorer_p, eval_p, model_p
        )
    except (params.ParamsError, CheckpointError, ExplorerError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    page = render(data)
    write_text(args.out, page)
    summary = {
        "setup": run.setup,
        "seed": run.seed,
        "page_bytes": len(page.encode("utf-8")),
        "models": len(models),
        "weights": "int16 fixed point, one float32 scale per row",
        "max_decode_error_255": {m["name"]: m["decodeError"] for m in data["models"]},
    }
    write_json(args.summary, summary)
    print(f"{args.out}: {summary['page_bytes'] / 1e6:.2f} MB, {len(models)} models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
