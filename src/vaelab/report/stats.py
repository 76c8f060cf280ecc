"""The statistics behind a verdict, from scipy and statsmodels: intervals that stay inside the
range of what they measure, one test per claim, Holm's rule over a setup's claims, two
one-sided tests for "almost the same", and how many seeds would decide a claim.

Margins are on their claim's natural scale (log for ratios and KLs, logit for shares), where
they are unbounded, so a Student-t interval suits them. A number shown beside a verdict keeps
its own range: its interval is computed on the scale that maps that range onto the real line
and mapped back.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import ttost_paired

# Family-wise error rate of each setup's verdicts (Holm): a point under the usual 5 % so that
# the calibration's 2 000-replication estimate (±1 point) of it stays under 5 %.
ALPHA = 0.04
CONFIDENCE = 0.95
POWER_TARGET = 0.80
MAX_SEEDS = 200  # beyond this, "seeds needed" is reported as "more than 200"

Bounds = tuple[float, float]  # the range a quantity can take (±inf for none)
UNBOUNDED: Bounds = (-math.inf, math.inf)
POSITIVE: Bounds = (0.0, math.inf)
UNIT: Bounds = (0.0, 1.0)


@dataclass(frozen=True)
class Interval:
    """A centre and a 95 % interval over n values, and how it was made.

    `method` says which: 't' (Student t on the raw values), 't on log' / 't on logit' (on the
    scale that maps the quantity's range to the real line, then mapped back: the centre is
    then a geometric or logit mean), 'equal' (every value the same), 'one value'."""

    center: float
    low: float
    high: float
    n: int
    method: str

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "center": self.center,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "method": self.method,
        }


def t_half_width(values: np.ndarray) -> float:
    """t(0.975, n−1) · s / √n."""
    n = len(values)
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))


def _to_line(values: np.ndarray, bounds: Bounds) -> tuple[np.ndarray, str]:
    low, high = bounds
    if math.isinf(low) and math.isinf(high):
        return values, "t"
    if math.isinf(high):
        return np.log(values - low), "t on log"
    if math.isinf(low):
        return np.log(high - values), "t on log"
    share = (values - low) / (high - low)
    return np.log(share) - np.log1p(-share), "t on logit"


def _from_line(value: float, bounds: Bounds) -> float:
    low, high = bounds
    if math.isinf(low) and math.isinf(high):
        return value
    if math.isinf(high):
        return low + float(np.exp(value))  # overflows to inf, which such a range allows
    if math.isinf(low):
        return high - float(np.exp(value))
    return low + (high - low) * float(stats.logistic.cdf(value))


def median_interval(array: np.ndarray) -> tuple[float, float, float, float]:
    """The median and a distribution-free interval for it: the order statistics x(k) and
    x(n+1−k) with the largest k whose binomial coverage is ≥ 95 % (k = 1 where none is, as
    for 3 values: 75 %). Defined for infinite values too. Returns (median, low, high,
    coverage)."""
    x, n = np.sort(array), len(array)
    covers = [1 - 2 * float(stats.binom.cdf(k - 1, n, 0.5)) for k in range(1, n // 2 + 1)]
    k = max([k for k, c in enumerate(covers, 1) if c >= CONFIDENCE], default=1)
    return float(x[(n - 1) // 2]), float(x[k - 1]), float(x[n - k]), covers[k - 1]


def interval(values: Sequence[float], bounds: Bounds = UNBOUNDED) -> Interval:
    """The 95 % interval of `values`' centre, never outside `bounds`.

    Values strictly inside the bounds: a t interval on the scale that maps the bounds to the
    real line, mapped back. A value on a bound (an entropy of exactly 0 bits) has no finite
    image there; then the t interval on the raw values is clipped to the bounds, and the
    method says so. An infinite value (the KL of a Gaussian fitted to a collapsed model's
    means, which are one point) has no mean: then the median and its order-statistic interval.
    """
    # A value past a bound is float rounding (a collapsed KL of −1e-8 nats): it is the bound.
    array = np.clip(np.asarray(values, dtype=float), *bounds)
    n = len(array)
    if n == 1 or np.all(array == array[0]):
        value = float(array[0])
        return Interval(value, value, value, n, "one value" if n == 1 else "equal")
    if not np.all(np.isfinite(array)):
        center, low, high, coverage = median_interval(array)
        return Interval(center, low, high, n, f"median, order statistics ({coverage:.0%})")
    inside = bool(np.all((array > bounds[0]) & (array < bounds[1])))
    if inside:
        line, method = _to_line(array, bounds)
        mean, half = float(line.mean()), t_half_width(line)
        ends = sorted((_from_line(mean - half, bounds), _from_line(mean + half, bounds)))
        return Interval(_from_line(mean, bounds), ends[0], ends[1], n, method)
    mean, half = float(array.mean()), t_half_width(array)
    low, high = max(mean - half, bounds[0]), min(mean + half, bounds[1])
    return Interval(mean, low, high, n, f"t clipped to [{bounds[0]:g}, {bounds[1]:g}]")


@dataclass(frozen=True)
class Test:
    """A one-sample test of a claim's margins against 0: its estimate, 95 % interval,
    two-sided p-value and degrees of freedom (Satterthwaite's for a seed × classifier grid)."""

    mean: float
    low: float
    high: float
    p: float
    df: float
    sd: float  # the standard deviation of one replicate's margin (for the seeds needed)
    # What the replicates needed are projected from: the seeds and classifiers tested, and the
    # variance of one seed's and of one classifier's mean margin (0 for a seeds-only test).
    seeds: int = 0
    classifiers: int = 1
    seed_var: float = 0.0
    classifier_var: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "p": self.p, "df": self.df}


