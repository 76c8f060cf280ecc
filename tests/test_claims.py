"""The verdict engine on small hand-built evidence whose verdicts can be worked out by hand.

`study_like(seed)` is one training seed's metrics in which every claim of the study holds by a
wide margin; each seed jitters every number by about 1 % (log-normal), so margins vary from
seed to seed but keep their sign. Each test edits a few numbers and checks what the engine
says: holds, does not hold, inconclusive, not measured, collapsed runs counted not averaged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from vaelab.core.names import Run, epoch_key, model_name
from vaelab.report import collapse
from vaelab.report.evidence import Evidence
from vaelab.report.verdict import Claim, check_setup

BETAS = (0.0, 1.0, 5.0, 50.0, 200.0, 500.0)
CHECKPOINTS = (1, 5, 10, 20)
CLASSIFIER_SEEDS = (7, 8, 9)
BASELINES = (0.90, 0.91, 0.92)  # each classifier's confidence on real digits
EIGHT_SEEDS = tuple(range(42, 50))
NOISE = 0.01  # each number's seed-to-seed spread, on the log scale

# Per β: KL of the draws' fit to N(0, I) at epoch 1 (1.5× that from epoch 5 on; the means'
# fit is 1.2× the draws'); the classifiers' confidence ratios (eq. 13) on N(0, I) samples, on
# reconstructions and on N(1, 0.5²) samples; the last's class entropy; test recon at epoch 20.
AGGREGATE_KL = {0.0: 8.0, 1.0: 2.0, 5.0: 0.4, 50.0: 0.1, 200.0: 0.05, 500.0: 0.02}
PRIOR_RATIO = {0.0: 0.4, 1.0: 0.7, 5.0: 0.85, 50.0: 1.06, 200.0: 0.5, 500.0: 0.5}
RECON_RATIO = {0.0: 0.9, 1.0: 0.9, 5.0: 0.9, 50.0: 0.95, 200.0: 0.6, 500.0: 0.6}
SHIFTED_RATIO = {0.0: 0.5, 1.0: 0.8, 5.0: 0.9, 50.0: 0.8, 200.0: 0.8, 500.0: 0.8}
SHIFTED_BITS = {0.0: 3.0, 1.0: 2.0, 5.0: 1.5, 50.0: 2.0, 200.0: 2.0, 500.0: 2.0}
RECON = {0.0: 26.0, 1.0: 28.0, 5.0: 30.0, 50.0: 40.0, 200.0: 52.0, 500.0: 53.0}
RECON_SHARE_OF_LAST = {1: 2.0, 5: 1.01, 10: 1.005, 20: 1.0}  # settles after epoch 5
AE_KL = 20.0  # the AE's fit: 6.7× farther from N(0, I) than β = 1's 3 nats
# dvclive test curves per β: (epoch 1, every later epoch), all rising, shares below 1 % first.
CURVES = {
    "test/kl": (1.0, 3.0),
    "test/kl_share": (0.005, 0.05),
    "train/kl_share": (0.004, 0.04),
    "test/beta_kl_share": (0.005, 0.2),
}


class Jitter:
    """Each number × exp(NOISE · z), z drawn from the seed's own generator."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, value: float) -> float:
        return float(value * math.exp(NOISE * self.rng.standard_normal()))

    def by_classifier(self, value: float) -> tuple[float, list[float]]:
        cells = [self(value) for _ in CLASSIFIER_SEEDS]
        return float(np.mean(cells)), cells


def _checkpoint(beta: float, epoch: int, jitter: Jitter) -> dict[str, Any]:
    grow = 1.0 if epoch == 1 else 1.5
    row: dict[str, Any] = {
        "recon": jitter(RECON[beta] * RECON_SHARE_OF_LAST[epoch]),
        "kl": jitter(3.0),
        "active_units": 2,
        "aggregate_posterior": {"kl_to_prior": jitter(AGGREGATE_KL[beta] * grow)},
        "aggregate_means": {"kl_to_prior": jitter(1.2 * AGGREGATE_KL[beta] * grow)},
    }
    for key, table in (
        ("prior_confidence_ratio", PRIOR_RATIO),
        ("recon_confidence_ratio", RECON_RATIO),
        ("shifted_confidence_ratio", SHIFTED_RATIO),
        ("shifted_class_entropy_bits", SHIFTED_BITS),
    ):
        row[key], row[f"{key}_by_classifier"] = jitter.by_classifier(table[beta])
    return row


