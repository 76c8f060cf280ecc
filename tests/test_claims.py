"""Claim checks on small hand-built metrics whose verdicts can be worked out by hand.

`study_like()` is a run in which every claim of the study holds; each test breaks one number
and checks that exactly the claims resting on it change verdict.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from vaelab.core.names import Run
from vaelab.report.claims import check_setup
from vaelab.report.evidence import Evidence
from vaelab.report.trend import trend

RUN = Run("study", 42)


def check_all(ev: Evidence):
    """One seed: each verdict is the sign of its margin."""
    return check_setup([ev])


BETAS = (0.0, 1.0, 5.0, 50.0, 200.0, 500.0)
CHECKPOINTS = (1, 5, 10, 20)
# Per β at the last epoch: aggregate KL, N(0, I) confidence ratio and class entropy,
# test recon, N(1, 0.5²) confidence ratio.
FINAL = {
    0.0: {"agg": 8.0, "conf": 0.50, "H": 1.0, "recon": 27.0, "shifted": 0.60},
    1.0: {"agg": 1.0, "conf": 0.80, "H": 3.0, "recon": 28.0, "shifted": 0.85},
    5.0: {"agg": 0.5, "conf": 0.90, "H": 3.0, "recon": 29.0, "shifted": 0.90},
    50.0: {"agg": 0.1, "conf": 1.005, "H": 3.0, "recon": 40.0, "shifted": 0.95},
    200.0: {"agg": 0.02, "conf": 0.98, "H": 2.0, "recon": 52.0, "shifted": 0.9},
    500.0: {"agg": 0.01, "conf": 0.97, "H": 2.0, "recon": 53.0, "shifted": 0.9},
}


def _checkpoint(beta: float, epoch: int) -> dict[str, Any]:
    final = FINAL[beta]
    return {
        "recon": final["recon"] if epoch >= 5 else final["recon"] + 20,
        "kl": 3.0,
        "kl_share": 0.005 if epoch == 1 else 0.2,
        "aggregate_posterior": {"kl_to_prior": final["agg"]},
        "prior_confidence_ratio": final["conf"],
        "prior_class_entropy_bits": final["H"],
        "shifted_confidence_ratio": final["shifted"],
        "shifted_class_entropy_bits": 2.5,
    }


def _shares(beta: float) -> list[tuple[int, float]]:
    """The objective's test KL share per epoch (dvclive): below 1 % at epoch 1, then rising."""
    return [(epoch, 0.005 if epoch == 1 else 0.2) for epoch in CHECKPOINTS]


def study_like() -> dict[str, Any]:
    """The keyword arguments of an Evidence in which every claim holds."""
    evals = {f"vae_beta_{b:g}": {"baseline_confidence": 0.99} for b in BETAS}
    for beta in BETAS:
        for epoch in CHECKPOINTS:
            evals[f"vae_beta_{beta:g}"][f"epoch_{epoch:03d}"] = _checkpoint(beta, epoch)
    evals["ae"] = {"epoch_020": {"recon": 25.0, "aggregate_posterior": {"kl_to_prior": 10.0}}}
    return {
        "run": RUN,
        "betas": BETAS,
        "checkpoints": CHECKPOINTS,
        "curves": {f"vae_beta_{b:g}": {"test/kl_share": _shares(b)} for b in BETAS},
        "shifted_name": "N(1, 0.5²)",
        "evals": evals,
        "figures": {"redecode_pixel_std": {"vae": 0.01, "ae": 0.0}, "example_beta": 1.0},
        "classifier": {"test_accuracy_min": 0.98, "baseline_confidence": 0.99},
    }


def verdicts(**changes: Any) -> dict[str, str]:
    return {claim.key: claim.verdict for claim in check_all(Evidence(**changes))}


def final(kwargs: dict[str, Any], beta: float | None) -> dict[str, Any]:
    name = "ae" if beta is None else f"vae_beta_{beta:g}"
    return kwargs["evals"][name]["epoch_020"]


