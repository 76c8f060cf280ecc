"""The statistics behind a verdict, checked against scipy and statsmodels computed directly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests

from vaelab.report import stats

ENTROPY_BITS = (0.0, math.log2(10))  # a class entropy over 10 digits


def scipy_t_interval(values: np.ndarray) -> tuple[float, float]:
    return scipy_stats.t.interval(
        0.95, len(values) - 1, loc=values.mean(), scale=scipy_stats.sem(values)
    )


@pytest.mark.parametrize("bounds", [stats.POSITIVE, stats.UNIT, ENTROPY_BITS])
def test_an_interval_never_leaves_its_bounds(bounds: stats.Bounds) -> None:
    """Small, spread samples (where a raw t interval would cross a bound), some with values
    on a bound (a KL or entropy of exactly 0, a share of 1)."""
    rng = np.random.default_rng(7)
    low, high = bounds
    top = high if math.isfinite(high) else 5.0
    methods = set()
    for _ in range(500):
        n = int(rng.integers(2, 7))
        values = low + (top - low) * rng.beta(0.3, 0.3, n)  # piled up near both ends
        on_bound = rng.random(n) < 0.15
        values[on_bound] = rng.choice([low, high] if math.isfinite(high) else [low], n)[on_bound]
        found = stats.interval(values.tolist(), bounds)
        assert low <= found.low <= found.center <= found.high <= high, (values, found)
        assert found.n == n
        methods.add(found.method.split(" [")[0])
    assert {"t on log" if math.isinf(high) else "t on logit", "t clipped to"} <= methods


def test_an_interval_just_past_a_bound_is_float_rounding_and_stays_inside() -> None:
    found = stats.interval([-1e-9, 0.5, 2.0], stats.POSITIVE)
    assert found.low == 0.0 and found.method == "t clipped to [0, inf]"


def test_an_unbounded_interval_is_scipys_t_interval() -> None:
    values = np.array([0.3, -1.2, 2.5, 0.9, 0.1])
    found = stats.interval(values.tolist())
    assert found.method == "t"
    assert found.center == pytest.approx(values.mean())
    assert (found.low, found.high) == pytest.approx(scipy_t_interval(values), rel=1e-12)


def test_a_positive_interval_is_the_t_interval_of_the_logs_mapped_back() -> None:
    values = np.array([0.5, 2.0, 1.0])
    found = stats.interval(values.tolist(), stats.POSITIVE)
    low, high = scipy_t_interval(np.log(values))
    assert found.center == pytest.approx(1.0)  # the geometric mean
    assert (found.low, found.high) == pytest.approx((math.exp(low), math.exp(high)))


@pytest.mark.parametrize(
    ("values", "method"),
    [([0.3], "one value"), ([2.0, 2.0, 2.0], "equal"), ([0.0, 0.0], "equal")],
)
def test_an_interval_of_identical_values_is_a_point(values: list[float], method: str) -> None:
    found = stats.interval(values, stats.POSITIVE)
    assert (found.center, found.low, found.high) == (values[0],) * 3
    assert (found.n, found.method) == (len(values), method)


def test_test_margins_is_scipys_one_sample_t_test() -> None:
    margins = np.array([0.4, 0.1, 0.7, 0.3])
    found = stats.test_margins(margins.tolist())
    expected = scipy_stats.ttest_1samp(margins, 0.0)
    assert found.p == pytest.approx(expected.pvalue, rel=1e-12)
    assert (found.low, found.high) == pytest.approx(scipy_t_interval(margins), rel=1e-12)
    assert found.df == 3
    assert stats.test_margins([0.4]) is None


def test_classifiers_that_disagree_widen_the_grid_interval() -> None:
    """Seeds agree; classifier 2 sees a margin 1.6 below classifier 3's: the grid test counts
    that spread, the seeds' means alone do not."""
    grid = np.array([[1.0, 0.2, 1.8], [1.1, 0.3, 1.9], [0.9, 0.1, 1.7], [1.0, 0.25, 1.75]])
    seeds_only = stats.test_margins(grid.mean(axis=1).tolist())
    both = stats.test_grid(grid)
    assert both.mean == pytest.approx(seeds_only.mean)
    assert both.high - both.low > 5 * (seeds_only.high - seeds_only.low)
    assert both.p > seeds_only.p
    seeds, classifiers = grid.shape
    assert min(seeds, classifiers) - 1 <= both.df <= seeds + classifiers - 2