def t_p_values(
    mean: np.ndarray, se: np.ndarray, df: np.ndarray | float, runs: np.ndarray | int
) -> np.ndarray:
    """Two-sided p-values of t = mean / se (elementwise). Where every run gave the same margin
    (se = 0: each run at a resolution floor, say) t is undefined, and the exact sign test
    over the `runs` stands in: 2 · ½ⁿ when the margin is not 0, else 1."""
    mean, se = np.asarray(mean, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(mean) / se, df)
    signs = np.minimum(1.0, 2 * 0.5 ** np.asarray(runs, dtype=float))
    return np.where(se > 0, p, np.where(mean != 0, signs, 1.0))


def _test(
    mean: float, se: float, df: float, sd: float, runs: int, grid: tuple[int, float, float] = ()
) -> Test:
    """`grid`, for a seeds × classifiers test: the classifiers, and the variances of one
    seed's and of one classifier's mean margin."""
    p = float(t_p_values(np.array(mean), np.array(se), df, runs))
    classifiers, seed_var, classifier_var = grid or (1, sd**2, 0.0)
    shape = {"seeds": runs, "classifiers": classifiers, "classifier_var": classifier_var}
    if se == 0:
        return Test(mean, mean, mean, p, df, 0.0, **shape)
    quantile = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df))
    low, high = mean - quantile * se, mean + quantile * se
    return Test(mean, low, high, p, df, sd, seed_var=seed_var, **shape)


def test_margins(margins: Sequence[float]) -> Test | None:
    """Student's one-sample t-test of the margins (one per training seed); None for n < 2."""
    array = np.asarray(margins, dtype=float)
    n = len(array)
    if n < 2:
        return None
    if not np.all(np.isfinite(array)):  # no mean: the exact sign test about the median
        decided = int(np.sum(array != 0))
        p = float(stats.binomtest(int(np.sum(array > 0)), decided).pvalue) if decided else 1.0
        center, low, high, _ = median_interval(array)
        return Test(center, low, high, p, n - 1, 0.0, seeds=n)
    if np.all(array == array[0]):  # exactly, not up to the rounding of a mean
        return _test(float(array[0]), 0.0, n - 1, 0.0, n)
    sd = float(array.std(ddof=1))
    return _test(float(array.mean()), sd / math.sqrt(n), n - 1, sd, n)


def test_grid(grid: np.ndarray) -> Test | None:
    """The grand mean of a seeds × classifiers grid of margins, with both as random effects.

    Var(grand mean) ≤ (MS_seeds + MS_classifiers) / (n_s · n_c) in the two-way layout without
    replication (the interaction's mean square is left in, which errs wide); degrees of
    freedom by Satterthwaite. One classifier falls back to the seeds alone.
    """
    seeds, classifiers = grid.shape
    if classifiers == 1 or not np.all(np.isfinite(grid)):
        return test_margins(grid.mean(axis=1).tolist())
    if seeds < 2:
        return None
    if np.all(grid == grid.flat[0]):
        return _test(float(grid.flat[0]), 0.0, seeds - 1, 0.0, seeds)
    mean = float(grid.mean())
    ms_seeds = classifiers * float(grid.mean(axis=1).var(ddof=1))
    ms_classifiers = seeds * float(grid.mean(axis=0).var(ddof=1))
    cells = seeds * classifiers
    a, b = ms_seeds / cells, ms_classifiers / cells
    if a + b == 0:
        return _test(mean, 0.0, seeds - 1, 0.0, seeds)
    df = (a + b) ** 2 / (a**2 / (seeds - 1) + b**2 / (classifiers - 1))
    sd = math.sqrt((a + b) * seeds)  # one seed's spread, as if the classifiers were averaged
    return _test(mean, math.sqrt(a + b), df, sd, seeds, (classifiers, a * seeds, b * classifiers))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (statsmodels): reject where adjusted p < ALPHA keeps the
    family-wise error rate at ALPHA under any dependence."""
    if not p_values:
        return []
    return [float(p) for p in multipletests(list(p_values), alpha=ALPHA, method="holm")[1]]


def holm_rows(p_values: np.ndarray) -> np.ndarray:
    """`holm` on each row of a (replications, family) array at once, for the calibration's
    thousands of families; tests/test_stats.py checks it equals statsmodels' row by row."""
    order = np.argsort(p_values, axis=1, kind="stable")
    ranked = np.take_along_axis(p_values, order, axis=1)
    family = p_values.shape[1]
    scaled = np.minimum(np.maximum.accumulate(ranked * (family - np.arange(family)), axis=1), 1)
    adjusted = np.empty_like(scaled)
    np.put_along_axis(adjusted, order, scaled, axis=1)
    return adjusted


