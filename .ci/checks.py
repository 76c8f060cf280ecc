"""CI's checks after `make repro`: nothing stale, a second repro is a no-op, every figure and
the report exist, and the invariants hold (IWAE ≤ −ELBO, classifier accuracy ≥ 98 %).

Run as `.venv/bin/python .ci/checks.py` from the repository root (`.ci/run` does).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vaelab import params
from vaelab.io import read_json
from vaelab.names import CLASSIFIER_SUMMARY, epoch_key, eval_path, expected_figures

MIN_CLASSIFIER_ACCURACY = 0.98


def _dvc(*args: str) -> str:
    done = subprocess.run(["dvc", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"dvc {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def problems() -> list[str]:
    found = []
    status = _dvc("status")
    if "up to date" not in status:
        found.append(f"dvc status is not clean:\n{status}")
    second = _dvc("repro")
    if "Running stage" in second:
        found.append(f"a second dvc repro ran stages:\n{second}")
    train_p, vae_p = params.load("train", "vae")
    found += [
        f"missing figure plots/figures/{name}"
        for name in expected_figures(train_p.checkpoints)
        if not Path("plots/figures", name).is_file()
    ]
    found += [
        f"missing report/{name}"
        for name in ("README.md", "index.html")
        if not Path("report", name).is_file()
    ]
    accuracy = read_json(Path("metrics", CLASSIFIER_SUMMARY))["test_accuracy"]
    if accuracy < MIN_CLASSIFIER_ACCURACY:
        found.append(f"classifier accuracy {accuracy:.4f} < {MIN_CLASSIFIER_ACCURACY}")
    for beta in vae_p.betas:
        result = read_json(eval_path(Path("metrics"), beta))
        for epoch in train_p.checkpoints:
            row = result[epoch_key(epoch)]
            if not row["iwae_nats"] <= row["neg_elbo_nats"]:
                found.append(
                    f"β={beta} epoch {epoch}: IWAE {row['iwae_nats']:.3f} > "
                    f"−ELBO {row['neg_elbo_nats']:.3f}"
                )
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"ci check failed: {problem}", file=sys.stderr)
    if not found:
        print(
            "ci checks: dvc status clean, second repro a no-op, figures and report present, "
            "IWAE ≤ −ELBO everywhere, classifier accuracy ≥ 98 %"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
