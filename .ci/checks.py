"""CI's checks after `make repro`: the byte-stable outputs equal the committed ones, nothing is
stale, a second repro is a no-op, every figure and the report exist, and the invariants hold
(IWAE ≤ −ELBO, every classifier's accuracy ≥ 98 %).

Run as `.venv/bin/python .ci/checks.py` from the repository root (`.ci/run` does).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from vaelab.core import params
from vaelab.core.io import read_json
from vaelab.core.names import (
    CLASSIFIER_TARGET,
    EXPLORER_PAGE,
    EXPLORER_SUMMARY,
    RUNTIME_REPORT,
    classifier_summary_path,
    epoch_key,
    eval_path,
    expected_figures,
)

MIN_CLASSIFIER_ACCURACY = 0.98
# Outputs every x86-64 machine with AVX2 must reproduce byte for byte (docs/bit-stability.md):
# by prefix, and every model's held-out metrics (metrics/runs/<setup>/eval/<model>/).
BYTE_STABLE = (
    "models/",
    "report/README.md",
    "report/index.html",
    "report/explorer.html",
    "metrics/explorer.json",
    "metrics/claims.json",
)


def _byte_stable(path: str) -> bool:
    return path.startswith(BYTE_STABLE) or (path.startswith("metrics/runs/") and "/eval/" in path)


MAX_EXPLORER_BYTES = 3_000_000  # issue 12: the page with the default params
# IWAE ≤ −ELBO up to float32 rounding: for a collapsed VAE (q = p(z), decoder ignoring z) the
# two estimates are equal in exact arithmetic, and ~500-nat float32 sums differ by a few ulps.
IWAE_ROUNDING = 1e-6  # relative


def _run(*command: str) -> str:
    """A command's stdout; its failure ends the checks with what it printed."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _out_hashes(lock: dict) -> dict[str, str]:
    return {
        out["path"]: out["md5"]
        for stage in lock["stages"].values()
        for out in stage.get("outs", [])
        if _byte_stable(out["path"])
    }


def _likely_cause() -> str:
    """What the first classifier's stage recorded about its kernels (runtime/)."""
    first = params.load("classifier").seeds[0]
    ran = read_json(Path("runtime", f"{CLASSIFIER_TARGET}@{first}.json"))["environment"]
    capability = ran["kernels"]["aten_capability"]
    if capability != "AVX2":
        return (
            f"ATen ran {capability} kernels, not AVX2, although dvc.yaml pins "
            "ATEN_CPU_CAPABILITY=avx2: this CPU probably lacks AVX2"
        )
    return (
        "the stages ran AVX2 kernels, so look for another library or thread count: "
        f"this run had torch {ran['torch']}, {ran['threads']} threads, kernels {ran['kernels']}"
    )


def differing_outputs() -> list[str]:
    """Outputs whose bytes differ from the committed dvc.lock after a fresh `dvc repro`."""
    committed = _out_hashes(yaml.safe_load(_run("git", "show", "HEAD:dvc.lock")))
    ours = _out_hashes(yaml.safe_load(Path("dvc.lock").read_text()))
    differ = sorted(path for path in committed if ours.get(path) != committed[path])
    if not differ:
        return []
    return [
        f"not byte-identical to the committed dvc.lock: {', '.join(differ)}; {_likely_cause()}"
    ]


def clean_reproduction() -> list[str]:
    """A reproduction of the committed commit changes nothing git tracks, and DVC's metrics
    views see no change (timings and machine facts live in the untracked runtime/)."""
    found = []
    changed = _run("git", "status", "--porcelain")
    if changed.strip():
        found.append(f"make repro changed files git tracks:\n{changed}")
    metrics = _run("dvc", "metrics", "diff")
    if metrics.strip():
        found.append(f"dvc metrics diff is not empty after make repro:\n{metrics}")
    return found


def problems() -> list[str]:
    found = clean_reproduction()
    status = _run("dvc", "status")
    if "up to date" not in status:
        found.append(f"dvc status is not clean:\n{status}")
    second = _run("dvc", "repro")
    if "Running stage" in second:
        found.append(f"a second dvc repro ran stages:\n{second}")
    found += differing_outputs()
    setups, vae_p, clf_p = params.load("setups", "vae", "classifier")
    found += [
        f"missing figure plots/figures/{setup.name}/{name}"
        for setup in setups.values()
        for name in expected_figures(
            setup.train.checkpoints, setup.model.latent_dim, setup.model.latent
        )
        if not Path("plots/figures", setup.name, name).is_file()
    ]
    found += [
        f"missing report/{name}"
        for name in ("README.md", RUNTIME_REPORT, "index.html", EXPLORER_PAGE)
        if not Path("report", name).is_file()
    ]
    page_bytes = read_json(Path("metrics", EXPLORER_SUMMARY))["page_bytes"]
    if page_bytes > MAX_EXPLORER_BYTES:
        found.append(f"report/{EXPLORER_PAGE} is {page_bytes} bytes > {MAX_EXPLORER_BYTES}")
    for seed in clf_p.seeds:
        accuracy = read_json(classifier_summary_path(Path("metrics"), seed))["test_accuracy"]
        if accuracy < MIN_CLASSIFIER_ACCURACY:
            found.append(
                f"classifier seed {seed}: accuracy {accuracy:.4f} < {MIN_CLASSIFIER_ACCURACY}"
            )
    runs = [run for s in setups.values() for run in s.runs]
    for run in runs:
        for beta in vae_p.betas:
            result = read_json(eval_path(Path("metrics"), run, beta))
            for epoch in setups[run.setup].train.checkpoints:
                row = result[epoch_key(epoch)]
                slack = IWAE_ROUNDING * abs(row["neg_elbo_nats"])
                if not row["iwae_nats"] <= row["neg_elbo_nats"] + slack:
                    found.append(
                        f"{run.label()}, β={beta} epoch {epoch}: IWAE {row['iwae_nats']:.3f} > "
                        f"−ELBO {row['neg_elbo_nats']:.3f}"
                    )
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"ci check failed: {problem}", file=sys.stderr)
    if not found:
        print(
            "ci checks: git status clean and dvc metrics diff empty after make repro; "
            "models/, every run's eval metrics, the claims, report/README.md, index.html "
            "and the explorer page byte-identical to the committed dvc.lock, dvc status "
            "clean, second repro a "
            "no-op, figures and report present, explorer page ≤ 3 MB, IWAE ≤ −ELBO "
            "everywhere, every classifier's accuracy ≥ 98 %"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
