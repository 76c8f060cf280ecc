"""The study's claims as computed checks on our metrics, never as hard-coded verdicts.

Each check reads one run's `Evidence` (the metrics JSON the pipeline wrote) and returns the
numbers it rests on and its *margin*: a signed number, positive exactly when the claim holds
on that run. A setup's verdict comes from the margin over its training seeds: it holds when
the 95 % interval of the margin lies above 0, does not hold when it lies below, and is
"inconclusive" when it straddles 0. A claim resting on the classifiers' confidence is also
checked under each classifier alone, and is inconclusive when they disagree. A missing
input is "not measured", naming the `dvc repro` target that makes it; a claim that does not
hold is a finding about this reproduction, not a failure of the pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vaelab.core.names import (
    CLASSIFIER_TARGET,
    figures_numbers_path,
    figures_target,
    model_name,
)
from vaelab.labels import beta_key, beta_label, beta_range, beta_set, percent
from vaelab.report.evidence import Evidence, NotMeasured, seeds_mean
from vaelab.report.interval import Interval, t_interval
from vaelab.report.trend import trend

Verdict = Literal["holds", "does not hold", "inconclusive", "not measured"]
Numbers = dict[str, float | str]

# The study's own β groups (section 4.2), fixed here because the claims are about them.
SMALL_BETAS = (0.0, 1.0, 5.0)  # figures 5–8: "all β values" reconstruct almost perfectly
LARGE_BETAS = (200.0, 500.0)  # "β values of 200–500 were attempted"
CURVE_BETAS = (0.0, 1.0, 5.0, 50.0)  # figures 10–13
STANDARD_BETA = 1.0  # the plain VAE of section 4.1 (figures 3 and 4)
HIGH_BETA_MIN = 50.0  # claim 8: "if we set β to very high values"
SHIFTED_BETAS = (0.0, 5.0)  # figure 14
PLATEAU_EPOCH = 5  # "after epoch 5, the reconstructed images do not change significantly"

# Thresholds that turn the study's words into numbers. None is a fixed number of nats or of
# confidence: each is a ratio, a share of the values compared, or 0, where the interval over
# seeds is what tells a real difference from noise.
MUCH_CLOSER_RATIO = 5.0  # "much closer": the VAE's aggregate KL at least 5× smaller than the AE's
# Aggregate KLs within this share of the compared values' range are level. A scale taken from
# the values themselves, since they span from ~1e-7 (collapsed high β) to several nats (β = 0).
KL_TIE_SHARE = 0.05
PLATEAU_MAX_REL_CHANGE = 0.10  # "do not change significantly": test recon moves ≤ 10 %
MUCH_WORSE_RATIO = 1.5  # "significantly worse": ≥ 1.5× the worst small-β reconstruction error
KL_SHARE_START_MAX = 0.01  # the study's "below 1 percent" at the first epoch
# KL shares (a share of the loss, so already a relative scale) that move by less than a tenth
# of the study's own 1 % mark are level: a collapsed β's 1e-6 → 1e-7 is neither rise nor fall.
KL_SHARE_TIE = KL_SHARE_START_MAX / 10
CLASSIFIER_MIN_ACCURACY = 0.85  # "an accuracy of over 85 percent"
STUDY_BASELINE_CONFIDENCE = 0.71  # the study's mean top-class confidence on real test digits


@dataclass(frozen=True)
class Check:
    """What a check found on one run: the numbers, the signed margin (> 0: the claim holds)
    and a one-line note that says what the margin is."""

    numbers: Numbers
    margin: float
    note: str

    @property
    def holds(self) -> bool:
        return self.margin > 0


@dataclass(frozen=True)
class Claim:
    """One claim under one setup: a cell of the report's claims table, with its details.

    `numbers` are the seeds' mean run's; `intervals` give each numeric one's mean and 95 %
    interval over the seeds; `margin` is the interval over the seeds' margins (None when the
    claim rests on no training seed, or was not measured)."""

    key: str
    text: str
    numbers: Numbers
    verdict: Verdict
    note: str
    margin: Interval | None = None
    by_seed: dict[int, float] = field(default_factory=dict)
    intervals: dict[str, Interval] = field(default_factory=dict)


def _latent_normality(ev: Evidence) -> Check:
    ev.require(None, STANDARD_BETA)
    ae = ev.final(None, "aggregate_posterior", "kl_to_prior")
    vae = ev.final(STANDARD_BETA, "aggregate_posterior", "kl_to_prior")
    ratio = ae / vae if vae > 0 else float("inf")
    note = (
        f"KL of a Gaussian fit to q(z) at epoch {ev.last_epoch}; holds when the AE's is "
        f"≥ {MUCH_CLOSER_RATIO:g}× the VAE's (margin: log10 of AE / VAE over "
        f"{MUCH_CLOSER_RATIO:g})"
    )
    return Check(
        {"AE KL [nats]": ae, f"{beta_key(STANDARD_BETA)} KL [nats]": vae, "AE / VAE": ratio},
        _log_ratio_margin(ae, vae, MUCH_CLOSER_RATIO),
        note,
    )


def _log_ratio_margin(numerator: float, denominator: float, threshold: float) -> float:
    """log10(numerator / denominator / threshold): a ratio claim's margin, on a scale where
    seeds that differ by orders of magnitude average sensibly. ±300 stands for ±∞."""
    if denominator <= 0 or numerator <= 0:
        return 300.0 if numerator > 0 else -300.0
    return math.log10(numerator / denominator / threshold)


def _redecode_variation(ev: Evidence) -> Check:
    stds = (ev.figures or {}).get("redecode_pixel_std")
    if stds is None:
        numbers = figures_numbers_path(Path("metrics"), ev.run.setup)
        raise NotMeasured(f"{numbers}", [f"dvc repro {figures_target(ev.run.setup)}"])
    vae, ae = float(stds["vae"]), float(stds["ae"])
    beta = (ev.figures or {}).get("example_beta")
    where = f"{beta_label(beta)} VAE" if beta is not None else "VAE"
    note = (
        f"mean pixel std over repeated encode–decode of one test digit ({where}, the figures' "
        f"seed); holds when the VAE's is > 0 and the AE's is exactly 0 (margin: the VAE's, "
        f"or −1 if the AE's is not 0)"
    )
    return Check({"VAE pixel std": vae, "AE pixel std": ae}, vae if ae == 0 else -1.0, note)


def _trend_check(numbers: Numbers, found: dict[str, float], against: str, note: str) -> Check:
    """A trend claim: holds when no step goes against it and some step goes with it; the
    margin is `trend`'s (the worse of the two, in the values' units).

    `numbers` gains the count of steps `against` ('steps up') and the signed Spearman ρ.
    """
    numbers = numbers | {
        against: f"{found['against']}/{found['steps']}",
        "Spearman ρ": found["spearman"],
    }
    return Check(numbers, found["margin"], note)


def _kl_trend(ev: Evidence, betas: Sequence[float]) -> Check:
    if len(betas) < 2:
        raise NotMeasured("two or more such β", ["add β values to vae.betas in params.yaml"])
    ev.require(*betas)
    kls = [ev.final(b, "aggregate_posterior", "kl_to_prior") for b in betas]
    tie = KL_TIE_SHARE * (max(kls) - min(kls))
    found = trend(betas, kls, rising=False, tie=tie)
    numbers: Numbers = {f"{beta_key(b)} KL": kl for b, kl in zip(betas, kls, strict=True)}
    note = (
        f"aggregate KL to N(0, I) at epoch {ev.last_epoch}; holds when no step up in β "
        f"raises it by more than {percent(KL_TIE_SHARE)} of the values' range ({tie:.2g} nat) "
        f"and some step lowers it by more (margin in nats)"
    )
    return _trend_check(numbers, found, "steps up", note)


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
    # How far below every other β is β = 0 (> 0: lowest), per criterion.
    gaps = {
        "confidence ratio": min(c for b, c in confidence.items() if b != 0) - confidence[0],
        "class entropy": min(h for b, h in entropy.items() if b != 0) - entropy[0],
    }
    numbers: Numbers = {f"{beta_key(b)} conf": c for b, c in confidence.items()}
    numbers |= {f"{beta_key(b)} H [bits]": h for b, h in entropy.items()}
    decided = " and ".join(name for name, gap in gaps.items() if gap > 0)
    note = (
        f"N(0, I) samples at epoch {ev.last_epoch}; holds when β = 0 has the lowest "
        f"confidence ratio or the lowest predicted-class entropy (margin: the larger gap to "
        f"the next-lowest β). β = 0 is lowest in: {decided or 'neither'}"
    )
    return Check(numbers, max(gaps.values()), note)


def _confidence_rises(ev: Evidence) -> Check:
    confidence, _ = _prior_confidence(ev)
    found = trend(list(confidence), list(confidence.values()), rising=True, tie=0.0)
    numbers: Numbers = {f"{beta_key(b)} conf": c for b, c in confidence.items()}
    note = (
        f"N(0, I) sample confidence ratio at epoch {ev.last_epoch}; holds when no step up "
        f"in β lowers it and some step raises it (margin: the worst step)"
    )
    return _trend_check(numbers, found, "steps down", note)


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
        change = (after - before) / before
        changes.append(abs(change))
        numbers[beta_key(beta)] = f"{before:.4g} → {after:.4g} ({change:+.1%})"
    note = (
        f"test recon, epoch {PLATEAU_EPOCH} → {ev.last_epoch}; holds when every "
        f"β ∈ {beta_set(SMALL_BETAS)} changes by ≤ {PLATEAU_MAX_REL_CHANGE:.0%} (margin: "
        f"{PLATEAU_MAX_REL_CHANGE:.0%} − the largest change)"
    )
    return Check(numbers, PLATEAU_MAX_REL_CHANGE - max(changes), note)


def _high_beta_recon(ev: Evidence) -> Check:
    ev.require(*SMALL_BETAS, *LARGE_BETAS)
    recon = {b: ev.final(b, "recon") for b in (*SMALL_BETAS, *LARGE_BETAS)}
    worst_small = max(recon[b] for b in SMALL_BETAS)
    best_large = min(recon[b] for b in LARGE_BETAS)
    ratio = best_large / worst_small
    numbers: Numbers = {f"{beta_key(b)} recon": r for b, r in recon.items()}
    numbers["best large / worst small"] = ratio
    note = (
        f"test recon at epoch {ev.last_epoch}; holds when β ∈ {beta_set(LARGE_BETAS)} are "
        f"both ≥ {MUCH_WORSE_RATIO:g}× the worst of β ∈ {beta_set(SMALL_BETAS)} (margin: "
        f"log10 of the ratio over {MUCH_WORSE_RATIO:g})"
    )
    return Check(numbers, _log_ratio_margin(best_large, worst_small, MUCH_WORSE_RATIO), note)


def _objective_kl_share(ev: Evidence, beta: float, epoch: int) -> float:
    """The test set's KL / (recon + KL) after `epoch`, as the training objective computes it
    (dvclive's test curve): the quantity the study plots. Under the study's sampling rule it
    differs from the held-out KL of metrics/eval, which is that of the q actually sampled."""
    curve = ev.curves.get(model_name(beta), {}).get("test/kl_share", [])
    found = [value for step, value in curve if step == epoch]
    if not found:
        raise NotMeasured(f"the test KL share curve of {beta_label(beta)}", [ev.train_stage(beta)])
    return found[0]


def _kl_share_rises(ev: Evidence) -> Check:
    ev.require(*CURVE_BETAS)
    first = ev.checkpoints[0]
    numbers: Numbers = {}
    rises = []
    for beta in CURVE_BETAS:
        start = _objective_kl_share(ev, beta, first)
        end = _objective_kl_share(ev, beta, ev.last_epoch)
        rises.append(end - start)
        numbers[beta_key(beta)] = f"{percent(start)} → {percent(end)}"
    margin = min(min(rises) + KL_SHARE_TIE, max(rises) - KL_SHARE_TIE)
    note = (
        f"the objective's KL / (recon + KL) on the test set, epoch {first} → {ev.last_epoch}; "
        f"holds when it falls by no more than {percent(KL_SHARE_TIE)} for any β ∈ "
        f"{beta_set(CURVE_BETAS)} and rises by more for some (margin: the worse of the two, "
        f"as a share)"
    )
    return Check(numbers, margin, note)


def _kl_share_starts_low(ev: Evidence) -> Check:
    _need_checkpoint(ev, 1)
    ev.require(*CURVE_BETAS)
    numbers: Numbers = {}
    shares = []
    for beta in CURVE_BETAS:
        shares.append(_objective_kl_share(ev, beta, 1))
        numbers[f"{beta_key(beta)} test"] = percent(shares[-1])
        curve = ev.curves.get(model_name(beta), {}).get("train/kl_share", [])
        numbers |= {f"{beta_key(beta)} train mean": percent(v) for step, v in curve if step == 1}
    note = (
        f"the objective's KL share after epoch 1 (test; the training mean over epoch 1 beside "
        f"it); holds when < {percent(KL_SHARE_START_MAX)} for every β ∈ "
        f"{beta_set(CURVE_BETAS)} (margin: {percent(KL_SHARE_START_MAX)} − the largest)"
    )
    return Check(numbers, KL_SHARE_START_MAX - max(shares), note)


def _high_beta_beats_real(ev: Evidence) -> Check:
    high = [b for b in ev.betas if b >= HIGH_BETA_MIN]
    if not high:
        raise NotMeasured(
            f"a β ≥ {HIGH_BETA_MIN:g}",
            [f"add a β ≥ {HIGH_BETA_MIN:g} to vae.betas in params.yaml"],
        )
    ev.require(*high)
    ratios = {b: ev.final(b, "prior_confidence_ratio") for b in high}
    numbers: Numbers = {f"{beta_key(b)} conf": r for b, r in ratios.items()}
    baseline = ev.evals[model_name(high[0])].get("baseline_confidence")
    if baseline:
        numbers["ceiling 1/baseline"] = 1 / baseline
    note = (
        f"N(0, I) sample confidence / real-digit confidence at epoch {ev.last_epoch}; "
        f"holds when > 1 for some β ≥ {HIGH_BETA_MIN:g} (margin: the highest − 1)"
    )
    return Check(numbers, max(ratios.values()) - 1, note)


def _shifted_samples(ev: Evidence) -> Check:
    ev.require(*SHIFTED_BETAS)
    low, high = SHIFTED_BETAS
    confidence = {b: ev.final(b, "shifted_confidence_ratio") for b in SHIFTED_BETAS}
    entropy = {b: ev.final(b, "shifted_class_entropy_bits") for b in SHIFTED_BETAS}
    numbers: Numbers = {f"{beta_key(b)} conf": c for b, c in confidence.items()}
    numbers |= {f"{beta_key(b)} H [bits]": h for b, h in entropy.items()}
    note = (
        f"{ev.shifted_name} samples at epoch {ev.last_epoch}; holds when {beta_label(high)}'s "
        f"confidence ratio beats {beta_label(low)}'s (margin: the difference)"
    )
    return Check(numbers, confidence[high] - confidence[low], note)


def _classifier_accuracy(ev: Evidence) -> Check:
    if ev.classifier is None:
        raise NotMeasured("a summary of every classifier", [f"dvc repro {CLASSIFIER_TARGET}"])
    lowest = float(ev.classifier["test_accuracy_min"])
    note = (
        f"holds when every classifier of the ensemble has test accuracy > "
        f"{CLASSIFIER_MIN_ACCURACY:.0%} (margin: the lowest − {CLASSIFIER_MIN_ACCURACY:g}; no "
        f"training seed enters it); the study's baseline confidence was "
        f"{STUDY_BASELINE_CONFIDENCE:g}, which scales every confidence ratio"
    )
    numbers: Numbers = {
        "lowest test accuracy": lowest,
        "mean baseline confidence": float(ev.classifier["baseline_confidence"]),
    }
    return Check(numbers, lowest - CLASSIFIER_MIN_ACCURACY, note)


ClaimSpec = tuple[str, str, Callable[[Evidence], Check]]  # key, text, check
# The checks that rest on the classifiers' confidence: each is also run per classifier.
PER_CLASSIFIER: frozenset[Callable[[Evidence], Check]] = frozenset(
    {_beta0_least_recognisable, _confidence_rises, _high_beta_beats_real, _shifted_samples}
)


def study_claims(ev: Evidence) -> tuple[ClaimSpec, ...]:
    """The study's claims in its order; texts built from the constants above, so they agree."""
    low, high = SHIFTED_BETAS
    return (
        (
            "1",
            f"The AE's latent space is not close to N(0, I); the {beta_label(STANDARD_BETA)} "
            f"VAE's is much closer (§4.1, figures 2 and 4).",
            _latent_normality,
        ),
        (
            "2",
            "The same input decodes to different images through a VAE and identically "
            "through the AE (§4.1, figure 3). A sanity check: the AE decodes "
            "deterministically by construction.",
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
        (
            "5",
            f"Reconstructions change little after epoch {PLATEAU_EPOCH} (§4.2, figures 6–8).",
            _recon_plateau,
        ),
        (
            "6",
            f"β = {beta_range(LARGE_BETAS)} reconstruct much worse than small β, even at the "
            f"last epoch (§4.2).",
            _high_beta_recon,
        ),
        ("7a", "The KL share of the loss rises with epochs (figures 10–11).", _kl_share_rises),
        (
            "7b",
            f"The KL share is below {percent(KL_SHARE_START_MAX)} at the first epoch "
            f"(figures 10–11).",
            _kl_share_starts_low,
        ),
        (
            "8",
            "At high β, N(0, I) samples are more recognisable to the classifier than real "
            "digits (figure 13).",
            _high_beta_beats_real,
        ),
        (
            "9",
            f"{ev.shifted_name} samples are meaningful for {beta_label(high)} and not for "
            f"{beta_label(low)} (figure 14).",
            _shifted_samples,
        ),
        (
            "10",
            f"The digit classifier recognises digits well: > {percent(CLASSIFIER_MIN_ACCURACY)} "
            f"test accuracy (§4.2).",
            _classifier_accuracy,
        ),
    )


# Checks that rest on no training seed: the figures' seed (claim 2), the classifiers (10).
SEEDLESS: frozenset[Callable[[Evidence], Check]] = frozenset(
    {_redecode_variation, _classifier_accuracy}
)


def per_classifier(check: Callable[[Evidence], Check], ev: Evidence) -> dict[int, bool]:
    """Whether the claim holds under each classifier alone, by seed; {} if not measurable."""
    found = {}
    for index, seed in enumerate(ev.classifier_seeds):
        try:
            found[seed] = check(ev.for_classifier(index)).holds
        except (NotMeasured, IndexError):
            return {}
    return found


def _seeds(seeds: list[int]) -> str:
    return ", ".join(str(seed) for seed in seeds) or "none"


def _not_measured(key: str, text: str, missing: NotMeasured) -> Claim:
    stages = "; ".join(f"`{stage}`" for stage in missing.stages)
    return Claim(key, text, {}, "not measured", f"missing {missing.what}: run {stages}")


def judge(
    key: str,
    text: str,
    check: Callable[[Evidence], Check],
    runs: Sequence[Evidence],
    mean: Evidence,
) -> Claim:
    """One claim under one setup: its numbers on the seeds' mean, its margin on each seed,
    and the verdict from the margin's interval (and from the classifiers, where they enter)."""
    try:
        found = check(mean)
        per_seed = {} if check in SEEDLESS else {ev.run.seed: check(ev) for ev in runs}
    except NotMeasured as missing:
        return _not_measured(key, text, missing)
    by_seed = {seed: one.margin for seed, one in per_seed.items()}
    margin = t_interval(list(by_seed.values())) if by_seed else None
    intervals = _number_intervals(list(per_seed.values()))
    side = margin.side() if margin and margin.n > 1 else (1 if found.holds else -1)
    alone = per_classifier(check, mean) if check in PER_CLASSIFIER else {}
    if len(set(alone.values())) > 1:
        under = _seeds([seed for seed, holds in alone.items() if holds])
        not_under = _seeds([seed for seed, holds in alone.items() if not holds])
        verdict: Verdict = "inconclusive"
        note = (
            f"the classifiers disagree: it holds under classifier seed {under}, not under "
            f"{not_under}. {found.note}"
        )
    elif side > 0:
        verdict, note = "holds", found.note
    elif side < 0:
        verdict = "does not hold"
        note = f"disagrees with the study (a finding, not a failure): {found.note}"
    else:
        verdict = "inconclusive"
        note = f"the margin's 95 % interval over the training seeds contains 0: {found.note}"
    return Claim(key, text, found.numbers, verdict, note, margin, by_seed, intervals)


def _number_intervals(checks: list[Check]) -> dict[str, Interval]:
    """Each number the claim uses that is numeric on every seed: its mean and interval."""
    if not checks:
        return {}
    return {
        name: t_interval([float(c.numbers[name]) for c in checks])
        for name, value in checks[0].numbers.items()
        if all(
            isinstance(c.numbers.get(name), int | float) and math.isfinite(c.numbers[name])
            for c in checks
        )
    }


def check_setup(runs: Sequence[Evidence]) -> list[Claim]:
    """Every claim of the study under one setup (one Evidence per training seed), in the
    study's order."""
    mean = seeds_mean(runs)
    return [judge(key, text, check, runs, mean) for key, text, check in study_claims(mean)]
