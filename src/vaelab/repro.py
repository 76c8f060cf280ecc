"""`make repro`: `dvc repro`, with each setup's stale training stages trained many at a time.

DVC runs one stage at a time, and one training stage trains one model. At the study's batch
of 16 a model's step is mostly per-op overhead, so `make repro` trains a setup's stale
training stages together: `stages/train_autoencoder.py --together` steps many models at once
(`vaelab.training.stacked_step`), in one process per `cores // train.threads` (one for a GPU).
A model's bytes do not depend on which models share its step, so each stage's outputs are
those its own command makes alone; `dvc commit` then records them in dvc.lock, DVC's cache and
its run cache, as `dvc repro` would have. Stages whose outputs DVC's caches hold are restored
from them first, as `dvc repro` would. A final `dvc repro` does the rest. When `dvc status`
calls nothing stale there is nothing to run, so a no-op costs one `dvc status`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vaelab.core import params
from vaelab.core.names import DOWNLOAD_TARGET, train_target

TRAIN_SCRIPT = "stages/train_autoencoder.py"  # what every training stage's command runs
# Models one process steps at once. More share the per-op overhead better, but each
# study-network model brings 1.7 MB of weights, gradients and Adam moments that every step
# reads and writes, and past ~6 per process two processes spill the cache they share
# (docs/speed.md). It changes speed, never bytes, so it lives here rather than in
# params.yaml or the stages' dependencies.
MODELS_IN_STEP = 6


@dataclass(frozen=True)
class Batch:
    """One setup's training stages, trained together in `slots` processes at a time."""

    setup: str
    threads: int
    slots: int  # cores // threads on a CPU; one process for a GPU
    targets: tuple[str, ...]

    @property
    def width(self) -> int:
        """Processes to start: no more than there are stages."""
        return min(self.slots, len(self.targets))

    def restricted_to(self, targets: Collection[str]) -> Batch:
        kept = tuple(t for t in self.targets if t in targets)
        return Batch(self.setup, self.threads, self.slots, kept)

    def shares(self) -> list[list[str]]:
        """The targets dealt round-robin to `width` processes: equal work, as the models of a
        setup train for the same steps."""
        return [list(self.targets[i :: self.width]) for i in range(self.width)]


