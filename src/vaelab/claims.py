"""The study's claims as computed checks on our metrics, never as hard-coded verdicts.

Each check reads `Evidence` (the metrics JSON the pipeline wrote) and returns the numbers it
rests on and whether the claim holds. A missing input is "not measured", naming the
`dvc repro` target that makes it; a claim that does not hold is a finding about this
reproduction, not a failure of the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from vaelab.names import beta_tag, model_name

Verdict = Literal["holds", "does not hold", "not measured"]
Numbers = dict[str, float | str]

# The study's own β groups (section 4.2), fixed here because the claims are about them.
SMALL_BETAS = (0.0, 1.0, 5.0)  # figures 5–8: "all β values" reconstruct almost perfectly
LARGE_BETAS = (200.0, 500.0)  # "β values of 200–500 were attempted"
CURVE_BETAS = (0.0, 1.0, 5.0, 50.0)  # figures 10–13
STANDARD_BETA = 1.0  # the plain VAE of section 4.1 (figures 3 and 4)
HIGH_BETA_MIN = 50.0  # claim 8: "if we set β to very high values"
SHIFTED_BETAS = (0.0, 5.0)  # figure 14
PLATEAU_EPOCH = 5  # "after epoch 5, the reconstructed images do not change significantly"

# Thresholds that turn the study's words into numbers.
AE_FAR_KL_NATS = 1.0  # "not close to N(0, I)": a Gaussian fit ≥ 1 nat away (mean off by ≥ √2 σ)
MUCH_CLOSER_RATIO = 5.0  # "much closer": the VAE's aggregate KL at least 5× smaller than the AE's
KL_TIE_NATS = 0.05  # aggregate KLs this close are level: collapsed high-β fits all sit near 0
CONFIDENCE_MARGIN = 0.02  # 2 % of the baseline ≈ 6 standard errors of a 5 000-sample mean
PLATEAU_MAX_REL_CHANGE = 0.10  # "do not change significantly": test recon moves ≤ 10 %
MUCH_WORSE_RATIO = 1.5  # "significantly worse": ≥ 1.5× the worst small-β reconstruction error
KL_SHARE_START_MAX = 0.01  # the study's "below 1 percent" at the first epoch
CLASSIFIER_MIN_ACCURACY = 0.85  # "an accuracy of over 85 percent"
STUDY_BASELINE_CONFIDENCE = 0.71  # the study's mean top-class confidence on real test digits


class NotMeasured(Exception):
    """An input a claim needs is missing; `stages` are the `dvc repro` targets that make it."""

    def __init__(self, what: str, stages: Sequence[str]) -> None:
        super().__init__(what)
        self.what = what
        self.stages = tuple(stages)


@dataclass(frozen=True)
class Evidence:
    """The pipeline's metrics as loaded from disk; a file that is missing is an absent key.

    `evals` maps 'ae' / 'vae_beta_<β>' to metrics/eval/<name>.json; `train` maps the same
    names and 'classifier' to dvclive summaries; `curves` maps a model name to its per-epoch
    dvclive TSVs as {'train/kl_share': [(epoch, value), …]}.
    """

    betas: tuple[float, ...]
    checkpoints: tuple[int, ...]
    evals: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    train: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    curves: Mapping[str, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)
    classifier: dict[str, Any] | None = None
    figures: dict[str, Any] | None = None
    data: dict[str, Any] | None = None

    @property
    def last_epoch(self) -> int:
        return self.checkpoints[-1]

    def require(self, *betas: float | None) -> None:
        """Raise NotMeasured naming every missing evaluation (None is the AE)."""
        missing = [b for b in betas if _name(b) not in self.evals]
        if missing:
            names = ", ".join("the AE" if b is None else f"β = {beta_tag(b)}" for b in missing)
            raise NotMeasured(f"evaluation of {names}", [self._target(b) for b in missing])

    def at(self, beta: float | None, epoch: int, *path: str) -> Any:
        """A value of one checkpoint's evaluation: `at(5, 20, 'aggregate_posterior', 'kl')`."""
        self.require(beta)
        value: Any = self.evals[_name(beta)].get(f"epoch_{epoch:03d}")
        if value is None:
            raise NotMeasured(f"epoch {epoch} of {_name(beta)}", [self._target(beta)])
        for key in path:
            if key not in value:
                raise NotMeasured(f"{'.'.join(path)} of {_name(beta)}", [self._target(beta)])
            value = value[key]
        return value

    def final(self, beta: float | None, *path: str) -> Any:
        return self.at(beta, self.last_epoch, *path)

    def _target(self, beta: float | None) -> str:
        if beta is None:
            return "dvc repro evaluate_ae"
        stage = f"dvc repro evaluate_vae@{beta_tag(beta)}"
        if float(beta) in self.betas:
            return stage
        return f"add {beta_tag(beta)} to vae.betas in params.yaml, then {stage}"