def test_satterthwaite_df_lies_between_its_extremes() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        seeds, classifiers = (int(k) for k in rng.integers(2, 9, 2))
        grid = rng.normal(0, rng.uniform(0.1, 2, classifiers), (seeds, classifiers))
        grid += rng.normal(0, rng.uniform(0.1, 2), (seeds, 1))
        df = stats.test_grid(grid).df
        assert min(seeds, classifiers) - 1 - 1e-9 <= df <= seeds + classifiers - 2 + 1e-9


def test_a_grid_of_one_classifier_is_the_seeds_test_and_of_one_seed_none() -> None:
    column = np.array([[0.2], [0.5], [0.4]])
    assert stats.test_grid(column) == stats.test_margins([0.2, 0.5, 0.4])
    assert stats.test_grid(np.array([[0.2, 0.5, 0.4]])) is None


def test_t_p_values_of_identical_margins_fall_back_to_the_sign_test() -> None:
    """No spread leaves t undefined: n runs all on one side give the exact sign test's
    2 · ½ⁿ (not a certainty), a zero mean gives 1."""
    p = stats.t_p_values(np.array([0.3, 0.0, -0.2, 0.3]), np.zeros(4), 4, np.array([5, 5, 5, 1]))
    assert p.tolist() == [2 * 0.5**5, 1.0, 2 * 0.5**5, 1.0]
    assert stats.test_margins([6.9, 6.9, 6.9]).p == 0.25  # three seeds can never decide it


def test_holm_rows_is_statsmodels_holm_row_by_row() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.3, (200, 13))
    p[:, 5] = p[:, 2]  # ties
    p[:10] = rng.uniform(0, 1, (10, 13))  # adjusted values capped at 1
    expected = np.array([multipletests(row, method="holm")[1] for row in p])
    np.testing.assert_allclose(stats.holm_rows(p), expected, rtol=1e-12)
    assert stats.holm(p[0].tolist()) == pytest.approx(expected[0].tolist(), rel=1e-12)
    assert stats.holm([]) == []


def test_welch_is_scipys_unequal_variance_test() -> None:
    a, b = [0.5, 0.7, 0.4, 0.9], [0.1, 0.3, 0.2, 0.0, 0.6]
    found = stats.welch(a, b)
    expected = scipy_stats.ttest_ind(a, b, equal_var=False)
    assert found.mean == pytest.approx(np.mean(a) - np.mean(b))
    assert found.p == pytest.approx(expected.pvalue, rel=1e-12)
    assert stats.welch([0.5], b) is None


def test_equivalence_needs_the_difference_within_the_margin() -> None:
    a = [1.00, 1.02, 0.98, 1.01, 0.99, 1.00]
    nearly = [v + 0.004 * (-1) ** i for i, v in enumerate(a)]
    found = stats.tost(a, nearly, margin=0.1)
    assert found.equivalent and found.p_equivalent < stats.ALPHA
    assert found.low < found.mean < found.high and found.p_outside > 0.5
    far = [v + 0.3 + 0.01 * i for i, v in enumerate(a)]
    found = stats.tost(a, far, margin=0.1)
    assert not found.equivalent and found.p_equivalent > 0.5
    assert found.p_outside < stats.ALPHA and found.high < -0.1
    for margin in (0.0, -0.1):
        with pytest.raises(ValueError, match="margin must be > 0"):
            stats.tost(a, nearly, margin=margin)


def test_power_grows_with_the_effect_and_eight_seeds_decide_two_sds() -> None:
    effects = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
    powers = [stats.power(8, e, 13) for e in effects]
    assert powers == sorted(powers) and powers[0] < stats.ALPHA
    assert stats.power(8, 2.0, 13) >= 0.80
    assert stats.power(1, 5.0, 13) == 0.0


