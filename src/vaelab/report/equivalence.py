"""Claim 11, "Laplace produced almost the same results as N(0, 1)": an equivalence claim
between two setups, judged on seed-paired differences with margins fixed before any number
was seen (docs/latent-families.md).

A setup whose model differs from another's only by `latent: laplace` (and its prior's
scale) is compared with that one: the same network, training, seeds (so the same
initialisation and data order per seed), and every β. For each β and quantity, two one-sided
tests (`stats.tost`) ask whether the mean paired difference lies within ±margin on the
quantity's scale. The claim holds only when every pair is equivalent (an intersection–union
test, which needs no multiplicity correction); it does not hold when some pair is shown to
lie outside its margin (Holm over the pairs); otherwise it is inconclusive.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from vaelab.core import params
from vaelab.labels import beta_label
from vaelab.report import stats
from vaelab.report.collapse import collapsed
from vaelab.report.evidence import Evidence, NotMeasured
from vaelab.report.measures import KL_ROUNDING, KL_SHARE, LAST, PRIOR_CONFIDENCE, RECON, Metric
from vaelab.report.stats import POSITIVE, Equivalence
from vaelab.report.verdict import Verdict

EVAL_KL = Metric("test KL", ("kl",), "log", POSITIVE, KL_ROUNDING)


@dataclass(frozen=True)
class Quantity:
    """A number of each model at the last epoch: the sum of `terms`, compared on the first
    term's scale within ±margin."""

    label: str
    terms: tuple[Metric, ...]
    ratio: float  # the margin, as the largest ratio (of values, or of odds) called "the same"

    @property
    def margin(self) -> float:
        return math.log(self.ratio)

    @property
    def scale(self) -> str:
        return self.terms[0].scale

    def value(self, ev: Evidence, beta: float) -> float:
        return sum(term.value(ev, beta, LAST) for term in self.terms)

    def on_scale(self, value: float) -> float:
        return self.terms[0].on_scale(value)


@dataclass(frozen=True)
class EquivalenceRecord:
    key: str
    quote: str
    where: str
    family: str  # the latent family the claim is about
    scope: str
    quantities: tuple[Quantity, ...]
    why: str


LAPLACE = EquivalenceRecord(
    key="11",
    quote=(
        "Additionally, the Laplace distribution was also explored, but it produced almost "
        "the same results as N(0, 1)."
    ),
    where="§4.2, last paragraph",
    family="laplace",
    scope="every β of vae.betas, epoch 20, the Laplace setup against its normal twin, "
    "paired by seed",
    quantities=(
        Quantity("test recon", (RECON,), 1.05),
        Quantity("test recon + KL (−ELBO)", (RECON, EVAL_KL), 1.05),
        Quantity("prior-sample conf ratio", (PRIOR_CONFIDENCE,), 1.10),
        Quantity("test KL share", (KL_SHARE,), 1.25),
    ),
    why=(
        "the study shows reconstructions, the loss and its KL share, and samples of the "
        "prior (eq. 13); recon and −ELBO are taken without the likelihood's constant "
        "(448.6 nats at σ² = 0.5, the same for both setups), which would shrink every "
        "relative difference about twelvefold"
    ),
)


@dataclass(frozen=True)
class Pair:
    """One β × quantity: each setup's values by seed and the test of their differences."""

    beta: float
    quantity: Quantity
    values: dict[str, tuple[float, float]]  # seed → (this setup's, the twin's), raw
    test: Equivalence
    collapsed: tuple[int, int, int]  # runs collapsed in this setup, in the twin, of n
    outside_holm_p: float = 1.0

    @property
    def both_collapsed(self) -> bool:
        k, k_twin, n = self.collapsed
        return k == n and k_twin == n

    @property
    def outside(self) -> bool:
        return self.outside_holm_p < stats.ALPHA


@dataclass(frozen=True)
class EquivalenceClaim:
    record: EquivalenceRecord
    setup: str
    twin: str
    seeds: tuple[int, ...]
    verdict: Verdict
    note: str
    pairs: tuple[Pair, ...] = ()
    readings: tuple[tuple[str, Verdict], ...] = ()


def twin_of(setup: params.Setup, setups: Sequence[params.Setup]) -> params.Setup | None:
    """The setup equal to `setup` but for a standard-normal latent (its seeds may differ:
    the pairs are its seeds both trained); None when there is none."""
    normal = dataclasses.replace(setup.model, latent="normal", prior_std=1.0)
    training = dataclasses.replace(setup.train, seeds=())
    for other in setups:
        same_training = dataclasses.replace(other.train, seeds=()) == training
        if other.name != setup.name and other.model == normal and same_training:
            return other
    return None


