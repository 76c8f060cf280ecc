"""Stage report: the study's sections, our numbers and the claim checks as README.md + index.html.

Builds on partial metrics too: whatever is missing is marked "not measured" with the stage to run.
"""

import argparse
import sys
from pathlib import Path

from vaelab.core import params
from vaelab.core.names import RUNTIME_REPORT
from vaelab.report.write import collect, write_report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", type=Path, required=True, help="the metrics/ folder")
    parser.add_argument("--figures", type=Path, required=True, help="folder of figure PNGs")
    parser.add_argument("--out", type=Path, required=True, help="folder for README.md, index.html")
    parser.add_argument("--claims", type=Path, required=True, help="every claim's details (JSON)")
    parser.add_argument("--summary", type=Path, required=True, help="the DVC metrics (JSON)")
    parser.add_argument("--runtime", type=Path, required=True, help="the stages' runtime records")
    args = parser.parse_args()
    try:
        setups, vae_p, eval_p, figures_p, explorer_p, clf_p = params.load(
            "setups", "vae", "eval", "figures", "explorer", "classifier"
        )
    except params.ParamsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    found = collect(
        args.metrics, args.figures, setups, vae_p, eval_p, figures_p, explorer_p, clf_p.seeds
    )
    claims = write_report(found, args.out, args.claims, args.summary, args.runtime)
    for setup, verdicts in claims.items():
        print(f"{setup}: " + ", ".join(f"{c.key} {c.verdict}" for c in verdicts))
    print(", ".join(str(args.out / name) for name in ("README.md", RUNTIME_REPORT, "index.html")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
