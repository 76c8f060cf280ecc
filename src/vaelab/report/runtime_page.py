"""The run's own page: the machine, library versions and wall seconds of every stage.

Kept out of README.md because these differ between machines while everything there is
reproduced byte for byte (report/runtime.md, and the end of index.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vaelab.core import names
from vaelab.core.names import DOWNLOAD_TARGET, figures_target
from vaelab.report.cells import fmt
from vaelab.report.evidence import Evidence
from vaelab.report.render import Block, Heading, Paragraph, Table

RUNTIME_TITLE = "How this run went"


def _timed_row(stage: str, record: dict[str, Any], seconds_key: str) -> tuple[str, ...]:
    """A stage's wall seconds with the device and threads its `environment` recorded."""
    env = record.get("environment", {})
    return (
        stage,
        fmt(record.get(seconds_key)),
        str(env.get("device", "—")),
        str(env.get("threads", "—")),
    )


def _stage_times(runs: Sequence[Evidence]) -> Table:
    """Wall seconds of every stage that wrote a timing, with its device and threads."""
    table: list[tuple[str, ...]] = []
    ev = runs[0]
    if ev.data:
        table.append((DOWNLOAD_TARGET, fmt(ev.data.get("seconds")), "—", "—"))
    for seed in ev.classifier_seeds:
        name = names.classifier_name(seed)
        if name in ev.train:
            target = names.classifier_target(seed)
            table.append(_timed_row(target, ev.train[name], "train_seconds"))
    for run in runs:
        for beta in [None, *run.betas]:
            name = names.model_name(beta)
            if name in run.train:
                target = names.train_target(beta, run.run)
                table.append(_timed_row(target, run.train[name], "train_seconds"))
            if name in run.runtimes:
                target = f"{names.eval_target(beta, run.run.setup)} (seed {run.run.seed})"
                table.append(_timed_row(target, run.runtimes[name], "seconds"))
    figures = {run.run.setup: run.figures for run in runs if run.figures}
    for setup, numbers in figures.items():
        table.append((figures_target(setup), fmt(numbers.get("seconds")), "—", "—"))
    return Table(("stage", "wall seconds", "device", "threads"), tuple(table))


def _environment(runs: Sequence[Evidence]) -> Table:
    """Library versions and machine, merged over every stage that recorded them."""
    seen: dict[str, list[str]] = {}
    records = [r for ev in runs for r in (*ev.train.values(), *ev.runtimes.values())]
    for env in (r.get("environment", {}) for r in records):
        for name, value in env.items():
            if str(value) not in seen.setdefault(name, []):
                seen[name].append(str(value))
    return Table(("", "value"), tuple((name, ", ".join(v)) for name, v in seen.items()))


def runtime_blocks(runs: Sequence[Evidence]) -> list[Block]:
    """The page: environment, then wall seconds per stage (training: its steps only)."""
    return [
        Heading(RUNTIME_TITLE),
        Paragraph(
            "Values that differ between machines; training stages count their optimiser "
            "steps, the others their whole run."
        ),
        Heading("Environment", 3),
        _environment(runs),
        Heading("Wall time per stage", 3),
        _stage_times(runs),
    ]
