"""Stage `evaluate`: every checkpoint of one model, each seed of it, measured on the test
images.

Deterministic: every draw comes from one generator seeded by `eval.seed`, and everything
runs under `torch.inference_mode` in large batches.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vaelab.core import latents, objectives, params
from vaelab.core.checkpoints import checkpoint_path, load_autoencoder, load_classifier
from vaelab.core.models import AE, Classifier
from vaelab.core.names import BY_CLASSIFIER, epoch_key
from vaelab.core.runtime import environment, resolve_device, seed_everything, set_threads
from vaelab.data.mnist import load_mnist
from vaelab.evaluation import metrics


@dataclass(frozen=True)
class Reference:
    """What every checkpoint is compared with: each classifier of the ensemble on the real test
    digits. Fréchet distances live in the first classifier's feature space (one space, not
    an average of several)."""

    classifiers: tuple[Classifier, ...]
    test_x: torch.Tensor
    baselines: tuple[float, ...]
    test_features: torch.Tensor
    real_vs_real_fid: float


def build_reference(
    classifiers: tuple[Classifier, ...],
    train_x: torch.Tensor,
    test_x: torch.Tensor,
    eval_p: params.EvalParams,
) -> Reference:
    on_test = [c.predict(test_x, eval_p.batch_size) for c in classifiers]
    baselines = tuple(float(confidence.mean()) for confidence, _, _ in on_test)
    test_features = on_test[0][2]
    subset = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(eval_p.seed))
    _, _, train_features = classifiers[0].predict(
        train_x[subset[: eval_p.fid_reference_size]], eval_p.batch_size
    )
    return Reference(
        classifiers,
        test_x,
        baselines,
        test_features,
        metrics.frechet_distance(train_features, test_features),
    )


def ensemble_scores(
    ref: Reference, images: torch.Tensor, eval_p: params.EvalParams, prefix: str
) -> tuple[dict[str, Any], torch.Tensor]:
    """Eq. 13 per classifier (its mean confidence on `images` over its own baseline) and the
    entropy of its predicted classes: each as the ensemble mean and per classifier. Also the
    first classifier's class counts and features."""
    ratios, entropies, counts, features = [], [], None, None
    for classifier, baseline in zip(ref.classifiers, ref.baselines, strict=True):
        confidence, predicted, found = classifier.predict(images, eval_p.batch_size)
        ratios.append(float(confidence.mean()) / baseline)
        entropy, classes = metrics.class_entropy_bits(predicted)
        entropies.append(entropy)
        if features is None:
            counts, features = classes, found
    scores = {
        f"{prefix}_confidence_ratio": statistics.fmean(ratios),
        f"{prefix}_confidence_ratio{BY_CLASSIFIER}": ratios,
        f"{prefix}_class_entropy_bits": statistics.fmean(entropies),
        f"{prefix}_class_entropy_bits{BY_CLASSIFIER}": entropies,
        f"{prefix}_class_counts": counts,
    }
    return scores, features


