"""What the pipeline costs as DVC runs it, measured in a throwaway clone of this repository.

A clone (HEAD, empty DVC cache, the same venv) runs the full pipeline as `make repro` runs it
(`vaelab.repro`: one-thread training stages side by side), a no-op `dvc repro`, the addition
of one β, and a 4-point β training sweep through `dvc queue` with one and with two workers.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vaelab.core.io import read_json
from vaelab.core.names import (
    TRAIN_SUMMARY,
    Run,
    classifier_name,
    eval_target,
    figures_numbers_path,
    model_name,
    runtime_path,
    train_dir,
    train_target,
)
from vaelab.repro import RUNNING_STAGE

GIT_USER = ["-c", "user.name=vaelab-bench", "-c", "user.email=bench@localhost"]


@dataclass(frozen=True)
class Done:
    seconds: float
    stages: tuple[str, ...]


class Clone:
    """A git clone of `repo` in which commands run with this venv first on PATH."""

    def __init__(self, repo: Path, folder: Path) -> None:
        self.path = folder / "vaelab"
        subprocess.run(["git", "clone", "-q", str(repo), str(self.path)], check=True)
        self.env = dict(os.environ)
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env['PATH']}"
        self.env["PYTHONPATH"] = str(self.path / "src")  # the clone's code, not the editable one

    def output(self, *args: str) -> str:
        done = subprocess.run(args, cwd=self.path, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr}")
        return done.stdout

    def run(self, *args: str) -> Done:
        """Run a command to completion; its wall time and the DVC stages it ran."""
        start = time.perf_counter()
        stdout = self.output(*args)
        stages = tuple(m.group(2) for m in RUNNING_STAGE.finditer(stdout))
        return Done(time.perf_counter() - start, stages)

    def set_params(self, **changes: Any) -> None:
        """Set dotted keys in the clone's params.yaml (comments are lost: the clone is ours)."""
        path = self.path / "params.yaml"
        raw = yaml.safe_load(path.read_text())
        for dotted, value in changes.items():
            section, key = dotted.split(".")
            raw[section][key] = value
        path.write_text(yaml.safe_dump(raw, sort_keys=False))


@dataclass(frozen=True)
class Study:
    """What the clone's params.yaml runs: every (setup, seed) run, β and classifier."""

    runs: tuple[Run, ...]
    betas: list  # as written (5, not 5.0): stage names like train_vae@study-5-42 come from it
    classifier_seeds: list[int]

    @classmethod
    def read(cls, path: Path) -> Study:
        raw = yaml.safe_load(path.read_text())
        seeds = raw["train"]["seeds"]
        runs = tuple(Run(setup, seed) for setup in raw["setups"] for seed in seeds)
        return cls(runs, raw["vae"]["betas"], raw["classifier"]["seeds"])


def _training_seconds(metrics: Path, study: Study) -> float:
    """Seconds spent in training steps (dvclive summaries) of every model of the study."""
    paths = [train_dir(metrics, classifier_name(s)) for s in study.classifier_seeds]
    paths += [
        train_dir(run.metrics(metrics), model_name(b))
        for run in study.runs
        for b in [None, *study.betas]
    ]
    return sum(read_json(path / TRAIN_SUMMARY)["train_seconds"] for path in paths)


def _evaluate_seconds(metrics: Path, study: Study) -> float:
    return sum(
        read_json(runtime_path(run.metrics(metrics), b))["seconds"]
        for run in study.runs
        for b in [None, *study.betas]
    )