def study_like(seed: int = 42) -> dict[str, Any]:
    """The keyword arguments of one seed's Evidence in which every claim holds."""
    jitter = Jitter(seed)
    header = {
        "baseline_confidence": float(np.mean(BASELINES)),
        "baseline_confidence_by_classifier": list(BASELINES),
    }
    ae = {
        "recon": jitter(20.0),
        "aggregate_posterior": {"kl_to_prior": jitter(AE_KL)},
        "aggregate_means": {"kl_to_prior": jitter(1.2 * AE_KL)},
    }
    evals = {"ae": header | {epoch_key(20): ae}}
    for beta in BETAS:
        checkpoints = {epoch_key(e): _checkpoint(beta, e, jitter) for e in CHECKPOINTS}
        evals[model_name(beta)] = header | checkpoints
    curves = {
        model_name(beta): {
            name: [(e, jitter(first if e == 1 else later)) for e in range(1, 21)]
            for name, (first, later) in CURVES.items()
        }
        for beta in BETAS
    }
    return {
        "run": Run("study", seed),
        "betas": BETAS,
        "checkpoints": CHECKPOINTS,
        "shifted_name": "N(1, 0.5²)",
        "evals": evals,
        "curves": curves,
        "figures": {"redecode_pixel_std": {"vae": 0.01, "ae": 0.0}},
        "classifier": {"test_accuracy_each": [0.980, 0.982, 0.984]},
        "classifier_seeds": CLASSIFIER_SEEDS,
    }


def setup_of(seeds: Sequence[int], edit=None) -> list[Evidence]:
    """One Evidence per seed; `edit(seed, kwargs)` changes a seed's numbers first."""
    runs = []
    for seed in seeds:
        kwargs = study_like(seed)
        if edit is not None:
            edit(seed, kwargs)
        runs.append(Evidence(**kwargs))
    return runs


def judged(runs: list[Evidence]) -> dict[str, Claim]:
    return {claim.key: claim for claim in check_setup(runs)}


def collapse_beta(kwargs: dict[str, Any], beta: float) -> None:
    """`beta` collapsed at every checkpoint: no active unit (its mean KL left as it was, so
    that alone marks it), its latent fits at ~0 nats, every N(1, 0.5²) decode one image that
    each classifier is sure of (0 bits; ratio 1 / baseline, the top of its range)."""
    for epoch in CHECKPOINTS:
        row = kwargs["evals"][model_name(beta)][epoch_key(epoch)]
        row["active_units"] = 0
        row["aggregate_posterior"]["kl_to_prior"] = 1e-7
        row["aggregate_means"]["kl_to_prior"] = 0.0
        sure = [1 / b for b in BASELINES]
        row["shifted_confidence_ratio"] = 1 / min(BASELINES)
        row["shifted_confidence_ratio_by_classifier"] = sure
        row["shifted_class_entropy_bits"] = 0.0
        row["shifted_class_entropy_bits_by_classifier"] = [0.0, 0.0, 0.0]


def test_consistent_large_margins_on_eight_seeds_make_every_claim_hold() -> None:
    claims = judged(setup_of(EIGHT_SEEDS))
    assert {key: c.verdict for key, c in claims.items()} == dict.fromkeys(claims, "holds")
    one = claims["1"].primary
    # Claim 1's margin is log(AE / β = 1) = log(20 / 3), on every seed.
    assert one.signs == "8 of 8"
    assert one.test.mean == pytest.approx(math.log(20 / 3), abs=0.02)
    assert one.test.low < one.test.mean < one.test.high
    assert one.adjusted_p < 0.04
    # Claim 4a rests on the classifiers: a seed × classifier grid of margins.
    assert len(claims["4a"].primary.grid) == 8
    assert all(len(cells) == 3 for cells in claims["4a"].primary.grid.values())
    assert all(c.robustness == "robust" for k, c in claims.items() if k not in {"2", "10"})


def test_one_seed_decides_nothing_that_rests_on_seeds() -> None:
    claims = judged(setup_of([42]))
    by_seeds = {k for k, c in claims.items() if c.record.unit in {"seeds", "seeds × classifiers"}}
    assert {claims[k].verdict for k in by_seeds} == {"inconclusive"}
    assert all(claims[k].primary.test is None for k in by_seeds)
    assert claims["2"].verdict == claims["10"].verdict == "holds"  # not a matter of seeds


def test_margins_of_the_wrong_sign_on_every_seed_do_not_hold() -> None:
    """β = 200 reconstructs better (20) than β = 1 (28) on every seed: claim 6 fails."""

    def edit(seed: int, kwargs: dict[str, Any]) -> None:
        kwargs["evals"][model_name(200.0)][epoch_key(20)]["recon"] = 20.0

    claims = judged(setup_of(EIGHT_SEEDS, edit))
    assert claims["6"].verdict == "does not hold"
    assert claims["6"].primary.test.mean == pytest.approx(math.log(20 / 28), abs=0.02)
    assert claims["6"].primary.signs == "0 of 8"
    assert claims["1"].verdict == "holds"