def test_every_claim_holds_on_study_like_numbers() -> None:
    assert set(verdicts(**study_like()).values()) == {"holds"}


def test_numbers_are_reported() -> None:
    claims = {c.key: c for c in check_all(Evidence(**study_like()))}
    assert claims["1"].numbers["AE / VAE"] == pytest.approx(10.0)
    assert claims["6"].numbers["best large / worst small"] == pytest.approx(52.0 / 29.0)
    assert claims["5"].numbers["β=1"] == "28 → 28 (+0.0%)"


def _broken(edit) -> dict[str, str]:
    kwargs = copy.deepcopy(study_like())
    edit(kwargs)
    return verdicts(**kwargs)


def _set(beta: float | None, path: tuple[str, ...], value: Any, epoch: str = "epoch_020"):
    def edit(kwargs: dict[str, Any]) -> None:
        name = "ae" if beta is None else f"vae_beta_{beta:g}"
        row = kwargs["evals"][name][epoch]
        for part in path[:-1]:
            row = row[part]
        row[path[-1]] = value

    return edit


def _share(beta: float, epoch: int, value: float):
    def edit(kwargs: dict[str, Any]) -> None:
        curve = kwargs["curves"][f"vae_beta_{beta:g}"]["test/kl_share"]
        curve[:] = [(e, value if e == epoch else v) for e, v in curve]

    return edit


