"""Claim 11 (Laplace ≈ N(0, 1)) on hand-built evidence: two setups whose numbers agree, differ
by more than a margin, or sit on a margin; twins found by their params; collapsed pairs."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest
from test_claims import EIGHT_SEEDS, collapse_beta, setup_of

from vaelab.core import params
from vaelab.core.names import Run, epoch_key, model_name
from vaelab.report import stats
from vaelab.report.equivalence import LAPLACE, judge_equivalence, judge_families, twin_of
from vaelab.report.sections_equivalence import equivalence_blocks, equivalence_summary

REPO = Path(__file__).resolve().parents[1]
OTHER_NOISE = 1000  # the Laplace runs' numbers jitter with seed + this: same sizes, new noise


def laplace_of(seeds, edit=None):
    """The Laplace setup's runs: the study-like numbers with their own noise, under the
    same seeds (so they pair with the normal setup's)."""

    def relabel(seed: int, kwargs: dict[str, Any]) -> None:
        if edit is not None:
            edit(seed, kwargs)
        kwargs["run"] = Run("laplace", seed - OTHER_NOISE)

    return setup_of([s + OTHER_NOISE for s in seeds], relabel)


def scale_recon(beta: float, factor) -> Any:
    def edit(seed: int, kwargs: dict[str, Any]) -> None:
        row = kwargs["evals"][model_name(beta)][epoch_key(20)]
        row["recon"] *= factor(seed) if callable(factor) else factor

    return edit


def judge(runs, twins):
    return judge_equivalence(LAPLACE, "laplace", "study", runs, twins)


def test_the_same_numbers_with_other_noise_are_equivalent():
    claim = judge(laplace_of(EIGHT_SEEDS), setup_of(EIGHT_SEEDS))
    assert claim.verdict == "holds", claim.note
    assert len(claim.pairs) == 6 * len(LAPLACE.quantities)
    assert all(p.test.equivalent and p.test.n == 8 for p in claim.pairs)
    assert claim.readings == (("β where no run of either setup collapsed", "holds"),)
    for p in claim.pairs:  # an interval of a ratio stays positive; the margin's inside it
        assert -p.quantity.margin < p.test.low <= p.test.mean <= p.test.high < p.quantity.margin


def test_a_recon_twenty_percent_higher_does_not_hold_and_is_named():
    claim = judge(laplace_of(EIGHT_SEEDS, scale_recon(5.0, 1.2)), setup_of(EIGHT_SEEDS))
    assert claim.verdict == "does not hold"
    outside = [p for p in claim.pairs if p.outside]
    assert {(p.beta, p.quantity.label) for p in outside} == {
        (5.0, "test recon"),
        (5.0, "test recon + KL (−ELBO)"),
    }
    assert "β = 5 test recon" in claim.note
    recon = next(p for p in outside if p.quantity.label == "test recon")
    assert math.exp(recon.test.mean) == pytest.approx(1.2, rel=0.02)


def test_a_difference_on_the_margin_is_inconclusive():
    seeds = EIGHT_SEEDS[:4]
    claim = judge(laplace_of(seeds, scale_recon(1.0, 1.05)), setup_of(seeds))
    assert claim.verdict == "inconclusive"
    recon = next(p for p in claim.pairs if p.beta == 1.0 and p.quantity.label == "test recon")
    assert not recon.test.equivalent and not recon.outside


def test_collapsed_pairs_are_named_and_the_other_reading_leaves_them_out():
    def collapse_50(seed: int, kwargs: dict[str, Any]) -> None:
        collapse_beta(kwargs, 50.0)

    claim = judge(laplace_of(EIGHT_SEEDS, collapse_50), setup_of(EIGHT_SEEDS, collapse_50))
    pairs = [p for p in claim.pairs if p.beta == 50.0]
    assert all(p.both_collapsed and p.collapsed == (8, 8, 8) for p in pairs)
    assert "collapsed in every run of both setups" in claim.note and "β = 50" in claim.note
    assert claim.readings[0][1] == "holds"


def test_pairs_only_the_seeds_both_setups_trained():
    claim = judge(laplace_of((42, 43, 44)), setup_of((43, 44, 45)))
    assert claim.seeds == (43, 44)
    alone = judge(laplace_of((42,)), setup_of((42, 43)))
    assert alone.verdict == "not measured" and "needs 2 or more" in alone.note


def test_missing_evaluation_is_not_measured_with_its_stage():
    def drop(seed: int, kwargs: dict[str, Any]) -> None:
        del kwargs["evals"][model_name(5.0)]

    claim = judge(laplace_of(EIGHT_SEEDS[:3], drop), setup_of(EIGHT_SEEDS[:3]))
    assert claim.verdict == "not measured" and "evaluate_vae@laplace-5" in claim.note


def test_twins_differ_only_in_the_latent_family():
    setups = params.load("setups", path=REPO / "params.yaml")
    study = setups["study"]
    laplace = dataclasses.replace(
        study, name="laplace", model=dataclasses.replace(study.model, latent="laplace")
    )
    assert twin_of(laplace, list(setups.values())) == study
    wider = dataclasses.replace(laplace, train=dataclasses.replace(study.train, lr=0.01))
    assert twin_of(wider, list(setups.values())) is None
    runs = {"study": setup_of(EIGHT_SEEDS[:3]), "laplace": laplace_of(EIGHT_SEEDS[:3])}
    found = judge_families([study, laplace, setups["wide"]], runs)
    assert [(c.setup, c.twin) for c in found] == [("laplace", "study")]
    assert judge_families([study, setups["wide"]], runs) == []


def test_report_blocks_and_json_carry_every_pair():
    claim = judge(laplace_of(EIGHT_SEEDS[:3]), setup_of(EIGHT_SEEDS[:3]))
    summary = equivalence_summary([claim])
    assert summary["key"] == "11" and summary["quote"] == LAPLACE.quote
    one = summary["comparisons"]["laplace"]
    assert one["twin"] == "study" and len(one["pairs"]) == len(claim.pairs)
    assert set(one["pairs"][0]["values_by_seed"]) == {"42", "43", "44"}
    table = equivalence_blocks([claim])[-1]
    assert len(table.rows) == len(claim.pairs)
    assert "not measured" in equivalence_blocks([])[-1].text


def test_tost_without_spread_decides_by_the_mean():
    inside = stats.tost([1.0, 1.0], [0.99, 0.99], 0.05)
    assert inside.equivalent and inside.low == inside.high
    beyond = stats.tost([1.0, 1.0], [0.5, 0.5], 0.05)
    assert not beyond.equivalent and beyond.p_outside == 0.0
    assert stats.tost([1.0], [1.0], 0.05).p_equivalent == 1.0
