"""What the pipeline costs as DVC runs it, measured in a throwaway clone of this repository.

A clone (HEAD, empty DVC cache, the same venv) runs the full pipeline as `make repro` runs it
(`vaelab.repro`: each setup's training stages stepped together, one-thread setups in one
process per core), whose wall time `vaelab.bench.split` splits into its parts; then a no-op
`dvc repro` and `make repro`, the addition of one β, and a 4-point β training sweep through
`dvc queue` with one and with two workers. `measure_increments` times the no-ops and the β
alone, in minutes."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vaelab.bench.split import RUNNING_STAGE, split, stage_walls
from vaelab.core import params
from vaelab.core.names import Run, eval_target, train_target
from vaelab.report.runtime_page import read_records
from vaelab.repro import training_batches

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

    def run_logged(self, *args: str) -> tuple[Done, list[tuple[float, str]]]:
        """`run`, keeping each line of output (stderr too) with its seconds since the start.
        Python children write unbuffered, so a line's time is when it was written."""
        env = {**self.env, "PYTHONUNBUFFERED": "1"}
        start = time.perf_counter()
        with subprocess.Popen(
            args,
            cwd=self.path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            lines = [(time.perf_counter() - start, line.rstrip("\n")) for line in process.stdout]
        seconds = time.perf_counter() - start
        if process.returncode != 0:
            tail = "\n".join(line for _, line in lines[-40:])
            raise RuntimeError(f"{' '.join(args)} failed:\n{tail}")
        stages = tuple(m.group(2) for _, line in lines if (m := RUNNING_STAGE.match(line)))
        return Done(seconds, stages), lines

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
        setups = params.load("setups", path=path)
        runs = tuple(run for setup in setups.values() for run in setup.runs)
        return cls(runs, raw["vae"]["betas"], raw["classifier"]["seeds"])


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
    setups = dict.fromkeys(run.setup for run in study.runs)
    own = clone.run("dvc", "repro", *(eval_target(float(new_beta), setup) for setup in setups))
    rest = clone.run("dvc", "repro")
    clone.run("git", "checkout", "-q", "--", ".")
    return {
        "add_beta_stages": [*own.stages, *rest.stages],
        "add_beta_seconds": own.seconds + rest.seconds,
        "one_model_seconds": own.seconds,
        "add_beta_ratio": (own.seconds + rest.seconds) / own.seconds,
    }


NOOP_REPEATS = 3  # a no-op takes seconds; the median of three steadies it


def noop(clone: Clone) -> dict[str, Any]:
    """Seconds of `dvc repro` and of `make repro` (python -m vaelab.repro) with nothing to
    run, each the median of NOOP_REPEATS; a stage that runs is an error."""
    found: dict[str, Any] = {}
    for key, command in (
        ("noop_repro_seconds", ("dvc", "repro")),
        ("noop_make_repro_seconds", (sys.executable, "-m", "vaelab.repro")),
    ):
        runs = [clone.run(*command) for _ in range(NOOP_REPEATS)]
        if ran := {stage for done in runs for stage in done.stages}:
            raise RuntimeError(f"{' '.join(command)} is not a no-op: it ran {sorted(ran)}")
        found[key] = statistics.median(done.seconds for done in runs)
    found["noop_stages"] = len(yaml.safe_load((clone.path / "dvc.lock").read_text())["stages"])
    return found


def measure_increments(repo: Path) -> dict[str, Any]:
    """The no-op and add-β rows alone, in a clone of HEAD that borrows this workspace's DVC
    cache (so its outputs check out instead of being made): needs `make repro` first.
    Minutes, not the hour of `measure`."""
    with tempfile.TemporaryDirectory(prefix="vaelab-bench-") as folder:
        clone = Clone(repo, Path(folder))
        clone.output("dvc", "cache", "dir", "--local", str(repo / ".dvc" / "cache"))
        clone.output("dvc", "checkout")
        if clone.output("dvc", "status", "--json").strip() not in ("", "{}"):
            raise RuntimeError(f"HEAD is not up to date in {repo}; run make repro first")
        return noop(clone) | add_beta(clone, Study.read(clone.path / "params.yaml"))


def measure(repo: Path, sweep_workers: tuple[int, int] = (1, 2)) -> dict[str, Any]:
    """Every pipeline row of the benchmark; an hour, since it runs the whole study, then the
    sweeps. The full run's wall time is split by `vaelab.bench.split`."""
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="vaelab-bench-") as folder:
        clone = Clone(repo, Path(folder))
        study = Study.read(clone.path / "params.yaml")
        full, log = clone.run_logged(sys.executable, "-m", "vaelab.repro", "--cores", str(cores))
        parts = split(
            full.seconds,
            read_records(clone.path / "runtime"),
            stage_walls(log, full.seconds),
            training_batches(cores, clone.path / "params.yaml"),
        )
        idle = noop(clone)
        clone.run("git", *GIT_USER, "commit", "-qam", "bench: the full run")

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
        **parts,
        **idle,
        **added,
        f"sweep_4_j{one}_seconds": sweeps[one],
        f"sweep_4_j{two}_seconds": sweeps[two],
        "sweep_speedup": sweeps[one] / sweeps[two],
        "peak_rss_mb": peak_rss_mb,
    }
