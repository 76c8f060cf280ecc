"""The verdict rule's acceptance by simulation (calibration.REPLICATIONS = 2000 families):
at most 5 % family-wise false decisions, 80 % power for two SDs on eight seeds."""

from __future__ import annotations

import numpy as np
import pytest

from vaelab.core import params
from vaelab.report import calibration, write
from vaelab.report.claims import CLAIMS

FAMILY = 13  # the study's claims that a test decides (all but the deterministic claim 2)


def test_the_family_is_the_studys_tested_claims() -> None:
    assert sum(record.unit != "deterministic" for record in CLAIMS) == FAMILY
    assert calibration.REPLICATIONS == 2000


@pytest.mark.parametrize("seeds", [3, 5, 8])
def test_no_effect_gives_a_false_decision_in_at_most_5_percent_of_families(seeds: int) -> None:
    found = calibration.calibrate(seeds, FAMILY)
    assert found.false_decisions <= 0.05
    assert found.power[0.0] <= found.false_decisions  # claim 0 is one of the family
    assert all(0 <= flips <= 1 for flips in found.flips.values())
    assert set(found.power) == set(found.flips) == set(calibration.EFFECTS)


def test_the_study_setups_seeds_decide_an_effect_of_two_sds_at_least_80_percent_of_the_time():
    """The acceptance target, at the seed count params.yaml gives the study setup."""
    seeds = len(params.load_setup("study").train.seeds)
    assert seeds == write.CALIBRATED_SEEDS == 8
    found = calibration.calibrate(seeds, FAMILY)
    assert found.power[2.0] >= 0.80
    assert found.power[0.0] < found.power[1.0] < found.power[2.0]
    assert calibration.calibrate(3, FAMILY).power[2.0] < found.power[2.0]


def test_calibration_is_seeded() -> None:
    assert calibration.calibrate(5, FAMILY, 200) == calibration.calibrate(5, FAMILY, 200)


def test_verdicts_are_the_sign_of_a_decided_mean() -> None:
    """Claim 0 clearly above 0, claim 1 clearly below, claim 2 centred on 0."""
    margins = np.array([[[5.0, 5.1, 4.9, 5.2], [-3.0, -3.1, -2.9, -3.05], [0.1, -0.1, 0.2, -0.2]]])
    assert calibration.verdicts(margins).tolist() == [[1, -1, 0]]