def _sweep(clone: Clone, study: Study, new_betas: list[float], workers: int) -> float:
    """Wall seconds for `dvc queue` to train one new β per experiment with `workers` workers.

    Each worker gets cores // workers torch threads so the workers do not oversubscribe. The
    thread count is a dependency of every stage that reads it, so each experiment targets only
    its first run's `train_vae@<setup>-β-<seed>` (upstream of it is `download` alone): the
    sweep times the training, not a retraining of the other models at another thread count.
    """
    threads = max(1, len(os.sched_getaffinity(0)) // workers)
    for beta in new_betas:
        clone.run(
            "dvc", "exp", "run", "--queue",
            "-S", f"vae.betas={[*study.betas, beta]}", "-S", f"train.threads={threads}",
            train_target(float(beta), study.runs[0]),
        )  # fmt: skip
    start = time.perf_counter()
    clone.run("dvc", "queue", "start", "-j", str(workers))
    while True:
        time.sleep(2)
        listing = clone.output("dvc", "queue", "status")
        if not any(word in listing for word in ("Queued", "Running")):
            break
    seconds = time.perf_counter() - start
    if "Failed" in listing:
        raise RuntimeError(f"a sweep experiment failed; see `dvc queue logs`:\n{listing}")
    clone.run("dvc", "queue", "stop")
    return seconds


def add_beta(clone: Clone, study: Study, new_beta: int = 2) -> dict[str, Any]:
    """What adding one β to vae.betas costs a `dvc repro` that is up to date, against that β's
    own training and evaluation (every setup, every seed); the clone's params are restored."""
    clone.set_params(**{"vae.betas": [*study.betas, new_beta]})
    own = clone.run("dvc", "repro", *(eval_target(float(new_beta), run) for run in study.runs))
    rest = clone.run("dvc", "repro")
    clone.run("git", "checkout", "-q", "--", ".")
    return {
        "add_beta_stages": [*own.stages, *rest.stages],
        "add_beta_seconds": own.seconds + rest.seconds,
        "one_model_seconds": own.seconds,
        "add_beta_ratio": (own.seconds + rest.seconds) / own.seconds,
    }


def measure_add_beta(repo: Path) -> dict[str, Any]:
    """The add-β rows alone, in a clone of HEAD that borrows this workspace's DVC cache (so
    its outputs check out instead of being made): needs `make repro` first."""
    with tempfile.TemporaryDirectory(prefix="vaelab-bench-") as folder:
        clone = Clone(repo, Path(folder))
        clone.output("dvc", "cache", "dir", "--local", str(repo / ".dvc" / "cache"))
        clone.output("dvc", "checkout")
        noop = clone.run("dvc", "repro")
        if noop.stages:
            raise RuntimeError(f"HEAD is not up to date in {repo}; run make repro first")
        return add_beta(clone, Study.read(clone.path / "params.yaml"))


def measure(repo: Path, sweep_workers: tuple[int, int] = (1, 2)) -> dict[str, Any]:
    """Every pipeline row of the benchmark; minutes, since it runs the whole study."""
    with tempfile.TemporaryDirectory(prefix="vaelab-bench-") as folder:
        clone = Clone(repo, Path(folder))
        study = Study.read(clone.path / "params.yaml")
        full = clone.run(sys.executable, "-m", "vaelab.repro")
        metrics = clone.path / "metrics"
        training = _training_seconds(metrics, study)
        noop = clone.run("dvc", "repro")
        clone.run("git", *GIT_USER, "commit", "-qam", "bench: the full run")
        setups = {run.setup for run in study.runs}
        figures_seconds = sum(
            read_json(figures_numbers_path(metrics, setup))["seconds"] for setup in setups
        )
        evaluate_seconds = _evaluate_seconds(metrics, study)

        added = add_beta(clone, study)

        sweeps = {}
        sweep_betas = iter([3, 4, 6, 7, 8, 9, 11, 12])
        for workers in sweep_workers:
            new = [next(sweep_betas) for _ in range(4)]
            sweeps[workers] = _sweep(clone, study, new, workers)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    one, two = sweep_workers
    return {
        "full_repro_seconds": full.seconds,
        "full_repro_stages": len(full.stages),
        "training_step_seconds": training,
        "outside_training_share": 1 - training / full.seconds,
        "evaluate_seconds": evaluate_seconds,
        "figures_seconds": figures_seconds,
        "noop_repro_seconds": noop.seconds,
        "noop_repro_stages": list(noop.stages),
        **added,
        f"sweep_4_j{one}_seconds": sweeps[one],
        f"sweep_4_j{two}_seconds": sweeps[two],
        "sweep_speedup": sweeps[one] / sweeps[two],
        "peak_rss_mb": peak_rss_mb,
    }
