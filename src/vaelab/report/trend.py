"""How monotone a metric is in β: the statistic behind the study's "higher β gives …" claims."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def trend(
    betas: Sequence[float], values: Sequence[float], rising: bool, tie: float
) -> dict[str, float]:
    """How monotone `values` are in β: adjacent steps against the claimed way, and Spearman ρ.

    A step within ±`tie` is level and does not count against; ρ is signed so that +1 is a
    perfect trend in the claimed direction (NaN when the values are all equal). `margin` is
    > 0 exactly when no step goes against and some step goes with the trend: the worse of
    (smallest step + tie) and (largest step − tie), in the values' units.
    """
    order = np.argsort(betas)
    steps = np.diff(np.asarray(values, dtype=float)[order]) * (1 if rising else -1)
    ranks_beta = pd.Series(np.asarray(betas, dtype=float)).rank().to_numpy()
    ranks_value = pd.Series(np.asarray(values, dtype=float)).rank().to_numpy()
    rho = float("nan")
    if np.ptp(ranks_value) > 0:
        rho = float(np.corrcoef(ranks_beta, ranks_value)[0, 1]) * (1 if rising else -1)
    return {
        "steps": len(steps),
        "against": int(np.sum(steps < -tie)),
        "with": int(np.sum(steps > tie)),
        "spearman": rho,
        "margin": float(min(steps.min() + tie, steps.max() - tie)),
    }