def welch(a: Sequence[float], b: Sequence[float]) -> Test | None:
    """The difference of two setups' mean margins (a − b), Welch's unequal-variance test:
    different networks share no randomness that would pair their seeds."""
    if len(a) < 2 or len(b) < 2:
        return None
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not np.all(np.isfinite(np.concatenate([x, y]))):
        return None  # an infinite margin has no mean to compare
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    mean = float(x.mean() - y.mean())
    if va + vb == 0:
        return _test(mean, 0.0, len(x) + len(y) - 2, 0.0, min(len(x), len(y)))
    df = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1))
    return _test(
        mean, math.sqrt(va + vb), float(df), math.sqrt((va + vb) / 2), min(len(x), len(y))
    )


@dataclass(frozen=True)
class Equivalence:
    """Seed-paired differences against ±margin: their mean and (1 − 2α) interval (the
    interval two one-sided tests at α use), the TOST p (equivalent when < α) and the p of
    lying outside the margin (either side, Bonferroni over the two)."""

    mean: float
    low: float
    high: float
    n: int
    margin: float
    p_equivalent: float
    p_outside: float

    @property
    def equivalent(self) -> bool:
        return self.p_equivalent < ALPHA

    def as_dict(self) -> dict[str, float | int]:
        return dataclasses.asdict(self)


def tost(a: Sequence[float], b: Sequence[float], margin: float) -> Equivalence:
    """Two one-sided tests (statsmodels' paired TOST) of a − b against ±margin, a margin
    fixed before any number is seen. Differences without spread decide by their sign alone;
    a single pair decides nothing."""
    if margin <= 0:
        raise ValueError(f"an equivalence margin must be > 0, got {margin}")
    diffs = np.asarray(a, float) - np.asarray(b, float)
    n, mean = len(diffs), float(diffs.mean())
    if n < 2:
        return Equivalence(mean, -math.inf, math.inf, n, margin, 1.0, 1.0)
    se = float(diffs.std(ddof=1)) / math.sqrt(n)
    if se == 0:
        inside = abs(mean) < margin
        return Equivalence(mean, mean, mean, n, margin, 0.0 if inside else 1.0, 1.0 * inside)
    half = float(stats.t.ppf(1 - ALPHA, n - 1)) * se
    p_equivalent = float(
        ttost_paired(np.asarray(a, float), np.asarray(b, float), -margin, margin)[0]
    )
    above = float(stats.t.sf((mean - margin) / se, n - 1))  # H1: difference > margin
    below = float(stats.t.cdf((mean + margin) / se, n - 1))  # H1: difference < −margin
    p_outside = min(1.0, 2 * min(above, below))
    return Equivalence(mean, mean - half, mean + half, n, margin, p_equivalent, p_outside)


def power(n: int, effect: float, family: int) -> float:
    """Chance that a two-sided t-test on n seeds at ALPHA / family (Holm's first step, the
    hardest) decides an effect of `effect` seed standard deviations."""
    return grid_power(effect, 1.0, 0.0, n, 1, family)


def grid_power(
    mean: float, seed_var: float, classifier_var: float, seeds: int, classifiers: int, family: int
) -> float:
    """`power` for a seeds × classifiers grid: the grand mean's variance is seed_var / seeds
    + classifier_var / classifiers, with Satterthwaite's degrees of freedom (`test_grid`)."""
    if seeds < 2:
        return 0.0
    a, b = seed_var / seeds, classifier_var / classifiers if classifiers > 1 else 0.0
    if a + b == 0:
        return 0.0
    df = (a + b) ** 2 / (a**2 / (seeds - 1) + (b**2 / (classifiers - 1) if b else 0.0))
    shift = mean / math.sqrt(a + b)
    critical = float(stats.t.ppf(1 - ALPHA / family / 2, df))
    # The lower tail as the upper tail of the mirrored shift: scipy's nct.cdf gives NaN there.
    return float(stats.nct.sf(critical, df, shift) + stats.nct.sf(critical, df, -shift))


def replicates_needed(test: Test, family: int) -> tuple[str, int] | None:
    """What would decide an inconclusive test with POWER_TARGET, were its effect and spreads
    the true ones: ('seeds', n) more seeds than it had; or, where the classifiers' spread
    caps the power at any seed count, ('classifiers', k) with its seeds; None for neither."""
    shape = (test.mean, test.seed_var, test.classifier_var)
    for n in range(test.seeds + 1, MAX_SEEDS + 1):
        if grid_power(*shape, n, test.classifiers, family) >= POWER_TARGET:
            return "seeds", n
    if test.classifiers < 2:
        return None
    for k in range(test.classifiers + 1, MAX_SEEDS + 1):
        if grid_power(*shape, test.seeds, k, family) >= POWER_TARGET:
            return "classifiers", k
    return None
