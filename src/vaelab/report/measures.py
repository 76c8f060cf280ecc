"""What a claim measures on one run: a few generic shapes of criterion, each returning the
run's signed *margin* (> 0 exactly when the criterion holds on that run, on the quantity's
natural scale) and the values it used.

A measure never decides a verdict: `verdict.py` weighs the margins of all runs. A β whose
run collapsed (`collapse.py`) is left out of a comparison of image quality when the claim
says so, and a run left with nothing to compare is counted, not judged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vaelab.core.names import model_name
from vaelab.labels import beta_label
from vaelab.report.collapse import collapsed
from vaelab.report.evidence import Evidence, NotMeasured
from vaelab.report.stats import POSITIVE, UNIT, Bounds

LAST = -1  # the last checkpoint, whatever train.checkpoints says
TINY = 1e-300  # a value of exactly 0 on a log scale: far below any run's, still finite
# What float32 can tell from 0. A KL is a sum of O(1) terms that cancel, so float32's seven
# digits leave ~1e-7 nats of rounding (a collapsed VAE's test KL reads −1.5e-8). Below these
# floors a value counts as the floor on a log or logit scale: rounding cannot make a margin.
KL_ROUNDING = 1e-7  # nats
SHARE_ROUNDING = KL_ROUNDING / 50  # that KL over a reconstruction error of ~50
ENTROPY_BITS: Bounds = (0.0, math.log2(10))

Value = tuple[float, Bounds]  # a number a margin used, and the range it can take


class Excluded(Exception):  # noqa: N818 - an outcome, not an error
    """This run cannot be judged under the claim: a β it compares collapsed."""


@dataclass(frozen=True)
class Metric:
    """One number of a model at one epoch: `path` into its evaluation JSON, or
    ('curve', 'test/kl_share') for a dvclive curve. `scale` is where margins are taken."""

    label: str
    path: tuple[str, ...]
    scale: str  # log | logit | raw
    bounds: Bounds | Callable[[Evidence], Bounds]
    floor: float = TINY  # the resolution: smaller values count as this on the log/logit scale

    def value(self, ev: Evidence, beta: float | None, epoch: int) -> float:
        epoch = ev.last_epoch if epoch == LAST else epoch
        if epoch not in ev.checkpoints:
            raise NotMeasured(
                f"a checkpoint at epoch {epoch}",
                [f"add {epoch} to train.checkpoints in params.yaml, then dvc repro"],
            )
        if self.path[0] != "curve":
            return float(ev.at(beta, epoch, *self.path))
        curve = ev.curves.get(model_name(beta), {}).get(self.path[1], [])
        found = [value for step, value in curve if step == epoch]
        if not found:
            raise NotMeasured(
                f"the {self.path[1]} curve of {beta_label(beta)}", [ev.train_stage(beta)]
            )
        return found[0]

    def range_of(self, ev: Evidence) -> Bounds:
        return self.bounds(ev) if callable(self.bounds) else self.bounds

    def on_scale(self, value: float) -> float:
        if self.scale == "log":
            return math.log(max(value, self.floor))
        if self.scale == "logit":
            share = min(max(value, self.floor), 1 - 1e-16)
            return math.log(share) - math.log1p(-share)
        return value


def confidence_bounds(ev: Evidence) -> Bounds:
    """Eq. 13's ratio: a mean top-class confidence (between 1/10 and 1) over the baseline."""
    first = next(iter(ev.evals.values()), {})
    baselines = first.get("baseline_confidence_by_classifier") or [first["baseline_confidence"]]
    return 0.1 / max(baselines), 1.0 / min(baselines)


def _label(metric: Metric, beta: float | None, epoch: int) -> str:
    when = "" if epoch == LAST else f" @{epoch}"
    return f"{'AE' if beta is None else beta_label(beta)} {metric.label}{when}"


@dataclass(frozen=True)
class Found:
    margin: float
    values: dict[str, Value]
    dropped: tuple[str, ...] = ()  # the β this run left out because they collapsed


def _kept(ev: Evidence, betas: Sequence[float | None], epoch: int, skip: bool) -> list:
    if not skip:
        return list(betas)
    return [b for b in betas if b is None or not collapsed(ev, b, epoch)]


def _dropped(betas: Sequence[float | None], kept: Sequence[float | None]) -> tuple[str, ...]:
    return tuple(beta_label(b) for b in betas if b not in kept)


