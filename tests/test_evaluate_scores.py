"""The numbers the study's claims rest on, where `evaluate` makes them: eq. 13's confidence
ratio (each classifier over its own baseline), class entropies in bits, class counts.

Stub classifiers of known confidence stand in for trained ones, so every expected value is
exact: a wrong baseline, a mean taken in the wrong order or a swapped sample set shows.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

import pytest
import torch

from vaelab.core import objectives
from vaelab.core.models import AE, VAE
from vaelab.core.params import EvalParams
from vaelab.evaluation import metrics
from vaelab.evaluation.evaluate import (
    Reference,
    build_reference,
    ensemble_scores,
    evaluate_checkpoint,
)

Rule = Callable[[torch.Tensor], torch.Tensor]
EXACT = 1e-12


def eval_params(**changes) -> EvalParams:
    """Small evaluation settings; one batch holds every image of these tests."""
    values = dict(
        seed=7,
        batch_size=4096,
        iwae_k=3,
        n_prior_samples=300,
        shifted_mean=1.0,
        shifted_std=0.5,
        fid_reference_size=6,
        active_unit_threshold=0.01,
    )
    return EvalParams(**(values | changes))


class StubClassifier:
    """Duck-types `Classifier.predict`: confidence, predicted class and features of each
    image (N, 784) are known functions of its pixels, so their means are known exactly."""

    def __init__(self, confidence: Rule, predicted: Rule, features: Rule) -> None:
        self.confidence, self.predicted, self.features = confidence, predicted, features

    def predict(self, images: torch.Tensor, batch_size: int):
        return self.confidence(images), self.predicted(images), self.features(images)


def pixel_stub(confidence_pixel: int, class_pixel: int, feature_pixels: slice) -> StubClassifier:
    """Reads its confidence and its predicted class from one pixel each."""
    return StubClassifier(
        lambda x: x[:, confidence_pixel].double(),
        lambda x: x[:, class_pixel].long(),
        lambda x: x[:, feature_pixels].double(),
    )


def images_with(columns: dict[int, list[float]]) -> torch.Tensor:
    """(N, 784) zeros with the given pixel columns set: what the stubs read."""
    n = len(next(iter(columns.values())))
    images = torch.zeros((n, 784))
    for pixel, values in columns.items():
        images[:, pixel] = torch.tensor(values)
    return images


# Dyadic values: every mean and ratio below is exact in binary floating point.
TEST = images_with(
    {0: [0.5, 0.5, 1.0, 1.0], 1: [0.5] * 4, 2: [0, 0, 0, 0], 3: [1] * 4, 4: [1, 2, 3, 5]}
)
GENERATED = images_with(
    {
        0: [0.25, 0.5, 0.25, 0.5],  # classifier A: mean 0.375 over baseline 0.75 = 0.5
        1: [0.75] * 4,  # classifier B: mean 0.75 over baseline 0.5 = 1.5
        2: [0, 1, 2, 3],  # A's classes: four, evenly: 2 bits
        3: [5, 5, 5, 5],  # B's classes: one: 0 bits
        4: [1, 4, 9, 16],
        5: [2, 3, 5, 7],
    }
)


@pytest.fixture
def reference() -> Reference:
    """Classifier A reads pixels 0 and 2, B pixels 1 and 3; baselines 0.75 and 0.5."""
    classifiers = (pixel_stub(0, 2, slice(4, 6)), pixel_stub(1, 3, slice(5, 6)))
    train = images_with({4: [1, 2, 4, 8, 16, 32, 64], 5: [3, 1, 4, 1, 5, 9, 2]})
    return build_reference(classifiers, train, TEST, eval_params())


def test_reference_baselines_are_each_classifiers_mean_confidence_on_the_test_images(
    reference,
):
    assert reference.baselines == (0.75, 0.5)
    assert torch.equal(reference.test_features, TEST[:, 4:6].double())


def test_confidence_ratio_is_eq_13_per_classifier_then_the_ensemble_mean(reference):
    """A shared baseline (0.625) would give 0.6 and 1.2; the mean confidence over the mean
    baseline would give 0.9 for the ensemble."""
    scores, _ = ensemble_scores(reference, GENERATED, eval_params(), "prior")
    assert scores["prior_confidence_ratio_by_classifier"] == [0.5, 1.5]
    assert scores["prior_confidence_ratio"] == 1.0


def test_class_entropy_is_in_bits_per_classifier_then_the_ensemble_mean(reference):
    scores, _ = ensemble_scores(reference, GENERATED, eval_params(), "recon")
    assert scores["recon_class_entropy_bits_by_classifier"] == [2.0, 0.0]
    assert scores["recon_class_entropy_bits"] == 1.0


def test_class_counts_and_features_come_from_the_first_classifier(reference):
    scores, features = ensemble_scores(reference, GENERATED, eval_params(), "shifted")
    assert scores["shifted_class_counts"] == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert torch.equal(features, GENERATED[:, 4:6].double())


@pytest.mark.parametrize(
    ("classes", "bits"),
    [
        ([0, 1, 2, 3], 2.0),
        ([6, 6, 9, 9], 1.0),
        ([4, 4, 4, 4], 0.0),
        (list(range(8)), 3.0),
        ([0, 0, 0, 1], -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))),
    ],
)
def test_class_entropy_of_known_histograms(classes, bits):
    generated = images_with({0: [0.5] * len(classes), 2: classes})
    one = Reference((pixel_stub(0, 2, slice(4, 6)),), TEST, (0.25,), TEST[:, 4:6], 0.0)
    scores, _ = ensemble_scores(one, generated, eval_params(), "prior")
    assert scores["prior_class_entropy_bits"] == pytest.approx(bits, rel=EXACT, abs=0.0)
    assert scores["prior_class_entropy_bits_by_classifier"] == [scores["prior_class_entropy_bits"]]
    assert scores["prior_confidence_ratio"] == 2.0  # 0.5 over the baseline 0.25


def rule_stubs() -> tuple[StubClassifier, ...]:
    """Two classifiers whose confidences are different functions of the whole image, so their
    baselines differ and each ratio needs its own."""
    return (
        StubClassifier(
            lambda x: x.double().mean(dim=1),
            lambda x: (x[:, 0] * 10).long().clamp(max=9),
            lambda x: x[:, :3].double(),
        ),
        StubClassifier(
            lambda x: x.double().square().amax(dim=1),
            lambda x: (x[:, 1] * 10).long().clamp(max=9),
            lambda x: x[:, 3:5].double(),
        ),
    )


def expected_ratios(ref: Reference, images: torch.Tensor) -> list[float]:
    """Eq. 13 straight from the stubs' rules: mean rule on `images` over mean rule on test."""
    return [
        float(c.confidence(images).mean()) / float(c.confidence(ref.test_x).mean())
        for c in ref.classifiers
    ]


