"""The verdict rule's acceptance: calibrated by simulation, Holm as statsmodels computes it,
and intervals that never leave the range of what they measure."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from vaelab.report import calibration, stats
from vaelab.report.claims import CLAIMS

FAMILY = sum(record.unit != "deterministic" for record in CLAIMS)


@pytest.mark.parametrize("seeds", [3, 5, 8])
def test_no_effect_gives_a_false_verdict_in_at_most_5_percent_family_wise(seeds: int) -> None:
    found = calibration.calibrate(seeds, FAMILY)
    assert found.false_decisions <= 0.05
    assert 0 <= found.flips[2.0] <= 1


def test_eight_seeds_decide_an_effect_of_two_standard_deviations_80_percent_of_the_time():
    found = calibration.calibrate(8, FAMILY)
    assert found.power[2.0] >= 0.80
    assert found.power[1.0] < found.power[2.0]
    assert calibration.calibrate(3, FAMILY).power[2.0] < 0.2  # why 3 seeds say little


def test_holm_rows_is_statsmodels_holm_row_by_row() -> None:
    p = np.random.default_rng(0).uniform(0, 0.2, (50, FAMILY))
    expected = np.array([multipletests(row, method="holm")[1] for row in p])
    np.testing.assert_allclose(stats.holm_rows(p), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "bounds", [stats.POSITIVE, stats.UNIT, (0.0, math.log2(10)), (0.1 / 0.99, 1 / 0.98)]
)
def test_an_interval_stays_inside_its_quantitys_range(bounds) -> None:
    rng = np.random.default_rng(1)
    low, high = bounds
    top = high if math.isfinite(high) else 10.0
    for _ in range(200):
        values = rng.uniform(low, top, rng.integers(2, 6))
        values[rng.random(len(values)) < 0.2] = low  # some on the bound (0 bits, KL 0)
        found = stats.interval(values.tolist(), bounds)
        assert low <= found.low <= found.center <= found.high <= high, (values, found)


def test_an_unbounded_interval_is_the_plain_t_interval() -> None:
    values = [0.3, -1.2, 2.5, 0.9]
    found = stats.interval(values)
    expected = stats_t_interval(values)
    assert (found.low, found.high) == pytest.approx(expected, rel=1e-12)


def stats_t_interval(values: list[float]) -> tuple[float, float]:
    from scipy import stats as scipy_stats

    array = np.asarray(values)
    scale = scipy_stats.sem(array)
    return scipy_stats.t.interval(0.95, len(array) - 1, loc=array.mean(), scale=scale)


def test_classifier_disagreement_widens_a_grid_interval() -> None:
    """Seeds agree; classifiers do not: the grid test counts the classifiers' spread."""
    grid = np.array([[1.0, 0.2, 1.8], [1.1, 0.3, 1.9], [0.9, 0.1, 1.7]])
    seeds_only = stats.test_margins(grid.mean(axis=1).tolist())
    both = stats.test_grid(grid)
    assert both.high - both.low > 5 * (seeds_only.high - seeds_only.low)
    assert both.p > seeds_only.p


def test_equivalence_needs_the_whole_difference_inside_the_margin() -> None:
    a = [1.00, 1.02, 0.98, 1.01, 0.99]
    assert stats.equivalent(a, [v + 0.005 for v in a[::-1]], margin=0.1)[0]
    assert not stats.equivalent(a, [v + 0.5 + 0.01 * i for i, v in enumerate(a)], margin=0.1)[0]
    with pytest.raises(ValueError, match="margin must be > 0"):
        stats.equivalent(a, a, margin=0)