def _pair(
    beta: float, quantity: Quantity, runs: Sequence[Evidence], twins: Sequence[Evidence]
) -> Pair:
    values = {
        str(ev.run.seed): (quantity.value(ev, beta), quantity.value(twin, beta))
        for ev, twin in zip(runs, twins, strict=True)
    }
    mine, theirs = zip(*values.values(), strict=True)
    test = stats.tost(
        [quantity.on_scale(v) for v in mine],
        [quantity.on_scale(v) for v in theirs],
        quantity.margin,
    )
    counts = (
        sum(collapsed(ev, beta, LAST) for ev in runs),
        sum(collapsed(twin, beta, LAST) for twin in twins),
        len(runs),
    )
    return Pair(beta, quantity, values, test, counts)


def _decide(pairs: Sequence[Pair]) -> Verdict:
    """Intersection–union: holds when every pair is equivalent; does not hold when some pair
    lies outside its margin after Holm over the pairs' outside-p."""
    if not pairs:
        return "not measured"
    if all(p.test.equivalent for p in pairs):
        return "holds"
    return "does not hold" if any(p.outside for p in _with_holm(pairs)) else "inconclusive"


def _with_holm(pairs: Sequence[Pair]) -> list[Pair]:
    """The pairs with their outside-p adjusted by Holm over these pairs."""
    adjusted = stats.holm([p.test.p_outside for p in pairs])
    return [dataclasses.replace(p, outside_holm_p=a) for p, a in zip(pairs, adjusted, strict=True)]


def judge_equivalence(
    record: EquivalenceRecord,
    setup: str,
    twin: str,
    runs: Sequence[Evidence],
    twin_runs: Sequence[Evidence],
) -> EquivalenceClaim:
    """The claim for one setup of the record's family against its normal twin, on the seeds
    both trained."""
    by_seed = {ev.run.seed: ev for ev in twin_runs}
    paired = [(ev, by_seed[ev.run.seed]) for ev in runs if ev.run.seed in by_seed]
    seeds = tuple(ev.run.seed for ev, _ in paired)
    if len(paired) < 2:
        note = f"`{setup}` and `{twin}` share {len(paired)} seed(s); the test needs 2 or more"
        return EquivalenceClaim(record, setup, twin, seeds, "not measured", note)
    mine, theirs = [ev for ev, _ in paired], [ev for _, ev in paired]
    try:
        pairs = _with_holm(
            [
                _pair(beta, quantity, mine, theirs)
                for beta in mine[0].betas
                for quantity in record.quantities
            ]
        )
    except NotMeasured as missing:
        stages = "; ".join(f"`{stage}`" for stage in missing.stages)
        note = f"missing {missing.what}: run {stages}"
        return EquivalenceClaim(record, setup, twin, seeds, "not measured", note)
    alive = [p for p in pairs if p.collapsed[0] == 0 and p.collapsed[1] == 0]
    verdict = _decide(pairs)
    readings = (("β where no run of either setup collapsed", _decide(alive)),)
    return EquivalenceClaim(
        record, setup, twin, seeds, verdict, _note(pairs, verdict), tuple(pairs), readings
    )


def _note(pairs: Sequence[Pair], verdict: Verdict) -> str:
    equivalent = sum(p.test.equivalent for p in pairs)
    outside = [p for p in pairs if p.outside]
    parts = [f"{equivalent} of {len(pairs)} β × quantity pairs equivalent"]
    if outside:
        parts.append(
            "outside the margin: "
            + ", ".join(f"{beta_label(p.beta)} {p.quantity.label}" for p in outside)
        )
    both = sorted({p.beta for p in pairs if p.both_collapsed})
    if both:
        parts.append(
            "collapsed in every run of both setups (one mean image each, so alike by "
            "construction): " + ", ".join(beta_label(b) for b in both)
        )
    return "; ".join(parts)


def judge_families(
    setups: Sequence[params.Setup], runs: dict[str, Sequence[Evidence]]
) -> list[EquivalenceClaim]:
    """Claim 11 for every Laplace setup that has a normal twin, in params.yaml's order."""
    found = []
    for setup in setups:
        if setup.model.latent != LAPLACE.family:
            continue
        twin = twin_of(setup, setups)
        if twin is None:
            continue
        found.append(
            judge_equivalence(LAPLACE, setup.name, twin.name, runs[setup.name], runs[twin.name])
        )
    return found
