"""The study network (setup `study`: batch 16, one thread per process) over the whole
machine: machine rates against machine rates.

Every row starts N = cores // threads worker processes together (`vaelab.bench.study_worker`,
under the pinned kernels), releases their timed windows at once, and sums their median
images/s. The rows:
- `plain`, `plain_ftz`, `plain_ftz_fused`: the plain eager loop (autograd,
  `torch.optim.Adam`), one model per process; then the same with subnormals flushed to zero;
  then also with Adam's fused kernel: each effect its own row;
- `today`: one model per process in a K = 1 `StackedStep`, as a plain `dvc repro` stage
  trains;
- `new`: the training stages of `make repro` (the AE and every β of `vae.betas`, × seeds),
  dealt to the processes as `vaelab.repro` deals them; each process steps its VAEs together
  in one `StackedStep` (the AE group costs the same per model).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vaelab.bench.loops import PLAIN_VARIANTS
from vaelab.bench.pinned import check_kernels, pinned_environment
from vaelab.bench.study_worker import GO, READY, STACKED
from vaelab.core import params
from vaelab.core.names import train_target
from vaelab.repro import steps_of, training_batches

SETUP = "study"
BETA = 1.0  # the plain and today rows' VAE; a step's cost does not depend on β
PATHS = (*PLAIN_VARIANTS, "today", "new")


def new_shares(cores: int) -> list[list[tuple[float, int]]]:
    """The VAEs ([β, seed] each) that each process `make repro` starts for the study setup
    steps at once: its first group (`vaelab.repro.steps_of`)."""
    (batch,) = [b for b in training_batches(cores) if b.setup == SETUP]
    runs, betas = params.load_setup(SETUP).runs, params.load("vae").betas
    runs = {train_target(beta, run): (beta, run.seed) for run in runs for beta in (None, *betas)}
    vaes = [[runs[t] for t in share if runs[t][0] is not None] for share in batch.shares()]
    return [steps_of(share)[0] for share in vaes]


def processes(cores: int) -> int:
    """N: as many single-thread processes as `make repro` starts (cores // threads)."""
    (batch,) = [b for b in training_batches(cores) if b.setup == SETUP]
    return batch.slots


def specs(path: str, cores: int, data_root: Path, steps: int, windows: int) -> list[dict]:
    """One spec per worker of the row `path`."""
    base = {
        "setup": SETUP,
        "data": str(data_root),
        "steps": steps,
        "windows": windows,
        "warmup": 1,
    }
    if path == "new":
        return [{**base, "path": STACKED, "models": share} for share in new_shares(cores)]
    seeds = params.load_setup(SETUP).train.seeds
    n = processes(cores)
    one = [[[BETA, seeds[i % len(seeds)]]] for i in range(n)]
    if path == "today":
        return [{**base, "path": STACKED, "models": models} for models in one]
    return [{**base, "path": path, "models": models} for models in one]


def run_together(specs_: Sequence[dict], env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Start every worker, wait until each is ready, release them at once; their results."""
    command = [sys.executable, "-m", "vaelab.bench.study_worker"]
    workers = [
        subprocess.Popen(
            [*command, json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(env),
        )
        for spec in specs_
    ]
    try:
        for worker in workers:
            if worker.stdout.readline().strip() != READY:
                raise RuntimeError("a bench worker failed before its windows; see its error above")
        for worker in workers:
            worker.stdin.write(f"{GO}\n")
            worker.stdin.flush()
        outputs = [worker.communicate()[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    if any(worker.returncode for worker in workers):
        raise RuntimeError("a bench worker failed; see its error above")
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def overlap(found: Sequence[dict[str, Any]]) -> float:
    """How much of the workers' runs overlapped: 1.0 when they ran exactly together."""
    starts, ends = zip(*(f["span"] for f in found), strict=True)
    return max(0.0, min(ends) - max(starts)) / (max(ends) - min(starts))


def measure(
    data_root: Path,
    pinned: Mapping[str, str],
    cores: int,
    steps: int,
    windows: int = 3,
    paths: Sequence[str] = PATHS,
) -> dict[str, Any]:
    """Each path's images/s over the machine, per worker, and the ratios between paths."""
    env = pinned_environment(os.environ, pinned)
    result: dict[str, Any] = {"study_processes": processes(cores), "study_steps": steps}
    for path in paths:
        found = run_together(specs(path, cores, data_root, steps, windows), env)
        for f in found:
            check_kernels(f["kernels"], pinned, f"a study worker ({path})")
        result[f"study_{path}_images_per_s"] = sum(f["images_per_s"] for f in found)
        result[f"study_{path}_workers"] = [
            {k: f[k] for k in ("images_per_s", "per_window", "models", "first_loss")}
            for f in found
        ]
        result[f"study_{path}_overlap"] = overlap(found)
    return result | ratios(result)


def ratios(result: Mapping[str, Any]) -> dict[str, float]:
    """new / today, new / each plain row, today / plain: machine rate over machine rate."""
    rate = {p: result.get(f"study_{p}_images_per_s") for p in PATHS}
    pairs = [("new", "today"), ("today", "plain")] + [("new", p) for p in PLAIN_VARIANTS]
    return {
        f"study_{a}_vs_{b}": rate[a] / rate[b]
        for a, b in pairs
        if rate[a] is not None and rate[b] is not None
    }
