"""The study's claims as data: each quotes its sentence, says where in the study it stands,
what it measures on which models, epochs and samples, on which scale, and by which
criterion; `verdict.py` judges every record the same way.

A record's first reading is its primary one, chosen from the study's own figures and words
(`why` says how); the other readings are the scopes and thresholds its words also allow.
The report gives the primary reading's verdict and whether every other reading agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from vaelab.report.evidence import Evidence
from vaelab.report.measures import (
    AGGREGATE_KL,
    BETA_KL_SHARE,
    KL,
    KL_SHARE,
    LAST,
    MEANS_KL,
    PRIOR_CONFIDENCE,
    RECON,
    RECON_CONFIDENCE,
    SHIFTED_CONFIDENCE,
    SHIFTED_ENTROPY,
    TRAIN_KL_SHARE,
    Both,
    Bound,
    Change,
    Compare,
    Found,
    Ordered,
    Settles,
    Surpasses,
)

SMALL_BETAS = (0.0, 1.0, 5.0)  # figures 5–8
LARGE_BETAS = (200.0, 500.0)  # "β values of 200–500 were attempted"
CURVE_BETAS = (0.0, 1.0, 5.0, 50.0)  # figures 10–13
CLASSIFIER_MIN_ACCURACY = 0.85  # "an accuracy of over 85 percentage"
STUDY_BASELINE_CONFIDENCE = 0.71  # the study's mean top-class confidence on real test digits

# How the margins of a claim are gathered: one per training seed, one per training seed and
# classifier, one per classifier, or none (a check that holds or fails by construction).
Unit = Literal["seeds", "seeds × classifiers", "classifiers", "deterministic"]


class Measure(Protocol):
    def measure(self, ev: Evidence) -> Found: ...


@dataclass(frozen=True)
class Reading:
    """One scope and threshold the study's words allow, and the measure that checks it."""

    name: str
    measure: Measure


@dataclass(frozen=True)
class ClaimRecord:
    key: str
    quote: str  # the study's sentence, verbatim
    where: str  # its section or figure
    scope: str  # which β, epochs and samples the primary reading covers
    quantity: str
    scale: str  # where the margin is taken: log, logit or raw
    criterion: str  # when the margin is > 0, in words
    readings: tuple[Reading, ...]  # the first is the primary reading
    why: str  # why the primary reading is the primary one
    unit: Unit = "seeds"
    collapse_note: str = ""  # what collapsed runs mean for this claim


def _b(*betas: float) -> tuple[float, ...]:
    return tuple(float(b) for b in betas)


RISING_SAMPLES = Ordered(PRIOR_CONFIDENCE, CURVE_BETAS, LAST, skip_collapsed=True)
SURPASSING = Surpasses(PRIOR_CONFIDENCE, RECON_CONFIDENCE, CURVE_BETAS)