AGG = ("aggregate_posterior", "kl_to_prior")
CASES = {
    # AE at 3 nats is only 3× the β = 1 VAE's 1 nat: not "much" (5×) closer.
    "AE barely farther": (_set(None, AGG, 3.0), {"1"}),
    # β = 200 at 0.6 nats rises 0.5 above β = 50's 0.1: more than 5 % of the range over β ≥ 1
    # (0.03 nat) and over all β (0.4 nat).
    "β=200 less normal": (_set(200.0, AGG, 0.6), {"3a", "3b"}),
    # The same 0.2-nat rise is a tie among all β (range 8 nats) but not among β ≥ 1 (1 nat).
    "β=200 slightly less normal": (_set(200.0, AGG, 0.3), {"3a"}),
    # β = 0 at 0.5 nats is below β = 1's 1.0: only the all-β trend breaks.
    "β=0 more normal": (_set(0.0, AGG, 0.5), {"3b"}),
    # β = 0's samples at 0.95 confidence and 3.2 bits are neither lowest; 0.95 → 0.8 also falls.
    "β=0 recognisable": (
        lambda k: (
            _set(0.0, ("prior_confidence_ratio",), 0.95)(k),
            _set(0.0, ("prior_class_entropy_bits",), 3.2)(k),
        ),
        {"4a", "4b"},
    ),
    # β = 5 at 0.7 falls 0.1 > 0.02 below β = 1's 0.8.
    "confidence dips": (_set(5.0, ("prior_confidence_ratio",), 0.7), {"4b"}),
    # β = 1 recon 40 at epoch 5 → 28 at epoch 20 is a 30 % change > 10 %.
    "late recon change": (_set(1.0, ("recon",), 40.0, "epoch_005"), {"5"}),
    # β = 200 recon 35 is only 35 / 29 = 1.2× the worst small β (< 1.5×).
    "β=200 reconstructs": (_set(200.0, ("recon",), 35.0), {"6"}),
    # β = 5's KL share falls from 0.5 % to 0.2 %: by more than the 0.1 % tie.
    "share falls": (_share(5.0, 20, 0.002), {"7a"}),
    # β = 0 starts at a 2 % share ≥ 1 %.
    "share starts high": (_share(0.0, 1, 0.02), {"7b"}),
    # β = 50's samples at 0.95 and every other β ≥ 50 below 1.
    "high β below real": (_set(50.0, ("prior_confidence_ratio",), 0.95), {"8"}),
    # β = 5 at 0.59 falls below β = 0's 0.60.
    "shifted below": (_set(5.0, ("shifted_confidence_ratio",), 0.59), {"9"}),
    "AE re-decodes vary": (
        lambda k: k["figures"]["redecode_pixel_std"].__setitem__("ae", 0.001),
        {"2"},
    ),
    "VAE re-decodes identical": (
        lambda k: k["figures"]["redecode_pixel_std"].__setitem__("vae", 0.0),
        {"2"},
    ),
    "weak classifier": (
        lambda k: k["classifier"].__setitem__("test_accuracy_min", 0.8),
        {"10"},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_claim_can_fail(case: str) -> None:
    edit, failing = CASES[case]
    found = _broken(edit)
    assert {key for key, v in found.items() if v == "does not hold"} == failing
    assert {key for key, v in found.items() if v == "holds"} == set(found) - failing


def test_a_tiny_but_monotone_kl_fall_holds() -> None:
    """A fixed tie in nats would call this level: 0.031 → 0.009 → 0.004 → 1e-7 nats."""
    kwargs = study_like()
    falling = {1.0: 0.031, 5.0: 0.009, 50.0: 0.004, 200.0: 1e-6, 500.0: 1e-7}
    for beta, kl in falling.items():
        _set(beta, AGG, kl)(kwargs)
    assert verdicts(**kwargs)["3a"] == "holds"


def test_changes_print_their_sign_and_4a_names_its_deciding_criterion() -> None:
    kwargs = study_like()
    _set(1.0, ("recon",), 40.0, "epoch_005")(kwargs)
    _set(0.0, ("prior_class_entropy_bits",), 3.2)(kwargs)
    claims = {c.key: c for c in check_all(Evidence(**kwargs))}
    assert claims["5"].numbers["β=1"] == "40 → 28 (-30.0%)"
    assert claims["4a"].verdict == "holds"
    assert claims["4a"].note.endswith("β = 0 is lowest in: confidence ratio")


def test_classifiers_that_disagree_make_a_confidence_claim_inconclusive() -> None:
    """β = 50's samples beat real digits on the ensemble's mean (1.005) and under classifier 7
    (1.02), but not under classifier 8 (0.99): claim 8 rests on which classifier was trained."""
    kwargs = study_like() | {"classifier_seeds": (7, 8)}
    _set(50.0, ("prior_confidence_ratio_by_classifier",), [1.02, 0.99])(kwargs)
    claims = {c.key: c for c in check_all(Evidence(**kwargs))}
    assert claims["8"].verdict == "inconclusive"
    assert "holds under classifier seed 7, not under 8" in claims["8"].note
    assert {c.verdict for k, c in claims.items() if k != "8"} == {"holds"}
    _set(50.0, ("prior_confidence_ratio_by_classifier",), [1.02, 1.01])(kwargs)
    assert verdicts(**kwargs)["8"] == "holds"  # both agree with the mean


def test_failing_note_says_finding_not_failure() -> None:
    kwargs = study_like()
    _set(None, AGG, 3.0)(kwargs)
    claim = next(c for c in check_all(Evidence(**kwargs)) if c.key == "1")
    assert claim.verdict == "does not hold"
    assert "a finding, not a failure" in claim.note


def test_missing_model_is_not_measured_and_names_the_stage() -> None:
    kwargs = study_like()
    del kwargs["evals"]["vae_beta_50"]
    claims = {c.key: c for c in check_all(Evidence(**kwargs))}
    needs_50 = {"3a", "3b", "4a", "4b", "7a", "7b", "8"}
    for key, claim in claims.items():
        if key in needs_50:
            assert claim.verdict == "not measured"
            assert "`dvc repro evaluate_vae@study-50`" in claim.note
            assert claim.numbers == {}
        else:
            assert claim.verdict == "holds", key


def test_missing_inputs_name_their_stages() -> None:
    kwargs = study_like()
    kwargs["figures"] = None
    del kwargs["evals"]["ae"]
    kwargs["classifier"] = None
    kwargs["checkpoints"] = (1, 10, 20)
    claims = {c.key: c for c in check_all(Evidence(**kwargs))}
    assert "`dvc repro figures@study`" in claims["2"].note
    assert "`dvc repro evaluate_ae@study`" in claims["1"].note
    assert "`dvc repro train_classifier`" in claims["10"].note
    assert "add 5 to train.checkpoints" in claims["5"].note
    assert {c.verdict for k, c in claims.items() if k in {"1", "2", "5", "10"}} == {"not measured"}


def test_beta_outside_params_says_to_add_it() -> None:
    kwargs = study_like()
    kwargs["betas"] = tuple(b for b in BETAS if b != 1.0)
    del kwargs["evals"]["vae_beta_1"]
    claim = next(c for c in check_all(Evidence(**kwargs)) if c.key == "1")
    assert claim.verdict == "not measured"
    assert "add 1 to vae.betas" in claim.note


def test_trend_counts_steps_and_ranks() -> None:
    # 3 → 2 falls by 1; 2 → 2.01 rises by 0.01, within the 0.05 tie: level, not against.
    found = trend([1, 5, 50], [3.0, 2.0, 2.01], rising=False, tie=0.05)
    assert (found["steps"], found["with"], found["against"]) == (2, 1, 0)
    # ranks (1, 2, 3) vs (3, 1, 2): Pearson of ranks = −0.5, signed + for "falling".
    assert found["spearman"] == pytest.approx(0.5)
    assert math.isnan(trend([1, 2], [1.0, 1.0], rising=True, tie=0.0)["spearman"])


def _seeds(margins_of_beta50: list[float]) -> list[Evidence]:
    """Three training seeds that differ only in β = 50's N(0, I) confidence ratio (claim 8's
    margin is the highest ratio of β ≥ 50 minus 1; β = 200 and 500 stay far below 1)."""
    runs = []
    for seed, ratio in zip((42, 43, 44), margins_of_beta50, strict=True):
        kwargs = copy.deepcopy(study_like())
        for beta in (200.0, 500.0):
            _set(beta, ("prior_confidence_ratio",), 0.5)(kwargs)
        _set(50.0, ("prior_confidence_ratio",), 1.0 + ratio)(kwargs)
        runs.append(Evidence(**kwargs | {"run": Run("study", seed)}))
    return runs


@pytest.mark.parametrize(
    ("margins", "verdict"),
    [
        ([0.02, 0.03, 0.025], "holds"),  # every seed above 1, tightly: the interval excludes 0
        ([-0.02, -0.03, -0.025], "does not hold"),
        ([0.05, -0.04, 0.01], "inconclusive"),  # the interval straddles 0
        ([0.2, 0.001, 0.002], "inconclusive"),  # all above, but too spread to exclude 0
    ],
)
def test_verdict_comes_from_the_interval_over_seeds(margins, verdict) -> None:
    claim = next(c for c in check_setup(_seeds(margins)) if c.key == "8")
    assert claim.verdict == verdict
    assert claim.margin.n == 3 and claim.margin.low <= claim.margin.mean <= claim.margin.high
    assert claim.by_seed == pytest.approx(dict(zip((42, 43, 44), margins, strict=True)))
    if verdict == "inconclusive":
        assert "contains 0" in claim.note


def test_the_interval_is_students_t() -> None:
    from vaelab.report.interval import t_interval

    found = t_interval([1.0, 2.0, 3.0])  # mean 2, s = 1, t(0.975, 2) = 4.303
    assert (found.low, found.high) == pytest.approx((2 - 4.303 / 3**0.5, 2 + 4.303 / 3**0.5))
    assert t_interval([5.0]).side() == 0


def test_every_numeric_number_gets_an_interval_over_seeds() -> None:
    claim = next(c for c in check_setup(_seeds([0.02, 0.03, 0.025])) if c.key == "8")
    found = claim.intervals["β=50 conf"]
    assert found.n == 3 and found.mean == pytest.approx(1.025)
    assert found.low < 1.02 < 1.03 < found.high