def training_batches(cores: int, path: Path | str = params.DEFAULT_PATH) -> list[Batch]:
    """One batch per setup: every training stage of it (the AE and each β, every seed)."""
    setups, vae = params.load("setups", "vae", path=path)
    batches = []
    for setup in setups.values():
        slots = max(1, cores // setup.train.threads) if setup.train.device == "cpu" else 1
        targets = [train_target(beta, run) for run in setup.runs for beta in (None, *vae.betas)]
        batches.append(Batch(setup.name, setup.train.threads, slots, tuple(targets)))
    return batches


def stale_stages(cwd: Path) -> set[str]:
    """The stages that are not up to date (changed or missing deps or outs), per DVC. One
    `dvc status` of the whole pipeline: naming the targets makes DVC collect each apart."""
    done = subprocess.run(["dvc", "status", "--json"], cwd=cwd, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:  # DVC has said why on stderr
        raise subprocess.CalledProcessError(done.returncode, done.args)
    return set(json.loads(done.stdout or "{}"))


def commands_to_run(cwd: Path, targets: Iterable[str]) -> dict[str, list[str]]:
    """Each target's command as DVC resolves it from dvc.yaml, for the targets whose outputs
    DVC's cache cannot restore. The others it restores now, as `dvc repro` would (the final
    `dvc repro` then only records them in dvc.lock)."""
    from dvc.repo import Repo
    from dvc.stage.cache import RunCacheNotFoundError

    commands = {}
    with Repo(str(cwd)) as repo, repo.lock:  # a restore writes the workspace
        for target in targets:
            (stage,) = repo.stage.collect(target)
            try:  # what `dvc repro` tries before it runs a stage's command
                repo.stage_cache.restore(stage)
            except RunCacheNotFoundError:
                commands[target] = shlex.split(stage.cmd)
    return commands


def steps_of(items: Sequence, most: int = MODELS_IN_STEP) -> list[list]:
    """`items` cut into the fewest groups of at most `most`, as even as can be (7 → 4 + 3,
    not 6 + 1: a lone model steps at a fraction of a group's rate)."""
    count = -(-len(items) // most)
    return [list(items[i::count]) for i in range(count)]


def together_command(commands: Sequence[list[str]], job_file: Path) -> list[str]:
    """One process that trains the stages of `commands` together: their common prefix (the
    pinned kernel variables and the script) with `--together`, and in `job_file` their
    arguments, in the groups that step at once (`steps_of`)."""
    prefixes, arguments = set(), []
    for command in commands:
        at = command.index(TRAIN_SCRIPT) + 1
        prefixes.add(tuple(command[:at]))
        arguments.append(command[at:])
    if len(prefixes) != 1:
        raise ValueError(
            f"training stages with different commands cannot share a process: {prefixes}"
        )
    job_file.write_text(json.dumps({"steps": steps_of(arguments)}))
    return [*prefixes.pop(), "--together", str(job_file)]


UP_TO_DATE = "Data and pipelines are up to date."  # DVC's words when there is nothing to run


class WorkerFailed(RuntimeError):
    pass


def worker_tag(index: int, count: int) -> str:
    """What starts each line of worker `index` (1-based) of `count`."""
    return f"[{index}/{count}] "


def _relay(stream, prefix: str) -> None:
    """A worker's output, line by line, tagged so that two workers' lines can be told apart."""
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{prefix}{line}")
        sys.stdout.flush()


def _first_failure(workers: Sequence[subprocess.Popen]) -> subprocess.Popen | None:
    """Wait until every worker has ended or one has failed; the failed one, if any."""
    while True:
        failed = next((w for w in workers if w.poll() not in (None, 0)), None)
        if failed is not None or all(w.returncode is not None for w in workers):
            return failed
        time.sleep(0.5)


def _end(workers: Sequence[subprocess.Popen], relays: Sequence[threading.Thread]) -> None:
    """SIGTERM to the process group of each worker still running; then wait for every worker
    and the last of its output."""
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.wait()
    for relay in relays:
        relay.join()


def run_side_by_side(commands: Sequence[Sequence[str]], cwd: Path) -> None:
    """Run the commands at once; if one fails, stop the others and raise.

    Each worker leads its own process group, and SIGTERM goes to the whole group: a shell's
    background job starts with SIGINT ignored. A stopped worker writes no model folder
    (each appears whole or not at all), and nothing is committed to DVC.
    """
    workers = [
        subprocess.Popen(
            command,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        for command in commands
    ]
    relays = [
        threading.Thread(target=_relay, args=(w.stdout, worker_tag(i + 1, len(workers))))
        for i, w in enumerate(workers)
    ]
    for relay in relays:
        relay.start()
    try:
        failed = _first_failure(workers)
    finally:  # also on Ctrl-C, which reaches only this process group
        _end(workers, relays)
    if failed is not None:
        raise WorkerFailed(
            f"`{shlex.join(failed.args)}` failed (exit {failed.returncode}), so the other "
            f"workers were stopped and nothing they trained was kept; fix the error above, "
            f"then run make repro again."
        )


def train_together(batch: Batch, commands: dict[str, list[str]], cwd: Path) -> None:
    """Train the batch's stages, `batch.width` processes at once, then record each in dvc.lock
    and DVC's caches (`dvc commit` saves its run cache too)."""
    shares = batch.shares()
    print(
        f"training setup {batch.setup!r}: {len(batch.targets)} stages in {len(shares)} "
        f"process(es) of {batch.threads} thread(s), each stepping its models together",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="vaelab-train-") as folder:
        jobs = []
        for i, share in enumerate(shares, 1):
            print(f"{worker_tag(i, len(shares))}stages: {' '.join(share)}", flush=True)
            job_file = Path(folder) / f"share_{i}.json"
            jobs.append(together_command([commands[t] for t in share], job_file))
        run_side_by_side(jobs, cwd)
    subprocess.run(["dvc", "commit", "--force", *batch.targets], cwd=cwd, check=True)


def reproduce(cwd: Path, cores: int) -> None:
    """The whole pipeline: each setup's stale training stages together, then `dvc repro`."""
    batches = training_batches(cores, cwd / params.DEFAULT_PATH)
    stale = stale_stages(cwd)
    if not stale:  # what `dvc repro` would find, after its own check of every stage
        print(UP_TO_DATE, flush=True)
        return
    batches = [b.restricted_to(stale) for b in batches]
    batches = [b for b in batches if len(b.targets) >= 2]  # one stage trains alone as well
    if batches:
        # The training stages' only upstream stage, which their commands need.
        subprocess.run(["dvc", "repro", DOWNLOAD_TARGET], cwd=cwd, check=True)
        commands = commands_to_run(cwd, (t for b in batches for t in b.targets))
        batches = [b.restricted_to(commands) for b in batches]
    for batch in batches:
        if len(batch.targets) >= 2:
            train_together(batch, commands, cwd)
    subprocess.run(["dvc", "repro"], cwd=cwd, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--cores",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="cores to fill (default: those this process may use)",
    )
    args = parser.parse_args(argv)
    try:
        reproduce(Path.cwd(), args.cores)
    except (params.ParamsError, WorkerFailed) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        return error.returncode
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