CLAIMS: tuple[ClaimRecord, ...] = (
    ClaimRecord(
        key="1",
        quote=(
            "Comparing this plot to the latent space defined by the neural network in figure "
            "2, we see that now the points are distributed closer to zero, almost assembling "
            "a standard normal distribution with a minor variance."
        ),
        where="§4.1, figures 2 and 4",
        scope="the AE and the β = 1 VAE, last epoch, test digits",
        quantity="KL of a Gaussian fitted to the latent points to N(0, I), in nats",
        scale="log",
        criterion="the VAE's KL is below the AE's (margin: log of AE / VAE)",
        readings=(
            Reading("draws z ~ q(z|x)", Compare(AGGREGATE_KL, (None,), _b(1))),
            Reading("posterior means μ(x)", Compare(MEANS_KL, (None,), _b(1))),
            Reading("draws, VAE 5× closer", Compare(AGGREGATE_KL, (None,), _b(1), factor=5.0)),
        ),
        why="§4.1 says the VAE's plotted values are 'a random draw from this distribution'",
    ),
    ClaimRecord(
        key="2",
        quote=(
            "Even for a fully trained VAE, inputting multiple times the same picture results "
            "in slightly different latent space values and outputs, as shown in figure 3."
        ),
        where="§4.1, figure 3",
        scope="one test digit, decoded 16 times by the β = 1 VAE and by the AE",
        quantity="mean pixel standard deviation across the decodes",
        scale="raw",
        criterion="the VAE's is > 0 and the AE's is exactly 0",
        readings=(),
        why="a sanity check that holds by construction; no seed can change it",
        unit="deterministic",
    ),
    ClaimRecord(
        key="3a",
        quote=(
            "Firstly, the scatter plots of latent dimension distributions with higher β "
            "values appear to look more “normal-like”, exhibiting a rounder structure and "
            "more efficient allocation of space provided."
        ),
        where="§4.2, figure 5 (epoch 1)",
        scope="β ∈ {0, 1, 5}, epoch 1",
        quantity="KL of a Gaussian fitted to the latent points to N(0, I), in nats",
        scale="log",
        criterion="each step up in β lowers the KL (margin: the smallest log drop)",
        readings=(
            Reading("draws, epoch 1, β ∈ {0, 1, 5}", Ordered(AGGREGATE_KL, _b(0, 1, 5), 1, False)),
            Reading("means, epoch 1", Ordered(MEANS_KL, _b(0, 1, 5), 1, False)),
            Reading("draws, epoch 20", Ordered(AGGREGATE_KL, _b(0, 1, 5), LAST, False)),
            Reading(
                "draws, epoch 1, every β",
                Ordered(AGGREGATE_KL, _b(0, 1, 5, 50, 200, 500), 1, False),
            ),
        ),
        why="the sentence describes figure 5: epoch 1, β ∈ {0, 1, 5}, plotted draws (§4.1)",
    ),
    ClaimRecord(
        key="3b",
        quote=(
            "As we can see from scatter plots on figure 9: once we have high values of β our "
            "KL term increases rapidly and our distributions (even after many iterations) "
            "become less distinguishable and almost Normal."
        ),
        where="§4.2, figure 9",
        scope="β = 50 against β = 1, epoch 20 ('even after many iterations')",
        quantity="KL of a Gaussian fitted to the latent points to N(0, I), in nats",
        scale="log",
        criterion="β = 50's KL is below β = 1's (margin: log of β=1 / β=50)",
        readings=(
            Reading("draws, epoch 20", Compare(AGGREGATE_KL, _b(1), _b(50))),
            Reading("means, epoch 20", Compare(MEANS_KL, _b(1), _b(50))),
            Reading("draws, epoch 1", Compare(AGGREGATE_KL, _b(1), _b(50), epoch=1)),
        ),
        why="figure 9 pairs β = 1 and 50; 'even after many iterations' is its epoch 20",
        collapse_note="β = 50 collapses: its draws are N(0, I) and its means one point",
    ),
    ClaimRecord(
        key="3c",
        quote=(
            "Even for high β values, the distributions no longer resemble N(0, 1) "
            "distributions entirely."
        ),
        where="§4.2, figures 6–8",
        scope="β = 5 (the highest of figures 6–8), epoch 1 → 20",
        quantity="KL of a Gaussian fitted to the latent points to N(0, I), in nats",
        scale="log",
        criterion="the KL at epoch 20 is above that at epoch 1 (margin: log of the rise)",
        readings=(
            Reading("draws, β = 5", Change((AGGREGATE_KL,), _b(5), 1)),
            Reading("means, β = 5", Change((MEANS_KL,), _b(5), 1)),
            Reading("draws, β ∈ {1, 5}", Change((AGGREGATE_KL,), _b(1, 5), 1)),
        ),
        why="'no longer' compares figure 8 with figure 5; 'high β' in figures 5–8 is β = 5",
    ),
    ClaimRecord(
        key="4a",
        quote=(
            "For a β value of 0 (no KL term was used), the images sampled from the latent "
            "space had little meaning and bore little resemblance to the images in our data "
            "set. However, images sampled from the latent space with higher β values began "
            "to look more like our initial data set images."
        ),
        where="§4.2, figure 5 (epoch 1)",
        scope="β = 0 against β ∈ {1, 5} that did not collapse, epoch 1",
        quantity="the classifiers' confidence ratio (eq. 13) on decodes of z ~ N(0, I)",
        scale="log",
        criterion="β = 0's ratio is below every other β's (margin: log of the smallest gap)",
        readings=(
            Reading("epoch 1", Compare(PRIOR_CONFIDENCE, _b(1, 5), _b(0), 1, skip_collapsed=True)),
            Reading("epoch 20", Compare(PRIOR_CONFIDENCE, _b(1, 5), _b(0), skip_collapsed=True)),
            Reading("epoch 1, collapsed runs kept", Compare(PRIOR_CONFIDENCE, _b(1, 5), _b(0), 1)),
        ),
        why="the sentence describes figure 5; a collapsed run's samples are one image",
        unit="seeds × classifiers",
    ),
    ClaimRecord(
        key="4b",
        quote=(
            "Increasing the value of β results in better quality images sampled from the "
            "latent space, surpassing the quality of the reconstructed ones."
        ),
        where="§4.2, figures 12–13",
        scope="β ∈ {0, 1, 5, 50} that did not collapse, epoch 20",
        quantity="the classifiers' confidence ratio (eq. 13) on decodes of z ~ N(0, I) and "
        "on reconstructions",
        scale="log",
        criterion=(
            "each step up in β raises the samples' ratio, and for some β it exceeds the "
            "reconstructions' (margin: the smaller of the smallest log rise and the largest "
            "log excess)"
        ),
        readings=(
            Reading("epoch 20", Both((RISING_SAMPLES, SURPASSING))),
            Reading("epoch 20, rising only", RISING_SAMPLES),
            Reading("epoch 20, collapsed runs kept", Ordered(PRIOR_CONFIDENCE, CURVE_BETAS)),
            Reading(
                "epoch 10",
                Both(
                    (
                        Ordered(PRIOR_CONFIDENCE, CURVE_BETAS, 10, skip_collapsed=True),
                        Surpasses(PRIOR_CONFIDENCE, RECON_CONFIDENCE, CURVE_BETAS, 10),
                    )
                ),
            ),
        ),
        why="figures 12–13 plot β ∈ {0, 1, 5, 50}; image quality is judged on runs that "
        "did not collapse",
        unit="seeds × classifiers",
    ),
    ClaimRecord(
        key="5",
        quote=(
            "After epoch 5, the reconstructed images do not change significantly, and we "
            "begin to achieve almost perfect reconstruction for all β values."
        ),
        where="§4.2, figures 6–8",
        scope="β ∈ {0, 1, 5} that did not collapse, epochs 1 → 5 → 20",
        quantity="test reconstruction error",
        scale="log",
        criterion=(
            "it moves less from epoch 5 to 20 than from epoch 1 to 5, for every β (margin: "
            "log of the ratio of the two moves)"
        ),
        readings=(
            Reading("less after epoch 5 than before", Settles(RECON, SMALL_BETAS, 5)),
            Reading("≤ 10 % change after epoch 5", Settles(RECON, SMALL_BETAS, 5, 0.10)),
            Reading("≤ 5 % change after epoch 5", Settles(RECON, SMALL_BETAS, 5, 0.05)),
        ),
        why="'significantly' is read against the change the figures show before epoch 5, "
        "not a fixed share",
    ),
    ClaimRecord(
        key="6",
        quote=(
            "For the experiment, β values of 200-500 were attempted, but even after 20 "
            "epochs, the quality of reconstructed images was inadequate and significantly "
            "worse compared to VAEs with small β values."
        ),
        where="§4.2",
        scope="β ∈ {200, 500} against β = 1, epoch 20",
        quantity="test reconstruction error",
        scale="log",
        criterion="both large β reconstruct worse than β = 1 (margin: log of the smallest ratio)",
        readings=(
            Reading("against β = 1", Compare(RECON, LARGE_BETAS, _b(1))),
            Reading(
                "against every small β that did not collapse",
                Compare(RECON, LARGE_BETAS, SMALL_BETAS, skip_collapsed=True),
            ),
            Reading("≥ 1.5× β = 1's", Compare(RECON, LARGE_BETAS, _b(1), factor=1.5)),
        ),
        why="β = 1 is the study's VAE (§4.1); the other small β are β = 0, a VAE without KL, "
        "and β = 5, which collapses on some seeds of the study's own network",
        collapse_note="β ∈ {200, 500} collapse on every run: the claim is about collapsed models",
    ),
    ClaimRecord(
        key="7a",
        quote=(
            "After multiple iterations, the reconstruction loss drops significantly, while "
            "the KL loss increases in both absolute and relative terms."
        ),
        where="§4.2, figures 10–11",
        scope="β ∈ {0, 1, 5, 50}, epoch 1 → 20, test set",
        quantity="the objective's KL and its share KL / (recon + KL)",
        scale="log (KL), logit (share)",
        criterion="both rise for every β (margin: the smallest log or logit rise)",
        readings=(
            Reading("absolute and relative", Change((KL, KL_SHARE), CURVE_BETAS, 1)),
            Reading("relative only", Change((KL_SHARE,), CURVE_BETAS, 1)),
            Reading(
                "runs that did not collapse",
                Change((KL, KL_SHARE), CURVE_BETAS, 1, skip_collapsed=True),
            ),
        ),
        why="figures 10–11 show β ∈ {0, 1, 5, 50}, and the sentence says 'both'",
    ),
    ClaimRecord(
        key="7b",
        quote=(
            "It can be observed that even with very high multiplicative β values, the share "
            "of KL loss is relatively low at the beginning (below 1 percent)."
        ),
        where="§4.2, figures 10–11",
        scope="β = 50 (the highest of figures 10–11), after epoch 1, test set",
        quantity="the objective's KL share KL / (recon + KL)",
        scale="logit",
        criterion="below 1 % (margin: logit 1 % − logit of the share)",
        readings=(
            Reading("β = 50, test", Bound(KL_SHARE, _b(50), 0.01, 1)),
            Reading("β = 50, training mean of epoch 1", Bound(TRAIN_KL_SHARE, _b(50), 0.01, 1)),
            Reading("β = 50, β·KL share", Bound(BETA_KL_SHARE, _b(50), 0.01, 1)),
            Reading("every β ∈ {0, 1, 5, 50}", Bound(KL_SHARE, CURVE_BETAS, 0.01, 1)),
        ),
        why="'even with very high β' names the high end of figures 10–11",
    ),
    ClaimRecord(
        key="8",
        quote=(
            "Surprisingly, if we set β to very high values, the sampled images are even more "
            "recognizable by the network than the original ones"
        ),
        where="§4.2, figure 13",
        scope="β = 50, epoch 20",
        quantity="the classifiers' confidence ratio (eq. 13) on decodes of z ~ N(0, I)",
        scale="log",
        criterion="above 1 (margin: its log)",
        readings=(
            Reading("β = 50", Bound(PRIOR_CONFIDENCE, _b(50), 1.0, above=True)),
            Reading(
                "the best of β ≥ 50",
                Bound(PRIOR_CONFIDENCE, _b(50, 200, 500), 1.0, above=True, any_beta=True),
            ),
        ),
        why="figure 13 shows β = 50, the study's highest plotted β",
        unit="seeds × classifiers",
        collapse_note="β ≥ 50 collapse on every run: the claim is about collapsed models",
    ),
    ClaimRecord(
        key="9",
        quote=(
            "the samples obtained with β = 0 are mostly nonsensical, while the samples from "
            "the space defined by the KL term with β = 5 are meaningful and have a lot of "
            "similarities with each other."
        ),
        where="§4.2, figure 14",
        scope="β = 5 against β = 0, runs where β = 5 did not collapse, epoch 20",
        quantity="the classifiers' confidence ratio (eq. 13) on decodes of z ~ N(1, 0.5²)",
        scale="log",
        criterion="β = 5's ratio is above β = 0's (margin: log of the ratio)",
        readings=(
            Reading(
                "confidence",
                Compare(SHIFTED_CONFIDENCE, _b(5), _b(0), skip_collapsed=True),
            ),
            Reading("confidence, collapsed runs kept", Compare(SHIFTED_CONFIDENCE, _b(5), _b(0))),
            Reading(
                "class entropy lower for β = 5",
                Compare(SHIFTED_ENTROPY, _b(0), _b(5), skip_collapsed=True),
            ),
        ),
        why="'meaningful' is what eq. 13 measures; a collapsed run's samples are one image",
        unit="seeds × classifiers",
    ),
    ClaimRecord(
        key="10",
        quote=(
            "After 10 epochs, it was able to recognize digits quite well (with an accuracy of "
            "over 85 percentage on the testing dataset)."
        ),
        where="§4.2",
        scope="each classifier of the ensemble",
        quantity="test accuracy",
        scale="logit",
        criterion="above 85 % (margin: logit of accuracy − logit 0.85)",
        readings=(),
        why="the sentence's own threshold",
        unit="classifiers",
    ),
)
