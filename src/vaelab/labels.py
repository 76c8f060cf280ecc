"""How a value is shown to a reader: every label built from params or a named constant.

Figures, report and claims share these, so a label cannot go stale in one of them when a
setting changes. Torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from vaelab.core.names import beta_tag
from vaelab.core.params import EvalParams, ModelParams

# The dashed circle the figures and the explorer draw about a prior: this many of its
# standard deviations.
PRIOR_CIRCLE_STDS = 2.0
STUDY_GAUSSIAN_VARIANCE = 0.5  # σ² at which recon / (2σ²) is the study's sum of squared errors


def gaussian_name(mean: float, std: float) -> str:
    """'N(1, 0.5²)': a 1-D normal by its mean and standard deviation."""
    return f"N({mean:g}, {std:g}²)"


def prior_label(
    model_p: ModelParams, mean: float = 0.0, spread: float = 1.0, identity: str = "I"
) -> str:
    """The setup's prior p(z), moved to `mean` and scaled to `spread` of its standard
    deviation: 'N(0, I)' (per dimension: identity '1'), 'N(1, 0.5²)', 'Laplace(1, 0.354)'
    (location, scale b). A uniform posterior has a normal prior (`latents.prior_family`)."""
    std = spread * model_p.prior_std
    if model_p.latent == "laplace":
        return f"Laplace({mean:g}, {std / math.sqrt(2):.3g})"
    return f"N(0, {identity})" if (mean, std) == (0.0, 1.0) else gaussian_name(mean, std)


def shifted_prior_label(model_p: ModelParams, eval_p: EvalParams) -> str:
    """Figure 14's prior: the setup's moved to eval.shifted_mean, scaled to eval.shifted_std."""
    return prior_label(model_p, eval_p.shifted_mean, eval_p.shifted_std)


def shifted_name(eval_p: EvalParams) -> str:
    """The shifted prior of figure 14 as configured by `eval.shifted_*`."""
    return gaussian_name(eval_p.shifted_mean, eval_p.shifted_std)


def beta_label(beta: float | None) -> str:
    """'AE' or 'β = 5': a model in a table or a title."""
    return "AE" if beta is None else f"β = {beta_tag(beta)}"


def beta_key(beta: float) -> str:
    """'β=5': the compact form used in the names of a claim's numbers."""
    return f"β={beta_tag(beta)}"


def beta_set(betas: Iterable[float]) -> str:
    """'{0, 1, 5}'."""
    return "{" + ", ".join(beta_tag(b) for b in betas) + "}"


def beta_range(betas: Iterable[float]) -> str:
    """'200–500': the lowest and the highest β, as the study writes a group."""
    ordered = sorted(betas)
    return f"{beta_tag(ordered[0])}–{beta_tag(ordered[-1])}"


def beta_list(betas: Iterable[float]) -> str:
    """'β = 0 and β = 1': the models of one figure, in a caption."""
    return " and ".join(beta_label(b) for b in betas)


def model_title(beta: float | None, epoch: int) -> str:
    """'AE, epoch 20' or 'VAE β = 5, epoch 20'."""
    return f"AE, epoch {epoch}" if beta is None else f"VAE {beta_label(beta)}, epoch {epoch}"


def is_study_loss(model_p: ModelParams) -> bool:
    """True when `recon` is exactly the study's sum of squared errors."""
    return (
        model_p.likelihood == "gaussian" and model_p.gaussian_variance == STUDY_GAUSSIAN_VARIANCE
    )


def recon_label(model_p: ModelParams) -> str:
    """An axis label for what `recon` measures under the configured likelihood."""
    if model_p.likelihood == "bernoulli":
        return "recon: −log p(x|z), nats"
    if is_study_loss(model_p):
        return "recon: sum of squared errors"
    return f"recon: Σ (x − x̂)² / (2·{model_p.gaussian_variance:g})"


def recon_unit(model_p: ModelParams) -> str:
    """A sentence's words for what `recon` measures."""
    if is_study_loss(model_p):
        return "sum of squared errors per image (the study's loss)"
    return f"the {model_p.likelihood} negative log-likelihood without its constant"


def percent(share: float) -> str:
    """0.315 -> '32 %' (two significant figures)."""
    return f"{100 * share:.2g} %"


def count(n: int) -> str:
    """10000 -> '10 000'."""
    return f"{n:,}".replace(",", " ")
