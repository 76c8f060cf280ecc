"""The run's own page, report/runtime.md: the machine, library versions and wall seconds of
every stage, from the records the stages wrote under runtime/.

Neither git nor DVC tracks these, since they differ between machines while every result is
reproduced byte for byte; README.md and index.html leave them out for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaelab.core.io import read_json
from vaelab.report.cells import fmt
from vaelab.report.render import Block, Heading, Paragraph, Table

RUNTIME_TITLE = "How this run went"


def read_records(folder: Path) -> dict[str, dict[str, Any]]:
    """Every stage's runtime record, by stage name (the file's name); {} when none."""
    if not folder.is_dir():
        return {}
    return {path.stem: read_json(path) for path in sorted(folder.glob("*.json"))}


def _seconds(record: Mapping[str, Any]) -> float | None:
    """Training counts its optimiser steps (its share, when it stepped with other models);
    evaluation its shared loading and every model."""
    if "train_seconds" in record:
        return record["train_seconds"]
    if "seconds_by_model" in record:
        return record.get("shared_seconds", 0.0) + sum(record["seconds_by_model"].values())
    return record.get("seconds")


def _stage_times(records: Mapping[str, Mapping[str, Any]]) -> Table:
    rows = []
    for stage, record in records.items():
        env = record.get("environment", {})
        speed = record.get("images_per_s")
        rows.append(
            (
                stage,
                fmt(_seconds(record)),
                f"{speed:,.0f}" if speed else "—",
                str(record.get("models_in_step", "—")),
                str(env.get("device", "—")),
                str(env.get("threads", "—")),
            )
        )
    header = ("stage", "wall seconds", "images/s", "models in step", "device", "threads")
    return Table(header, tuple(rows))


def _environment(records: Mapping[str, Mapping[str, Any]]) -> Table:
    """Library versions and machine, merged over every stage that recorded them."""
    seen: dict[str, list[str]] = {}
    for env in (r.get("environment", {}) for r in records.values()):
        for name, value in env.items():
            if str(value) not in seen.setdefault(name, []):
                seen[name].append(str(value))
    return Table(("", "value"), tuple((name, ", ".join(v)) for name, v in seen.items()))


def runtime_blocks(records: Mapping[str, Mapping[str, Any]]) -> list[Block]:
    """The page: environment, then wall seconds per stage that has run on this machine."""
    if not records:
        return [Heading(RUNTIME_TITLE), Paragraph("No stage has written a runtime record yet.")]
    return [
        Heading(RUNTIME_TITLE),
        Paragraph(
            "Values that differ between machines, as each stage last ran here; training "
            "stages count their optimiser steps, the others their whole run. A training "
            "stage that `make repro` stepped together with others counts its share of their "
            "seconds, and its images/s are all of theirs."
        ),
        Heading("Environment", 3),
        _environment(records),
        Heading("Wall time per stage", 3),
        _stage_times(records),
    ]