def _name(beta: float | None) -> str:
    return model_name("ae") if beta is None else model_name("vae", beta)


@dataclass(frozen=True)
class Check:
    """What a check found: the numbers, whether the claim holds, and a one-line note."""

    numbers: Numbers
    holds: bool
    note: str


@dataclass(frozen=True)
class Claim:
    """One row of the report's claims table."""

    key: str
    text: str
    numbers: Numbers
    verdict: Verdict
    note: str


def _b(beta: float) -> str:
    return f"β={beta_tag(beta)}"


def trend(
    betas: Sequence[float], values: Sequence[float], rising: bool, tie: float
) -> dict[str, float]:
    """How monotone `values` are in β: adjacent steps against the claimed way, and Spearman ρ.

    A step within ±`tie` is level and does not count against; ρ is signed so that +1 is a
    perfect trend in the claimed direction (NaN when the values are all equal).
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
    }


def _pct(share: float) -> str:
    return f"{100 * share:.2g} %"


def _latent_normality(ev: Evidence) -> Check:
    ev.require(None, STANDARD_BETA)
    ae = ev.final(None, "aggregate_posterior", "kl_to_prior")
    vae = ev.final(STANDARD_BETA, "aggregate_posterior", "kl_to_prior")
    ratio = ae / vae if vae > 0 else float("inf")
    holds = ae >= AE_FAR_KL_NATS and ratio >= MUCH_CLOSER_RATIO
    note = (
        f"KL of a Gaussian fit to q(z) at epoch {ev.last_epoch}; holds when the AE's is "
        f"≥ {AE_FAR_KL_NATS:g} nat and ≥ {MUCH_CLOSER_RATIO:g}× the VAE's"
    )
    return Check(
        {"AE KL [nats]": ae, f"{_b(STANDARD_BETA)} KL [nats]": vae, "AE / VAE": ratio}, holds, note
    )


def _redecode_variation(ev: Evidence) -> Check:
    stds = (ev.figures or {}).get("redecode_pixel_std")
    if stds is None:
        raise NotMeasured("metrics/figures.json", ["dvc repro figures"])
    vae, ae = float(stds["vae"]), float(stds["ae"])
    beta = (ev.figures or {}).get("example_beta")
    where = f"β = {beta_tag(beta)} VAE" if beta is not None else "VAE"
    note = (
        f"mean pixel std over repeated encode–decode of one test digit ({where}); "
        f"holds when the VAE's is > 0 and the AE's is exactly 0"
    )
    return Check({"VAE pixel std": vae, "AE pixel std": ae}, vae > 0 and ae == 0, note)


def _kl_trend(ev: Evidence, betas: Sequence[float]) -> Check:
    if len(betas) < 2:
        raise NotMeasured("two or more such β", ["add β values to vae.betas in params.yaml"])
    ev.require(*betas)
    kls = [ev.final(b, "aggregate_posterior", "kl_to_prior") for b in betas]
    found = trend(betas, kls, rising=False, tie=KL_TIE_NATS)
    numbers: Numbers = {f"{_b(b)} KL": kl for b, kl in zip(betas, kls, strict=True)}
    numbers |= {
        "steps up": f"{found['against']}/{found['steps']}",
        "Spearman ρ": found["spearman"],
    }
    note = (
        f"aggregate KL to N(0, I) at epoch {ev.last_epoch}; holds when no step up in β "
        f"raises it by > {KL_TIE_NATS:g} nat and some step lowers it"
    )
    return Check(numbers, found["against"] == 0 and found["with"] > 0, note)


def _kl_trend_positive(ev: Evidence) -> Check:
    return _kl_trend(ev, [b for b in ev.betas if b >= 1])


def _kl_trend_all(ev: Evidence) -> Check:
    return _kl_trend(ev, list(ev.betas))


def _prior_confidence(ev: Evidence) -> tuple[dict[float, float], dict[float, float]]:
    ev.require(*CURVE_BETAS)
    confidence = {b: ev.final(b, "prior_confidence_ratio") for b in CURVE_BETAS}
    entropy = {b: ev.final(b, "prior_class_entropy_bits") for b in CURVE_BETAS}
    return confidence, entropy


def _beta0_least_recognisable(ev: Evidence) -> Check:
    confidence, entropy = _prior_confidence(ev)
    lowest_confidence = min(confidence, key=confidence.__getitem__) == 0
    lowest_entropy = min(entropy, key=entropy.__getitem__) == 0
    numbers: Numbers = {f"{_b(b)} conf": c for b, c in confidence.items()}
    numbers |= {f"{_b(b)} H [bits]": h for b, h in entropy.items()}
    note = (
        f"N(0, I) samples at epoch {ev.last_epoch}; holds when β = 0 has the lowest "
        f"confidence ratio or the lowest predicted-class entropy"
    )
    return Check(numbers, lowest_confidence or lowest_entropy, note)


def _confidence_rises(ev: Evidence) -> Check:
    confidence, _ = _prior_confidence(ev)
    found = trend(list(confidence), list(confidence.values()), rising=True, tie=CONFIDENCE_MARGIN)
    numbers: Numbers = {f"{_b(b)} conf": c for b, c in confidence.items()}
    numbers |= {
        "steps down": f"{found['against']}/{found['steps']}",
        "Spearman ρ": found["spearman"],
    }
    note = (
        f"N(0, I) sample confidence ratio at epoch {ev.last_epoch}; holds when no step up "
        f"in β lowers it by > {CONFIDENCE_MARGIN:g} and some step raises it"
    )
    return Check(numbers, found["against"] == 0 and found["with"] > 0, note)


def _need_checkpoint(ev: Evidence, epoch: int) -> None:
    if epoch not in ev.checkpoints:
        raise NotMeasured(
            f"a checkpoint at epoch {epoch}",
            [f"add {epoch} to train.checkpoints in params.yaml, then dvc repro"],
        )


def _recon_plateau(ev: Evidence) -> Check:
    _need_checkpoint(ev, PLATEAU_EPOCH)
    if ev.last_epoch <= PLATEAU_EPOCH:
        raise NotMeasured(
            f"epochs after {PLATEAU_EPOCH}",
            ["add a later epoch to train.checkpoints in params.yaml"],
        )
    ev.require(*SMALL_BETAS)
    numbers: Numbers = {}
    changes = []
    for beta in SMALL_BETAS:
        before = ev.at(beta, PLATEAU_EPOCH, "recon")
        after = ev.final(beta, "recon")
        changes.append(abs(after - before) / before)
        numbers[_b(beta)] = f"{before:.4g} → {after:.4g} ({changes[-1]:+.1%})"
    note = (
        f"test recon, epoch {PLATEAU_EPOCH} → {ev.last_epoch}; holds when every "
        f"β ∈ {{0, 1, 5}} changes by ≤ {PLATEAU_MAX_REL_CHANGE:.0%}"
    )
    return Check(numbers, max(changes) <= PLATEAU_MAX_REL_CHANGE, note)


def _high_beta_recon(ev: Evidence) -> Check:
    ev.require(*SMALL_BETAS, *LARGE_BETAS)
    recon = {b: ev.final(b, "recon") for b in (*SMALL_BETAS, *LARGE_BETAS)}
    worst_small = max(recon[b] for b in SMALL_BETAS)
    best_large = min(recon[b] for b in LARGE_BETAS)
    ratio = best_large / worst_small
    numbers: Numbers = {f"{_b(b)} recon": r for b, r in recon.items()}
    numbers["best large / worst small"] = ratio
    note = (
        f"test recon at epoch {ev.last_epoch}; holds when β ∈ {{200, 500}} are both "
        f"≥ {MUCH_WORSE_RATIO:g}× the worst of β ∈ {{0, 1, 5}}"
    )
    return Check(numbers, ratio >= MUCH_WORSE_RATIO, note)


def _kl_share_rises(ev: Evidence) -> Check:
    ev.require(*CURVE_BETAS)
    first = ev.checkpoints[0]
    numbers: Numbers = {}
    rises = []
    for beta in CURVE_BETAS:
        start, end = ev.at(beta, first, "kl_share"), ev.final(beta, "kl_share")
        rises.append(end > start)
        numbers[_b(beta)] = f"{_pct(start)} → {_pct(end)}"
    note = (
        f"KL / (recon + KL) on the test set, epoch {first} → {ev.last_epoch}; holds when "
        f"it rises for every β ∈ {{0, 1, 5, 50}}"
    )
    return Check(numbers, all(rises), note)


def _kl_share_starts_low(ev: Evidence) -> Check:
    _need_checkpoint(ev, 1)
    ev.require(*CURVE_BETAS)
    numbers: Numbers = {}
    shares = []
    for beta in CURVE_BETAS:
        shares.append(ev.at(beta, 1, "kl_share"))
        numbers[f"{_b(beta)} test"] = _pct(shares[-1])
        curve = ev.curves.get(_name(beta), {}).get("train/kl_share", [])
        numbers |= {f"{_b(beta)} train mean": _pct(v) for step, v in curve if step == 1}
    note = (
        f"KL share after epoch 1 (test; the training mean over epoch 1 beside it); holds "
        f"when < {_pct(KL_SHARE_START_MAX)} for every β ∈ {{0, 1, 5, 50}}"
    )
    return Check(numbers, max(shares) < KL_SHARE_START_MAX, note)


def _high_beta_beats_real(ev: Evidence) -> Check:
    high = [b for b in ev.betas if b >= HIGH_BETA_MIN]
    if not high:
        raise NotMeasured(
            f"a β ≥ {HIGH_BETA_MIN:g}",
            [f"add a β ≥ {HIGH_BETA_MIN:g} to vae.betas in params.yaml"],
        )
    ev.require(*high)
    ratios = {b: ev.final(b, "prior_confidence_ratio") for b in high}
    numbers: Numbers = {f"{_b(b)} conf": r for b, r in ratios.items()}
    baseline = ev.evals[_name(high[0])].get("baseline_confidence")
    if baseline:
        numbers["ceiling 1/baseline"] = 1 / baseline
    note = (
        f"N(0, I) sample confidence / real-digit confidence at epoch {ev.last_epoch}; "
        f"holds when > 1 for some β ≥ {HIGH_BETA_MIN:g}"
    )
    return Check(numbers, max(ratios.values()) > 1, note)


def _shifted_samples(ev: Evidence) -> Check:
    ev.require(*SHIFTED_BETAS)
    low, high = SHIFTED_BETAS
    confidence = {b: ev.final(b, "shifted_confidence_ratio") for b in SHIFTED_BETAS}
    entropy = {b: ev.final(b, "shifted_class_entropy_bits") for b in SHIFTED_BETAS}
    numbers: Numbers = {f"{_b(b)} conf": c for b, c in confidence.items()}
    numbers |= {f"{_b(b)} H [bits]": h for b, h in entropy.items()}
    note = (
        f"N(1, 0.5²) samples at epoch {ev.last_epoch}; holds when β = {high:g}'s "
        f"confidence ratio beats β = {low:g}'s by ≥ {CONFIDENCE_MARGIN:g}"
    )
    return Check(numbers, confidence[high] - confidence[low] >= CONFIDENCE_MARGIN, note)


def _classifier_accuracy(ev: Evidence) -> Check:
    if ev.classifier is None:
        raise NotMeasured("metrics/classifier.json", ["dvc repro train_classifier"])
    accuracy = float(ev.classifier["test_accuracy"])
    baseline = float(ev.classifier["baseline_confidence"])
    note = (
        f"holds when test accuracy > {CLASSIFIER_MIN_ACCURACY:.0%}; the study's baseline "
        f"confidence was {STUDY_BASELINE_CONFIDENCE:g}, which scales every confidence ratio"
    )
    return Check(
        {"test accuracy": accuracy, "baseline confidence": baseline},
        accuracy > CLASSIFIER_MIN_ACCURACY,
        note,
    )


CLAIMS: tuple[tuple[str, str, Callable[[Evidence], Check]], ...] = (
    (
        "1",
        "The AE's latent space is not close to N(0, I); the β = 1 VAE's is much closer "
        "(§4.1, figures 2 and 4).",
        _latent_normality,
    ),
    (
        "2",
        "The same input decodes to different images through a VAE and identically "
        "through the AE (§4.1, figure 3).",
        _redecode_variation,
    ),
    (
        "3a",
        "Higher β gives a more normal-like latent space, over β ≥ 1 (§4.2, figures 5–9).",
        _kl_trend_positive,
    ),
    (
        "3b",
        "Higher β gives a more normal-like latent space, over all β including 0.",
        _kl_trend_all,
    ),
    (
        "4a",
        "N(0, I) samples of β = 0 are the least recognisable (§4.2, figures 5–8, 12–13).",
        _beta0_least_recognisable,
    ),
    ("4b", "N(0, I) sample confidence rises with β (figures 12–13).", _confidence_rises),
    ("5", "Reconstructions change little after epoch 5 (§4.2, figures 6–8).", _recon_plateau),
    (
        "6",
        "β = 200–500 reconstruct much worse than small β, even at the last epoch (§4.2).",
        _high_beta_recon,
    ),
    ("7a", "The KL share of the loss rises with epochs (figures 10–11).", _kl_share_rises),
    ("7b", "The KL share is below 1 % at the first epoch (figures 10–11).", _kl_share_starts_low),
    (
        "8",
        "At high β, N(0, I) samples are more recognisable to the classifier than real "
        "digits (figure 13).",
        _high_beta_beats_real,
    ),
    (
        "9",
        "N(1, 0.5²) samples are meaningful for β = 5 and not for β = 0 (figure 14).",
        _shifted_samples,
    ),
    (
        "10",
        "The digit classifier recognises digits well: > 85 % test accuracy (§4.2).",
        _classifier_accuracy,
    ),
)


def run_check(key: str, text: str, check: Callable[[Evidence], Check], ev: Evidence) -> Claim:
    """One claim's row; a missing input gives "not measured" with the command that makes it."""
    try:
        found = check(ev)
    except NotMeasured as missing:
        stages = "; ".join(f"`{stage}`" for stage in missing.stages)
        return Claim(key, text, {}, "not measured", f"missing {missing.what}: run {stages}")
    if found.holds:
        return Claim(key, text, found.numbers, "holds", found.note)
    note = f"disagrees with the study (a finding, not a failure): {found.note}"
    return Claim(key, text, found.numbers, "does not hold", note)


def check_all(ev: Evidence) -> list[Claim]:
    """Every claim of the study, in the study's order."""
    return [run_check(key, text, check, ev) for key, text, check in CLAIMS]
