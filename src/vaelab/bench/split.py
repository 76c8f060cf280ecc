"""Where a full `make repro`'s wall time went: training, evaluation, figures, report, the
download, and the rest (DVC and process overhead), each in seconds and as a share.

From the runtime records the stages write under runtime/ (`vaelab.report.runtime_page`):
- training: the optimiser steps. An AE's or VAE's record holds its share of its stacked
  group's seconds (`train_seconds`, `models_in_step`), so the records of one `make repro`
  process sum to its steps' seconds; the processes run side by side, so a setup's training
  takes the slowest process's sum (processes dealt as `vaelab.repro` deals them). The
  classifiers train one stage at a time;
- evaluation: each evaluate stage's shared loading and every model's seconds;
- figures: the figures stages and the explorer stage; report: the report stage. A stage
  without a record is timed from DVC's log, from its `Running stage` line to the next one,
  which counts DVC's own work around it;
- the rest: wall − all of the above: DVC (status, hashing, caching, lock files), starting
  processes and importing, loading data, and the training stages' per-epoch test passes
  and checkpoints, which their records leave out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from vaelab.core.params import SEED_TIERS
from vaelab.repro import Batch

Records = Mapping[str, Mapping[str, Any]]

# DVC's line as each stage starts (`[i/n] ` when a make repro worker printed it).
RUNNING_STAGE = re.compile(r"^(\[\d+/\d+\] )?Running stage '([^']+)'", re.M)
PARTS = ("training", "evaluation", "figures", "report", "download")
# A seed tier's training stage (train_vae_extra@…) runs train_vae@…'s command, so it writes
# the record of that name.
TIER_IN_STAGE = re.compile(rf"_(?:{'|'.join(SEED_TIERS)})@")


def record_name(stage: str) -> str:
    """The runtime record a stage writes: train_vae_extra@study-1-45 → train_vae@study-1-45."""
    return TIER_IN_STAGE.sub("@", stage, count=1)


def stage_walls(lines: Sequence[tuple[float, str]], end: float) -> dict[str, float]:
    """Each stage's seconds in a timestamped log [(seconds since start, line)]: from its
    `Running stage` line to the next stage's, or to `end` for the last."""
    starts = [(t, m.group(2)) for t, line in lines if (m := RUNNING_STAGE.match(line))]
    bounds = [t for t, _ in starts[1:]] + [end]
    return {stage: stop - t for (t, stage), stop in zip(starts, bounds, strict=True)}


def _training(records: Records, batches: Sequence[Batch]) -> float:
    """Wall seconds of optimiser steps: each setup's slowest process, and the classifiers."""
    total = sum(r["train_seconds"] for s, r in records.items() if s.startswith("train_classifier"))
    for batch in batches:
        found = {t: records[record_name(t)] for t in batch.targets if record_name(t) in records}
        if any(r.get("models_in_step", 1) > 1 for r in found.values()):  # trained together
            total += max(
                sum(found[t]["train_seconds"] for t in share if t in found)
                for share in batch.shares()
            )
        else:  # one stage at a time, as `dvc repro` runs them
            total += sum(r["train_seconds"] for r in found.values())
    return total


def _evaluation(records: Records) -> float:
    found = [r for stage, r in records.items() if stage.startswith("evaluate_")]
    return sum(r["shared_seconds"] + sum(r["seconds_by_model"].values()) for r in found)


def _seconds(stage: str, records: Records, walls: Mapping[str, float]) -> float:
    """A stage's own seconds: its record's when it writes one, else its wall in DVC's log."""
    if stage in records and "seconds" in records[stage]:
        return records[stage]["seconds"]
    return walls.get(stage, 0.0)


def split(
    wall: float, records: Records, walls: Mapping[str, float], batches: Sequence[Batch]
) -> dict[str, float]:
    """`pipeline_<part>_seconds` and `_share` of each part and of the rest, and the share
    outside training. walls: stage wall times from `stage_walls`."""
    figure_stages = [s for s in {*records, *walls} if s.startswith("figures@")]
    seconds = {
        "training": _training(records, batches),
        "evaluation": _evaluation(records),
        "figures": sum(_seconds(s, records, walls) for s in [*figure_stages, "explorer"]),
        "report": _seconds("report", records, walls),
        "download": _seconds("download", records, walls),
    }
    seconds["rest"] = wall - sum(seconds.values())
    found: dict[str, float] = {}
    for part, value in seconds.items():
        found[f"pipeline_{part}_seconds"] = value
        found[f"pipeline_{part}_share"] = value / wall
    found["outside_training_share"] = 1 - seconds["training"] / wall
    return found
