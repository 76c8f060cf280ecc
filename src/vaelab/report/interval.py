"""Student-t 95 % intervals over training seeds: how a verdict tells an effect from noise."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

CONFIDENCE = 0.95
# t quantiles at 0.975 for 1–30 degrees of freedom (any statistics table); beyond 30 the
# Cornish–Fisher expansion below is within 1e-4 of them.
T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z_975 = 1.959964


def t_quantile(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom."""
    if df < 1:
        raise ValueError("a t interval needs at least two values")
    if df <= len(T_975):
        return T_975[df - 1]
    z = Z_975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Interval:
    """A mean over n values and its 95 % t interval (low = high = mean when n = 1)."""

    mean: float
    low: float
    high: float
    n: int

    def side(self) -> int:
        """+1 when the interval lies above 0, −1 below, 0 when it contains 0 (or n = 1)."""
        if self.n < 2:
            return 0
        return 1 if self.low > 0 else -1 if self.high < 0 else 0

    def as_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}


def t_interval(values: list[float]) -> Interval:
    """mean ± t(0.975, n−1) · s / √n; a single value has no interval."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Interval(mean, mean, mean, len(values))
    half = t_quantile(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return Interval(mean, mean - half, mean + half, len(values))