def assert_ratios(row: dict, prefix: str, expected: list[float]) -> None:
    by_classifier = row[f"{prefix}_confidence_ratio_by_classifier"]
    assert by_classifier == pytest.approx(expected, rel=EXACT, abs=0.0)
    assert row[f"{prefix}_confidence_ratio"] == pytest.approx(
        statistics.fmean(expected), rel=EXACT, abs=0.0
    )


def digits(n: int) -> torch.Tensor:
    """(n, 784) stand-in test images in [0, 1]."""
    return torch.rand((n, 784), generator=torch.Generator().manual_seed(11))


def test_evaluate_checkpoint_ratios_of_an_autoencoder_follow_the_rule():
    """The AE draws nothing for its reconstructions, so the generator's first two draws are the
    prior's z ~ N(0, I) and the shifted z ~ N(1, 0.5²): replaying them gives every image."""
    torch.manual_seed(0)
    model, eval_p = AE([16], 2).eval(), eval_params()
    test_x = digits(64)
    ref = build_reference(rule_stubs(), digits(40), test_x, eval_p)
    likelihood = objectives.Likelihood("bernoulli", 0.5)
    generator = torch.Generator().manual_seed(eval_p.seed)
    row = evaluate_checkpoint(model, None, ref, likelihood, eval_p, generator)

    replay = torch.Generator().manual_seed(eval_p.seed)
    n, dim = eval_p.n_prior_samples, model.latent_dim
    prior_z = torch.randn((n, dim), generator=replay)
    shifted_z = 1.0 + 0.5 * torch.randn((n, dim), generator=replay)
    with torch.inference_mode():
        recon = torch.sigmoid(model.decode(model.encode(test_x)[0]))
        prior, shifted = (torch.sigmoid(model.decode(z)) for z in (prior_z, shifted_z))
    for prefix, images in (("recon", recon), ("prior", prior), ("shifted", shifted)):
        assert_ratios(row, prefix, expected_ratios(ref, images))
    assert row["prior_confidence_ratio"] != pytest.approx(row["shifted_confidence_ratio"])
    prior_features = ref.classifiers[0].features(prior)
    assert row["prior_frechet_distance"] == pytest.approx(
        metrics.frechet_distance(prior_features, ref.test_features), rel=EXACT
    )


def test_evaluate_checkpoint_ratios_of_a_vae_whose_decoder_ignores_z():
    """A decoder with zero last-layer weights draws one image, sigmoid(bias), whatever z is:
    recon, prior and shifted ratios are each rule(that image) over the rule's baseline."""
    torch.manual_seed(0)
    model = VAE([16], 2).eval()
    bias = torch.linspace(-3.0, 2.0, 784)
    with torch.no_grad():
        model.decoder[-1].weight.zero_()
        model.decoder[-1].bias.copy_(bias)
    ref = build_reference(rule_stubs(), digits(40), digits(64), eval_params())
    likelihood = objectives.Likelihood("bernoulli", 0.5)
    generator = torch.Generator().manual_seed(3)
    row = evaluate_checkpoint(model, 1.0, ref, likelihood, eval_params(), generator)
    expected = expected_ratios(ref, torch.sigmoid(bias)[None])
    assert expected[0] != pytest.approx(expected[1])  # the two baselines are not one
    for prefix in ("recon", "prior", "shifted"):
        assert_ratios(row, prefix, expected)
