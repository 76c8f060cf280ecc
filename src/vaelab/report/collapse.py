"""Posterior collapse as an outcome of a run, counted over seeds and never averaged.

A VAE run has collapsed at a checkpoint when no latent unit is active (the variance of its
posterior means over the test set is below `eval.active_unit_threshold` in every dimension,
Burda et al. 2015) or when its mean KL to the prior is below KL_RESOLUTION: either way its
decoder reads (almost) nothing of the input, and its decodes of any z are one image.
"""

from __future__ import annotations

from collections.abc import Sequence

from vaelab.core.names import epoch_key, model_name
from vaelab.report.evidence import Evidence

KL_RESOLUTION = 1e-3  # nats per image: below this a posterior carries no usable information


def collapsed(ev: Evidence, beta: float, epoch: int) -> bool:
    """Whether `beta`'s run collapsed at `epoch` (the last checkpoint for a negative epoch)."""
    epoch = ev.last_epoch if epoch < 0 else epoch
    found = ev.at(beta, epoch)
    return found["active_units"] == 0 or found["kl"] < KL_RESOLUTION


def collapse_counts(runs: Sequence[Evidence]) -> dict[float, dict[int, tuple[int, int]]]:
    """β → epoch → (collapsed runs, measured runs), over a setup's seeds."""
    first = runs[0]
    table: dict[float, dict[int, tuple[int, int]]] = {}
    for beta in first.betas:
        table[beta] = {}
        for epoch in first.checkpoints:
            measured = [
                ev for ev in runs if epoch_key(epoch) in ev.evals.get(model_name(beta), {})
            ]
            hits = sum(collapsed(ev, beta, epoch) for ev in measured)
            table[beta][epoch] = (hits, len(measured))
    return table