def _seeds_test(effect: float, seeds: int = 3) -> stats.Test:
    """A seeds-only test whose margins have mean `effect` and standard deviation 1."""
    return stats.Test(effect, 0.0, 0.0, 1.0, seeds - 1, 1.0, seeds=seeds, seed_var=1.0)


def test_seeds_needed_fall_with_the_effect() -> None:
    needed = [stats.replicates_needed(_seeds_test(e), 13) for e in (0.5, 1.0, 2.0, 3.0)]
    assert [kind for kind, _ in needed] == ["seeds"] * 4
    counts = [n for _, n in needed]
    assert counts == sorted(counts, reverse=True)
    assert counts[2] <= 8  # consistent with power(8, 2.0, 13) ≥ 0.8
    assert stats.replicates_needed(_seeds_test(0.0), 13) is None  # no count decides no effect


def test_power_is_finite_and_the_seeds_needed_are_the_fewest_past_those_tested() -> None:
    effects = np.linspace(0.5, 6.0, 12)
    for n in range(2, 12):
        assert all(np.isfinite([stats.power(n, e, 13) for e in effects])), n
    for effect in effects:
        kind, n = stats.replicates_needed(_seeds_test(effect), 13)
        assert kind == "seeds" and n >= 4
        assert stats.power(n, effect, 13) >= stats.POWER_TARGET
        assert n == 4 or stats.power(n - 1, effect, 13) < stats.POWER_TARGET, effect
        assert stats.grid_power(effect, 1.0, 0.0, n, 1, 13) == stats.power(n, effect, 13)


def test_classifiers_whose_spread_caps_the_power_are_what_is_needed() -> None:
    """Study claim 8 on 8 seeds: every margin near −0.8, but three classifiers that differ
    (−0.63, −0.92, −0.88): df ≈ 2, so no seed count decides it and more classifiers would."""
    seed_noise = np.array([0.0, 0.01, -0.01, 0.015, -0.005, 0.0, -0.03, 0.004])
    grid = np.array([-0.63, -0.92, -0.88])[None, :] + seed_noise[:, None]
    test = stats.test_grid(grid)
    assert (test.seeds, test.classifiers) == (8, 3) and test.df < 3
    kind, k = stats.replicates_needed(test, 13)
    assert kind == "classifiers" and k > 3
    shape = (test.mean, test.seed_var, test.classifier_var)
    assert stats.grid_power(*shape, 8, k, 13) >= stats.POWER_TARGET
    assert stats.grid_power(*shape, 8, k - 1, 13) < stats.POWER_TARGET
    assert stats.grid_power(*shape, stats.MAX_SEEDS, 3, 13) < stats.POWER_TARGET


def test_infinite_values_get_the_median_and_its_order_statistic_interval() -> None:
    """A collapsed model's means are one point, so a Gaussian fitted to them is infinitely far
    from N(0, I): such a value has no mean, and the interval falls back to order statistics."""
    values = [math.inf, 35.9, math.inf, 40.6, 23.7, math.inf, math.inf, math.inf]
    found = stats.interval(values, stats.POSITIVE)
    assert (found.center, found.low, found.high) == (math.inf, 23.7, math.inf)
    assert found.method == "median, order statistics (99%)"  # x(1), x(8) of 8: 1 − 2/2⁸
    center, low, high, coverage = stats.median_interval(np.arange(20.0))
    assert (center, low, high) == (9.0, 5.0, 14.0)  # x(6), x(15): the widest k with ≥ 95 %
    assert coverage == pytest.approx(1 - 2 * scipy_stats.binom.cdf(5, 20, 0.5))


def test_infinite_margins_are_judged_by_the_exact_sign_test() -> None:
    margins = [-math.inf, -5.1, -math.inf, -4.9, -4.8, -math.inf, -math.inf, -math.inf]
    test = stats.test_margins(margins)
    assert test.p == pytest.approx(2 * 0.5**8) and test.mean == -math.inf
    assert test.low == -math.inf and test.high == -4.8
    grid = np.array([margins, margins, margins]).T
    assert stats.test_grid(grid) == test
    assert stats.welch(margins, [1.0, 2.0, 3.0]) is None
