"""One engine judges every claim record (`claims.py`) under one setup.

Per reading, each training seed's run gives a margin (> 0: the criterion holds on that run);
for a claim that rests on the classifiers, each seed × classifier cell does. A run that a
collapsed β leaves without a comparison is counted, not judged. The margins are tested
against 0 (`stats.test_margins`, or `stats.test_grid` with both seeds and classifiers as
sources of variance), and Holm's rule over the setup's primary readings keeps the chance of
any false "holds" or "does not hold" at 5 %. Each other reading is judged by putting its
p-value in the primary's place: the claim is robust when every reading agrees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from vaelab.core.names import CLASSIFIER_TARGET, figures_numbers_path, figures_target
from vaelab.report import stats
from vaelab.report.claims import CLAIMS, CLASSIFIER_MIN_ACCURACY, ClaimRecord, Reading
from vaelab.report.evidence import Evidence, NotMeasured
from vaelab.report.measures import Excluded, Found
from vaelab.report.stats import UNIT, Interval, Test

Verdict = Literal["holds", "does not hold", "inconclusive", "not measured"]
VERDICTS: tuple[Verdict, ...] = ("holds", "does not hold", "inconclusive", "not measured")


@dataclass(frozen=True)
class Judged:
    """One reading under one setup: the margin of every run it judged, the test over them,
    the numbers the margins used (interval and each run's value), and what it left out."""

    name: str
    margins: dict[str, float]  # run (seed, or classifier seed for claim 10) → margin
    grid: dict[str, list[float]] = field(default_factory=dict)  # run → margin per classifier
    excluded: dict[str, str] = field(default_factory=dict)  # run → why it was not judged
    dropped: dict[str, tuple[str, ...]] = field(default_factory=dict)  # run → collapsed β
    test: Test | None = None
    values: dict[str, Interval] = field(default_factory=dict)
    values_by_run: dict[str, dict[str, float]] = field(default_factory=dict)
    bounds: dict[str, stats.Bounds] = field(default_factory=dict)  # the range of each number
    adjusted_p: float | None = None
    verdict: Verdict = "inconclusive"

    @property
    def signs(self) -> str:
        positive = sum(m > 0 for m in self.margins.values())
        return f"{positive} of {len(self.margins)}"


@dataclass(frozen=True)
class Claim:
    """One record judged under one setup: the primary reading, the others, and what the
    report says of them."""

    record: ClaimRecord
    verdict: Verdict
    note: str
    primary: Judged | None = None
    readings: tuple[Judged, ...] = ()
    needed: tuple[str, int] | None = None  # ('seeds', n) or ('classifiers', k) to decide it

    @property
    def key(self) -> str:
        return self.record.key

    @property
    def robustness(self) -> str:
        """'robust', the readings that flip the verdict, or '' when there is none."""
        measured = [r for r in self.readings if r.verdict != "not measured"]
        if not measured:
            return ""
        flips = [f"{r.name}: {r.verdict}" for r in measured if r.verdict != self.verdict]
        return "robust" if not flips else "flips under " + "; ".join(flips)


def _numbers(found: dict[str, Found]) -> tuple[dict, dict, dict]:
    """Each number every judged run used: its interval (within its range), per-run values
    and range."""
    if not found:
        return {}, {}, {}
    first = next(iter(found.values()))
    shared = [name for name in first.values if all(name in f.values for f in found.values())]
    intervals, by_run, bounds = {}, {}, {}
    for name in shared:
        values = {run: one.values[name][0] for run, one in found.items()}
        bounds[name] = first.values[name][1]
        intervals[name] = stats.interval(list(values.values()), bounds[name])
        by_run[name] = values
    return intervals, by_run, bounds


def _measure(reading: Reading, ev: Evidence, classifiers: bool) -> tuple[Found, list[float]]:
    found = reading.measure.measure(ev)
    if not classifiers or not ev.classifier_seeds:
        return found, []
    cells = [
        reading.measure.measure(ev.for_classifier(i)).margin
        for i in range(len(ev.classifier_seeds))
    ]
    return found, cells


def judge_reading(reading: Reading, runs: Sequence[Evidence], classifiers: bool) -> Judged:
    """Every run's margin under one reading, and the test over them (no verdict yet)."""
    margins, grid, excluded, dropped, found = {}, {}, {}, {}, {}
    for ev in runs:
        run = str(ev.run.seed)
        try:
            one, cells = _measure(reading, ev, classifiers)
        except Excluded as why:
            excluded[run] = str(why)
            continue
        found[run] = one
        margins[run] = float(np.mean(cells)) if cells else one.margin
        if cells:
            grid[run] = cells
        if one.dropped:
            dropped[run] = one.dropped
    if grid:
        test = stats.test_grid(np.array(list(grid.values())))
    else:
        test = stats.test_margins(list(margins.values()))
    values, by_run, bounds = _numbers(found)
    return Judged(reading.name, margins, grid, excluded, dropped, test, values, by_run, bounds)


def judge_classifiers(ev: Evidence) -> Judged:
    """Claim 10: one margin per classifier, logit(accuracy) − logit(85 %)."""
    if ev.classifier is None or "test_accuracy_each" not in ev.classifier:
        raise NotMeasured("a summary of every classifier", [f"dvc repro {CLASSIFIER_TARGET}"])
    accuracies = dict(
        zip(map(str, ev.classifier_seeds), ev.classifier["test_accuracy_each"], strict=True)
    )

    def logit(p: float) -> float:
        p = min(max(p, 1e-12), 1 - 1e-12)  # a perfect classifier: far above 85 %, finite
        return math.log(p) - math.log1p(-p)

    margins = {s: logit(a) - logit(CLASSIFIER_MIN_ACCURACY) for s, a in accuracies.items()}
    values = {"test accuracy": stats.interval(list(accuracies.values()), UNIT)}
    return Judged(
        "each classifier",
        margins,
        test=stats.test_margins(list(margins.values())),
        values=values,
        values_by_run={"test accuracy": accuracies},
        bounds={"test accuracy": UNIT},
    )


def judge_deterministic(ev: Evidence) -> Claim:
    """Claim 2 from the figures stage's numbers: holds or not by construction."""
    record = next(r for r in CLAIMS if r.unit == "deterministic")
    stds = (ev.figures or {}).get("redecode_pixel_std")
    if stds is None:
        numbers = figures_numbers_path(Path("metrics"), ev.run.setup)
        raise NotMeasured(f"{numbers}", [f"dvc repro {figures_target(ev.run.setup)}"])
    vae, ae = float(stds["vae"]), float(stds["ae"])
    holds = vae > 0 and ae == 0
    note = f"VAE pixel std {vae:.3g}, AE pixel std {ae:g} (the figures' seed)"
    return Claim(record, "holds" if holds else "does not hold", note)


def _judge_other(reading: Reading, runs: Sequence[Evidence], grid: bool) -> Judged:
    """A reading other than the primary; one whose inputs are missing is 'not measured'."""
    try:
        return judge_reading(reading, runs, grid)
    except NotMeasured:
        return Judged(reading.name, {}, verdict="not measured")


def _decide(test: Test | None, adjusted: float | None) -> Verdict:
    if test is None or adjusted is None or adjusted >= stats.ALPHA:
        return "inconclusive"
    return "holds" if test.mean > 0 else "does not hold"


def _with_holm(judged: list[Judged]) -> list[Judged]:
    """Holm over the tested readings of `judged`; each gets its adjusted p and verdict."""
    tested = [i for i, j in enumerate(judged) if j.test is not None]
    adjusted = stats.holm([judged[i].test.p for i in tested])
    out = list(judged)
    for i, p in zip(tested, adjusted, strict=True):
        out[i] = replace(judged[i], adjusted_p=p, verdict=_decide(judged[i].test, p))
    return out


def _reading_verdicts(primaries: list[Judged], index: int, others: list[Judged]) -> list[Judged]:
    """Each other reading of claim `index`, judged in the primary's place in the family."""
    out = []
    for other in others:
        if other.verdict == "not measured":
            out.append(other)
            continue
        family = [*primaries[:index], other, *primaries[index + 1 :]]
        out.append(_with_holm(family)[index])
    return out


def _note(record: ClaimRecord, primary: Judged) -> str:
    parts = [record.criterion]
    if primary.excluded:
        parts.append(
            f"judged on {len(primary.margins)} of {len(primary.margins) + len(primary.excluded)}"
            f" runs (left out, collapsed: {', '.join(sorted(primary.excluded))})"
        )
    dropped = sorted({b for found in primary.dropped.values() for b in found})
    if dropped:
        parts.append(f"collapsed and left out on some runs: {', '.join(dropped)}")
    if record.collapse_note:
        parts.append(record.collapse_note)
    return "; ".join(parts)


def check_setup(runs: Sequence[Evidence]) -> list[Claim]:
    """Every claim of the study under one setup (one Evidence per training seed)."""
    first = runs[0]  # the figures and the classifiers are the same for every seed
    pending: dict[str, tuple[ClaimRecord, Judged, list[Judged]]] = {}
    claims: dict[str, Claim] = {}
    for record in CLAIMS:
        try:
            if record.unit == "deterministic":
                claims[record.key] = judge_deterministic(first)
                continue
            if record.unit == "classifiers":
                pending[record.key] = (record, judge_classifiers(first), [])
                continue
            grid = record.unit == "seeds × classifiers"
            primary = judge_reading(record.readings[0], runs, grid)
            others = [_judge_other(r, runs, grid) for r in record.readings[1:]]
            pending[record.key] = (record, primary, others)
        except NotMeasured as missing:
            stages = "; ".join(f"`{stage}`" for stage in missing.stages)
            claims[record.key] = Claim(
                record, "not measured", f"missing {missing.what}: run {stages}"
            )
    keys = list(pending)
    primaries = _with_holm([pending[k][1] for k in keys])
    for index, key in enumerate(keys):
        record, _, others = pending[key]
        primary = primaries[index]
        readings = tuple(_reading_verdicts(primaries, index, others))
        needed = None
        if primary.verdict == "inconclusive" and primary.test and primary.test.sd > 0:
            needed = stats.replicates_needed(primary.test, len(keys))
        claims[key] = Claim(
            record, primary.verdict, _note(record, primary), primary, readings, needed
        )
    return [claims[r.key] for r in CLAIMS]


def setups_differ(a: Claim, b: Claim) -> Test | None:
    """The difference of two setups' primary margins (a − b), by Welch's test; None where
    a setup has no margins, or where both rest on the same classifiers (claim 10)."""
    if a.primary is None or b.primary is None or a.record.unit == "classifiers":
        return None
    return stats.welch(list(a.primary.margins.values()), list(b.primary.margins.values()))
