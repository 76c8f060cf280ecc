"""`make repro`: `dvc repro`, with each one-thread setup's training stages run side by side.

DVC runs one stage at a time. The study setup trains with one torch thread (at batch 16 a
second thread only adds hand-offs), so a plain `dvc repro` leaves the other cores idle for most
of the study's training. DVC releases its repository lock while a stage's command runs, so
separate `dvc repro --single-item` processes over disjoint stages can run at once (DVC's
"parallel stage execution"). A stage's bytes depend on its own thread count, not on what
else runs, so the outputs are those of a plain `dvc repro`; a final `dvc repro` does the rest
and is a no-op for what the workers made. Only stages `dvc status` calls stale go to workers,
and when it calls none stale there is nothing to run, so a no-op costs one `dvc status`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from vaelab.core import params
from vaelab.core.names import DOWNLOAD_TARGET, Run, train_target

# DVC waits for its repository lock instead of failing while another worker holds it.
DVC_WORKER = ("dvc", "--wait-for-lock", "repro", "--single-item")


@dataclass(frozen=True)
class Batch:
    """One CPU setup's training stages, which may run `slots` at a time."""

    setup: str
    threads: int
    slots: int  # cores // threads
    targets: tuple[str, ...]

    @property
    def width(self) -> int:
        """Workers to start: no more than there are stages."""
        return min(self.slots, len(self.targets))

    def restricted_to(self, targets: Collection[str]) -> Batch:
        kept = tuple(t for t in self.targets if t in targets)
        return Batch(self.setup, self.threads, self.slots, kept)

    def shares(self) -> list[list[str]]:
        """The targets dealt round-robin to `width` workers: equal work, as the models of a
        setup train for the same steps."""
        return [list(self.targets[i :: self.width]) for i in range(self.width)]


def parallel_batches(cores: int, path: Path | str = params.DEFAULT_PATH) -> list[Batch]:
    """One batch per CPU setup whose thread count leaves room for two or more runs at once."""
    setups, vae = params.load("setups", "vae", path=path)
    batches = []
    for setup in setups.values():
        slots = cores // setup.train.threads
        if setup.train.device != "cpu" or slots < 2:
            continue
        runs = [Run(setup.name, seed) for seed in setup.train.seeds]
        targets = [train_target(beta, run) for run in runs for beta in (None, *vae.betas)]
        batches.append(Batch(setup.name, setup.train.threads, slots, tuple(targets)))
    return batches


def stale_stages(cwd: Path) -> set[str]:
    """The stages that are not up to date (changed or missing deps or outs), per DVC. One
    `dvc status` of the whole pipeline: naming the targets makes DVC collect each apart."""
    done = subprocess.run(["dvc", "status", "--json"], cwd=cwd, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:  # DVC has said why on stderr
        raise subprocess.CalledProcessError(done.returncode, done.args)
    return set(json.loads(done.stdout or "{}"))


UP_TO_DATE = "Data and pipelines are up to date."  # DVC's words when there is nothing to run


class WorkerFailed(RuntimeError):
    pass


def worker_tag(index: int, count: int) -> str:
    """What starts each line of worker `index` (1-based) of `count`."""
    return f"[{index}/{count}] "


# DVC's line for a stage it runs, untagged or with a worker's tag (group 1) before it.
RUNNING_STAGE = re.compile(r"^(\[\d+/\d+\] )?Running stage '([^']+)'", re.M)


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

    Each worker leads its own process group, and SIGTERM goes to the whole group: DVC ignores
    SIGINT while a stage's command runs, and a shell's background job starts with SIGINT
    ignored. DVC writes nothing to dvc.lock for a stage that did not finish, and clears the
    read-write locks of processes that no longer exist.
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
        share = " ".join(failed.args[len(DVC_WORKER) :])
        raise WorkerFailed(
            f"`{' '.join(failed.args)}` failed (exit {failed.returncode}), so the other workers "
            f"were stopped. What finished is kept; fix the error above, then run make repro "
            f"again. (It was reproducing: {share})"
        )


def reproduce(cwd: Path, cores: int) -> None:
    """The whole pipeline: the download, each parallel batch, then `dvc repro` for the rest."""
    batches = parallel_batches(cores, cwd / params.DEFAULT_PATH)
    if batches:
        stale = stale_stages(cwd)
        if not stale:  # what `dvc repro` would find, after its own check of every stage
            print(UP_TO_DATE, flush=True)
            return
        batches = [b.restricted_to(stale) for b in batches]
        batches = [b for b in batches if b.width >= 2]  # one stale stage needs no worker
    if batches:
        # The training stages' only upstream stage: with --single-item the workers do not
        # reproduce it themselves.
        subprocess.run(["dvc", "repro", DOWNLOAD_TARGET], cwd=cwd, check=True)
    for batch in batches:
        print(
            f"training setup {batch.setup!r}: {batch.width} stages at a time, "
            f"{batch.threads} thread(s) each, on {cores} cores",
            flush=True,
        )
        run_side_by_side([[*DVC_WORKER, *share] for share in batch.shares()], cwd)
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