@torch.inference_mode()
def _likelihood_terms(
    model: AE, x: torch.Tensor, likelihood, eval_p: params.EvalParams, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """Per-image recon (objective units), neg_elbo and iwae (nats), mu, logvar, one recon."""
    per_batch = (
        max(1, eval_p.batch_size // eval_p.iwae_k) if model.stochastic else eval_p.batch_size
    )
    parts: dict[str, list[torch.Tensor]] = {}
    for start in range(0, len(x), per_batch):
        xb = x[start : start + per_batch]
        mu, logvar = model.encode(xb)
        images = torch.sigmoid(model.decode(model.latent(mu, logvar, generator)))
        row = {"mu": mu, "logvar": logvar, "images": images}
        if model.stochastic:
            log_w, recon_nats = metrics.importance_log_weights(
                model, xb, likelihood, eval_p.iwae_k, generator
            )
            kl = objectives.kl_divergence(mu, logvar, model.family, model.prior_std)
            row |= {
                "recon": recon_nats.mean(dim=0) - likelihood.nats_offset,
                "kl": kl,
                "neg_elbo_nats": recon_nats.mean(dim=0) + kl,
                "iwae_nats": metrics.iwae_nats(log_w),
            }
        else:
            row["recon"] = likelihood.recon(model.decode(mu), xb)
        for key, value in row.items():
            parts.setdefault(key, []).append(value)
    return {key: torch.cat(values) for key, values in parts.items()}


def _sample_scores(
    model: AE, ref: Reference, z: torch.Tensor, eval_p: params.EvalParams, prefix: str
) -> tuple[dict[str, Any], torch.Tensor]:
    with torch.inference_mode():
        images = torch.sigmoid(model.decode(z))
    return ensemble_scores(ref, images, eval_p, prefix)


def evaluate_checkpoint(
    model: AE,
    beta: float | None,
    ref: Reference,
    likelihood: objectives.Likelihood,
    eval_p: params.EvalParams,
    generator: torch.Generator,
) -> dict[str, Any]:
    """All metrics of one checkpoint: docs/objective.md says what each means."""
    terms = _likelihood_terms(model, ref.test_x, likelihood, eval_p, generator)
    row: dict[str, Any] = {
        "recon": float(terms["recon"].mean()),
        "recon_nats": float(terms["recon"].mean()) + likelihood.nats_offset,
    }
    logvar = None
    if model.stochastic:
        logvar = terms["logvar"]
        kl = float(terms["kl"].mean())
        row |= {
            "kl": kl,
            "loss": row["recon"] + beta * kl,
            "neg_elbo_nats": float(terms["neg_elbo_nats"].mean()),
            "iwae_nats": float(terms["iwae_nats"].mean()),
            **objectives.kl_shares(row["recon"], kl, beta),
            "kl_per_dim": latents.kl_per_dim(model.family, terms["mu"], logvar, model.prior_std)
            .mean(dim=0)
            .tolist(),
        }
    else:
        row["loss"] = row["recon"]
    row["active_units"], row["latent_variance"] = metrics.active_units(
        terms["mu"], eval_p.active_unit_threshold
    )
    # Two readings of "the latent space": q(z), which draws z ~ q(z|x) fill (the study's
    # scatter plots, §4.1), and the cloud of posterior means alone (our scatters' dots).
    row["aggregate_posterior"] = metrics.aggregate_posterior(terms["mu"], logvar)
    row["aggregate_means"] = metrics.aggregate_posterior(terms["mu"], None)
    row |= ensemble_scores(ref, terms["images"], eval_p, "recon")[0]
    # Samples of the prior, then of the prior moved to `shifted_mean` and scaled by
    # `shifted_std` (figure 14).
    family, prior_std = model.family, model.prior_std
    shape = (eval_p.n_prior_samples, model.latent_dim)
    prior_z = latents.prior_sample(family, shape, generator, 0.0, prior_std)
    scores, prior_features = _sample_scores(model, ref, prior_z, eval_p, "prior")
    row |= scores
    row["prior_frechet_distance"] = metrics.frechet_distance(prior_features, ref.test_features)
    shifted_std = eval_p.shifted_std * prior_std
    shifted_z = latents.prior_sample(family, shape, generator, eval_p.shifted_mean, shifted_std)
    row |= _sample_scores(model, ref, shifted_z, eval_p, "shifted")[0]
    if not latents.is_standard_normal(family, prior_std):  # left out: the bytes of before
        row |= {"latent": family, "prior_std": prior_std}
    return row


def evaluate_models(
    kind: str,
    beta: float | None,
    model_dirs: Sequence[Path],
    rebuild: Sequence[str],
    models_root: Path,
    data_root: Path,
    model_p: params.ModelParams,
    train_p: params.TrainParams,
    clf_p: params.ClassifierParams,
    eval_p: params.EvalParams,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per model dir (one seed each, made again by the command of the same index in
    `rebuild`): metrics of every checkpoint in `train.checkpoints`,
    keyed `epoch_001` …; and apart from them the stage's runtime record, each model's
    seconds and the machine (which differ between machines; the metrics do not). The data
    and the classifiers' reference are loaded once: every draw comes from its own seeded
    generator, so a model's numbers do not depend on which others share the run."""
    start = time.perf_counter()
    seed_everything(eval_p.seed)
    set_threads(train_p.threads)
    device = resolve_device("cpu")  # evaluation is small; the CPU keeps it bit-reproducible
    train, test = load_mnist(data_root)
    classifiers = tuple(load_classifier(models_root, seed) for seed in clf_p.seeds)
    ref = build_reference(classifiers, train.flat_float(), test.flat_float(), eval_p)
    likelihood = objectives.Likelihood(model_p.likelihood, model_p.gaussian_variance)
    header: dict[str, Any] = {
        "kind": kind,
        "beta": beta,
        # The rule z = μ + σ·ε was trained with; held-out metrics use the q it sampled from.
        "sampling": model_p.sampling if kind == "vae" else None,
        "classifier_seeds": list(clf_p.seeds),
        "baseline_confidence": statistics.fmean(ref.baselines),
        f"baseline_confidence{BY_CLASSIFIER}": list(ref.baselines),
        "real_vs_real_frechet_distance": ref.real_vs_real_fid,
    }
    # Data and classifiers, loaded once per stage.
    runtime: dict[str, Any] = {
        "shared_seconds": time.perf_counter() - start,
        "seconds_by_model": {},
        "environment": environment(device),
    }
    found = []
    for model_dir, command in zip(model_dirs, rebuild, strict=True):
        start = time.perf_counter()
        result = dict(header)
        for epoch in train_p.checkpoints:
            path = checkpoint_path(model_dir, epoch)
            model = load_autoencoder(path, beta, model_p, command)
            generator = torch.Generator().manual_seed(eval_p.seed + epoch)
            result[epoch_key(epoch)] = evaluate_checkpoint(
                model, beta, ref, likelihood, eval_p, generator
            )
        found.append(result)
        runtime["seconds_by_model"][str(model_dir)] = time.perf_counter() - start
    return found, runtime