def test_a_reading_that_flips_is_named_in_the_robustness() -> None:
    """The AE at 9 nats is 3× β = 1's 3: closer, but not 5× closer (log 3/5 < 0)."""

    def edit(seed: int, kwargs: dict[str, Any]) -> None:
        kwargs["evals"]["ae"][epoch_key(20)]["aggregate_posterior"]["kl_to_prior"] = 9.0

    claim = judged(setup_of(EIGHT_SEEDS, edit))["1"]
    assert claim.verdict == "holds"
    assert [r.verdict for r in claim.readings] == ["holds", "does not hold"]
    assert claim.robustness == "flips under draws, VAE 5× closer: does not hold"


def test_a_collapsed_beta_is_counted_and_its_runs_left_out_not_averaged() -> None:
    """β = 5 collapsed on seeds 42 and 43 of three; only seed 44 can judge claim 9."""

    def edit(seed: int, kwargs: dict[str, Any]) -> None:
        if seed in (42, 43):
            collapse_beta(kwargs, 5.0)

    runs = setup_of([42, 43, 44], edit)
    counts = collapse.collapse_counts(runs)
    assert counts[5.0][20] == (2, 3)
    assert counts[5.0][1] == (2, 3)
    assert counts[1.0][20] == (0, 3)
    claim = judged(runs)["9"]
    assert set(claim.primary.margins) == {"44"}
    assert set(claim.primary.excluded) == {"42", "43"}
    assert claim.primary.test is None
    assert claim.verdict == "inconclusive"
    assert "judged on 1 of 3 runs (left out, collapsed: 42, 43)" in claim.note
    # The shown numbers are the judged run's, not a mean over collapsed and healthy runs.
    assert all(set(v) == {"44"} for v in claim.primary.values_by_run.values())
    assert all(i.n == 1 and i.method == "one value" for i in claim.primary.values.values())
    kept = next(r for r in claim.readings if r.name == "confidence, collapsed runs kept")
    assert set(kept.margins) == {"42", "43", "44"}


def test_no_interval_of_the_engine_leaves_its_quantitys_range() -> None:
    """Collapsed runs put values on their range's ends (0 nats, 0 bits, the highest ratio)."""

    def edit(seed: int, kwargs: dict[str, Any]) -> None:
        if seed != 44:
            collapse_beta(kwargs, 5.0)

    methods = set()
    for claim in check_setup(setup_of([42, 43, 44, 45], edit)):
        for one in [claim.primary, *claim.readings] if claim.primary else []:
            for name, found in one.values.items():
                low, high = one.bounds[name]
                assert low <= found.low <= found.center <= found.high <= high, (claim.key, name)
                methods.add(found.method)
    assert {"t on log", "t on logit"} <= methods
    assert any(m.startswith("t clipped") for m in methods)  # some values sat on a bound


def test_a_missing_evaluation_is_not_measured_and_names_its_stage() -> None:
    def edit(seed: int, kwargs: dict[str, Any]) -> None:
        del kwargs["evals"][model_name(50.0)]

    claims = judged(setup_of(EIGHT_SEEDS, edit))
    needs_50 = {"3b", "4b", "7a", "7b", "8"}
    for key in needs_50:
        assert claims[key].verdict == "not measured", key
        assert "`dvc repro evaluate_vae@study-50`" in claims[key].note, key
        assert claims[key].primary is None
    assert {c.verdict for k, c in claims.items() if k not in needs_50} == {"holds"}
    # 3a's reading over every β needs β = 50 too; a reading not measured flips nothing.
    every_beta = claims["3a"].readings[-1]
    assert (every_beta.name, every_beta.verdict) == ("draws, epoch 1, every β", "not measured")
    assert claims["3a"].robustness == "robust"


def test_other_missing_inputs_name_what_makes_them() -> None:
    def edit(seed: int, kwargs: dict[str, Any]) -> None:
        del kwargs["evals"]["ae"]
        kwargs |= {"figures": None, "classifier": None, "checkpoints": (1, 10, 20)}

    claims = judged(setup_of(EIGHT_SEEDS[:3], edit))
    assert "`dvc repro evaluate_ae@study`" in claims["1"].note
    assert "`dvc repro figures@study`" in claims["2"].note
    assert "add 5 to train.checkpoints" in claims["5"].note
    assert "`dvc repro train_classifier`" in claims["10"].note
    assert {claims[k].verdict for k in ("1", "2", "5", "10")} == {"not measured"}