@dataclass(frozen=True)
class Ordered:
    """Every step up in β moves `metric` the way `rising` says (margin: the worst step)."""

    metric: Metric
    betas: tuple[float, ...]
    epoch: int = LAST
    rising: bool = True
    skip_collapsed: bool = False

    def measure(self, ev: Evidence) -> Found:
        ev.require(*self.betas)
        kept = _kept(ev, self.betas, self.epoch, self.skip_collapsed)
        if len(kept) < 2:
            raise Excluded(f"fewer than two of {self.betas} did not collapse")
        values = [self.metric.value(ev, b, self.epoch) for b in kept]
        sign = 1 if self.rising else -1
        steps = [
            sign * (self.metric.on_scale(after) - self.metric.on_scale(before))
            for before, after in zip(values, values[1:], strict=False)
        ]
        bounds = self.metric.range_of(ev)
        shown = {
            _label(self.metric, b, self.epoch): (v, bounds)
            for b, v in zip(kept, values, strict=True)
        }
        return Found(min(steps), shown, _dropped(self.betas, kept))


@dataclass(frozen=True)
class Compare:
    """`metric` of every model in `above` exceeds `factor` × that of every model in `below`
    (margin: the closest pair, on the metric's scale)."""

    metric: Metric
    above: tuple[float | None, ...]
    below: tuple[float | None, ...]
    epoch: int = LAST
    factor: float = 1.0
    skip_collapsed: bool = False

    def measure(self, ev: Evidence) -> Found:
        ev.require(*self.above, *self.below)
        above = _kept(ev, self.above, self.epoch, self.skip_collapsed)
        below = _kept(ev, self.below, self.epoch, self.skip_collapsed)
        if not above or not below:
            raise Excluded("every model on one side of the comparison collapsed")
        found = {b: self.metric.value(ev, b, self.epoch) for b in (*above, *below)}
        scale = self.metric.on_scale
        lowest = min(scale(found[b]) for b in above)
        highest = max(scale(found[b]) for b in below)
        offset = scale(self.factor) if self.metric.scale != "raw" else 0.0
        bounds = self.metric.range_of(ev)
        shown = {_label(self.metric, b, self.epoch): (v, bounds) for b, v in found.items()}
        return Found(
            lowest - highest - offset,
            shown,
            _dropped((*self.above, *self.below), [*above, *below]),
        )


@dataclass(frozen=True)
class Change:
    """For every β, each metric moves from `start` to `end` the way `rising` says (margin:
    the smallest move, on the metrics' scales)."""

    metrics: tuple[Metric, ...]
    betas: tuple[float, ...]
    start: int
    end: int = LAST
    rising: bool = True
    skip_collapsed: bool = False

    def measure(self, ev: Evidence) -> Found:
        ev.require(*self.betas)
        kept = _kept(ev, self.betas, self.end, self.skip_collapsed)
        if not kept:
            raise Excluded(f"every β of {self.betas} collapsed")
        sign = 1 if self.rising else -1
        moves, shown = [], {}
        for metric in self.metrics:
            for beta in kept:
                before = metric.value(ev, beta, self.start)
                after = metric.value(ev, beta, self.end)
                moves.append(sign * (metric.on_scale(after) - metric.on_scale(before)))
                bounds = metric.range_of(ev)
                shown[_label(metric, beta, self.start)] = (before, bounds)
                shown[_label(metric, beta, self.end)] = (after, bounds)
        return Found(min(moves), shown, _dropped(self.betas, kept))


@dataclass(frozen=True)
class Bound:
    """`metric` of every β lies below `limit` (or above it when `above`); margin: the
    closest β's distance to the limit on the metric's scale."""

    metric: Metric
    betas: tuple[float, ...]
    limit: float
    epoch: int = LAST
    above: bool = False
    any_beta: bool = False  # "some β" rather than "every β"

    def measure(self, ev: Evidence) -> Found:
        ev.require(*self.betas)
        values = {b: self.metric.value(ev, b, self.epoch) for b in self.betas}
        sign = 1 if self.above else -1
        limit = self.metric.on_scale(self.limit)
        gaps = [sign * (self.metric.on_scale(v) - limit) for v in values.values()]
        bounds = self.metric.range_of(ev)
        shown = {_label(self.metric, b, self.epoch): (v, bounds) for b, v in values.items()}
        return Found(max(gaps) if self.any_beta else min(gaps), shown)


