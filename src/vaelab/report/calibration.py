"""How far a verdict can be trusted, measured by simulation through the engine's own rule.

Synthetic margins of known truth (normal, one seed standard deviation = 1) go through the
test and Holm's rule that judge the real claims (`stats.t_p_values`, Holm as
`stats.holm_rows`, a verdict from the adjusted p and the mean's sign). For a family the size
of a setup's, this measures:
- the family-wise rate of false verdicts when no claim has an effect;
- the power: how often a claim with an effect of `effect` SDs is decided, the others null;
- how often a decided verdict changes when one more seed is added.
Seeded, so the report's numbers are the same bytes on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaelab.report import stats

REPLICATIONS = 2000
EFFECTS = (0.0, 1.0, 2.0)  # seed standard deviations
SEED = 2023


@dataclass(frozen=True)
class Calibration:
    """What the simulation found for one seed count and family size."""

    seeds: int
    family: int
    false_decisions: float  # any holds / does not hold while every effect is 0 (family-wise)
    power: dict[float, float]  # effect → share of replications that decide that claim
    flips: dict[float, float]  # effect → share of decided verdicts one more seed changes

    def as_dict(self) -> dict[str, object]:
        return {
            "seeds": self.seeds,
            "family": self.family,
            "false_decisions": self.false_decisions,
            "power": {f"{e:g}": p for e, p in self.power.items()},
            "flips_with_one_more_seed": {f"{e:g}": f for e, f in self.flips.items()},
        }


def verdicts(margins: np.ndarray) -> np.ndarray:
    """+1 holds, −1 does not hold, 0 inconclusive: margins (replications, claims, seeds)."""
    seeds = margins.shape[-1]
    mean = margins.mean(axis=-1)
    se = margins.std(axis=-1, ddof=1) / np.sqrt(seeds)
    adjusted = stats.holm_rows(stats.t_p_values(mean, se, seeds - 1, seeds))
    return np.where(adjusted < stats.ALPHA, np.sign(mean), 0).astype(int)


def calibrate(seeds: int, family: int, replications: int = REPLICATIONS) -> Calibration:
    """The engine's error rate, power and stability for `seeds` seeds and `family` claims:
    claim 0 carries the effect, the others none."""
    rng = np.random.default_rng([SEED, seeds, family])
    power, flips, false = {}, {}, 0.0
    for effect in EFFECTS:
        draws = rng.standard_normal((replications, family, seeds + 1))
        draws[:, 0] += effect
        now, later = verdicts(draws[..., :seeds]), verdicts(draws)
        if effect == 0:
            false = float(np.mean(np.any(now != 0, axis=1)))
        decided = now[:, 0] != 0
        power[effect] = float(decided.mean())
        changed = later[decided, 0] != now[decided, 0]
        flips[effect] = float(changed.mean()) if decided.any() else 0.0
    return Calibration(seeds, family, false, power, flips)
