"""Stage report: the study's sections, our numbers and the claim checks as README.md + index.html.

Builds on partial metrics too: whatever is missing is marked "not measured" with the stage to run.
"""

import argparse
import sys
from pathlib import Path

from vaelab import labels, params
from vaelab.names import RUNTIME_REPORT
from vaelab.report.evidence import load_evidence
from vaelab.report.settings import Settings
from vaelab.report.write import write_report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", type=Path, required=True, help="the metrics/ folder")
    parser.add_argument("--figures", type=Path, required=True, help="folder of figure PNGs")
    parser.add_argument("--out", type=Path, required=True, help="folder for README.md, index.html")
    args = parser.parse_args()
    try:
        model_p, train_p, vae_p, eval_p, figures_p, explorer_p, clf_p = params.load(
            "model", "train", "vae", "eval", "figures", "explorer", "classifier"
        )
    except params.ParamsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    settings = Settings(
        model=model_p, train=train_p, eval=eval_p, figures=figures_p, explorer=explorer_p
    )
    shifted = labels.shifted_name(eval_p)
    evidence = load_evidence(args.metrics, vae_p.betas, train_p.checkpoints, shifted, clf_p.seeds)
    claims = write_report(evidence, settings, args.figures, args.out)
    for claim in claims:
        print(f"claim {claim.key:>3}: {claim.verdict}")
    print(", ".join(str(args.out / name) for name in ("README.md", RUNTIME_REPORT, "index.html")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