@dataclass(frozen=True)
class Surpasses:
    """`metric` exceeds `other` for some β that did not collapse (margin: the largest gap)."""

    metric: Metric
    other: Metric
    betas: tuple[float, ...]
    epoch: int = LAST

    def measure(self, ev: Evidence) -> Found:
        ev.require(*self.betas)
        kept = _kept(ev, self.betas, self.epoch, True)
        if not kept:
            raise Excluded(f"every β of {self.betas} collapsed")
        gaps, shown = [], {}
        for beta in kept:
            for metric in (self.metric, self.other):
                value = metric.value(ev, beta, self.epoch)
                shown[_label(metric, beta, self.epoch)] = (value, metric.range_of(ev))
            gaps.append(
                self.metric.on_scale(self.metric.value(ev, beta, self.epoch))
                - self.other.on_scale(self.other.value(ev, beta, self.epoch))
            )
        return Found(max(gaps), shown, _dropped(self.betas, kept))


@dataclass(frozen=True)
class Both:
    """Every one of `parts` holds (margin: the smallest of theirs)."""

    parts: tuple[Ordered | Surpasses, ...]

    def measure(self, ev: Evidence) -> Found:
        found = [part.measure(ev) for part in self.parts]
        values = {name: v for one in found for name, v in one.values.items()}
        dropped = tuple(dict.fromkeys(b for one in found for b in one.dropped))
        return Found(min(one.margin for one in found), values, dropped)


@dataclass(frozen=True)
class Settles:
    """`metric` moves less after `epoch` than up to it, for every β: margin
    min over β of log|v₁ − v_epoch| − log|v_epoch − v_last| (or, with `share`, the move after
    `epoch` below that share of its value: log(share) − log(|Δ| / v_epoch))."""

    metric: Metric
    betas: tuple[float, ...]
    epoch: int
    share: float | None = None
    skip_collapsed: bool = True

    def measure(self, ev: Evidence) -> Found:
        ev.require(*self.betas)
        kept = _kept(ev, self.betas, LAST, self.skip_collapsed)
        if not kept:
            raise Excluded(f"every β of {self.betas} collapsed")
        first = ev.checkpoints[0]
        gaps, shown = [], {}
        for beta in kept:
            start, mid, end = (self.metric.value(ev, beta, e) for e in (first, self.epoch, LAST))
            after = math.log(max(abs(end - mid), TINY))
            if self.share is None:
                gaps.append(math.log(max(abs(mid - start), TINY)) - after)
            else:
                gaps.append(math.log(self.share) - (after - math.log(mid)))
            for epoch, value in ((first, start), (self.epoch, mid), (ev.last_epoch, end)):
                shown[_label(self.metric, beta, epoch)] = (value, POSITIVE)
        return Found(min(gaps), shown, _dropped(self.betas, kept))


# The metrics the claims read. Scales: log for KLs, reconstruction errors and confidence
# ratios (positive, compared as ratios); logit for shares; bits of entropy stay raw.
AGGREGATE_KL = Metric(
    "KL(q(z) ‖ N(0, I)), draws",
    ("aggregate_posterior", "kl_to_prior"),
    "log",
    POSITIVE,
    KL_ROUNDING,
)
MEANS_KL = Metric(
    "KL(fit to means ‖ N(0, I))",
    ("aggregate_means", "kl_to_prior"),
    "log",
    POSITIVE,
    KL_ROUNDING,
)
RECON = Metric("test recon", ("recon",), "log", POSITIVE)
PRIOR_CONFIDENCE = Metric(
    "N(0, I) conf ratio", ("prior_confidence_ratio",), "log", confidence_bounds
)
RECON_CONFIDENCE = Metric(
    "recon conf ratio", ("recon_confidence_ratio",), "log", confidence_bounds
)
PRIOR_ENTROPY = Metric(
    "N(0, I) class H [bits]", ("prior_class_entropy_bits",), "raw", ENTROPY_BITS
)
SHIFTED_CONFIDENCE = Metric(
    "shifted conf ratio", ("shifted_confidence_ratio",), "log", confidence_bounds
)
SHIFTED_ENTROPY = Metric(
    "shifted class H [bits]", ("shifted_class_entropy_bits",), "raw", ENTROPY_BITS
)
KL_SHARE = Metric("test KL share", ("curve", "test/kl_share"), "logit", UNIT, SHARE_ROUNDING)
TRAIN_KL_SHARE = Metric(
    "train KL share", ("curve", "train/kl_share"), "logit", UNIT, SHARE_ROUNDING
)
BETA_KL_SHARE = Metric(
    "test β·KL share", ("curve", "test/beta_kl_share"), "logit", UNIT, SHARE_ROUNDING
)
KL = Metric("test KL", ("curve", "test/kl"), "log", POSITIVE, KL_ROUNDING)
