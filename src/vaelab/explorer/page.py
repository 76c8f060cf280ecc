"""The explorer page: every offered model's payload and the page's code in one offline HTML file.

page.html holds the layout and styles, page.js the behaviour; both are inlined here, with the
payload as JSON, so the file opens from disk with no network and no other file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vaelab import labels
from vaelab.core import params
from vaelab.core.models import AE, Classifier
from vaelab.core.names import beta_tag
from vaelab.explorer.payload import b64, model_entry

HERE = Path(__file__).parent
TEMPLATE, SCRIPT = HERE / "page.html", HERE / "page.js"
BETA_MENU, EPOCH_MENU = "β", "epoch"  # "Compare β" lines up the models differing in BETA_MENU


class ExplorerError(ValueError):
    """A setting the page cannot be built with, such as a test index past the test set."""


@dataclass(frozen=True)
class Offered:
    """One model-checkpoint the page offers: its menu values (β, epoch, …) and the model."""

    title: str
    label: str  # its caption in the "Compare β" row
    menu: dict[str, str]
    model: AE


def offered(beta: float | None, epoch: int, model: AE) -> Offered:
    """The AE (β None) or a β-VAE after `epoch` epochs, as the page's menus name it."""
    menu = {BETA_MENU: "AE" if beta is None else beta_tag(beta), EPOCH_MENU: str(epoch)}
    return Offered(labels.model_title(beta, epoch), labels.beta_label(beta), menu, model)


def payload(
    models_offered: list[Offered],
    images: torch.Tensor,
    digits: torch.Tensor,
    classifier: Classifier,
    classifier_seed: int,
    explorer_p: params.ExplorerParams,
    eval_p: params.EvalParams,
    model_p: params.ModelParams,
) -> dict[str, Any]:
    """The page's data; each model's `decodeError` is its largest pixel error (in 1/255).
    model_p: the offered setup's, whose prior (family and spread) the page draws."""
    too_far = [i for i in explorer_p.interpolate if i >= len(images)]
    if too_far:
        raise ExplorerError(
            f"explorer.interpolate = {list(explorer_p.interpolate)}: the test set has "
            f"{len(images)} images, so index {too_far[0]} does not exist; pick indices below "
            f"{len(images)} in params.yaml"
        )
    prior_radius = labels.PRIOR_CIRCLE_STDS * model_p.prior_std
    shifted_radius = labels.PRIOR_CIRCLE_STDS * eval_p.shifted_std * model_p.prior_std
    circles = (prior_radius, eval_p.shifted_mean, shifted_radius)
    held = explorer_p.interpolate[0]
    models = []
    for item in models_offered:
        entry, error = model_entry(
            item.model, images, classifier, held, circles, explorer_p.classifier_grid
        )
        error = round(error, 4)
        models.append(
            {"name": item.title, "label": item.label, "menu": item.menu, "decodeError": error}
            | entry
        )
    return {
        "latentDim": models_offered[0].model.latent_dim,
        "digits": b64(digits.numpy(), "u1"),
        "menus": list(models_offered[0].menu),
        "compare": BETA_MENU,
        "prior": {"radius": prior_radius, "name": labels.prior_label(model_p)},
        "shifted": {
            "mean": eval_p.shifted_mean,
            "radius": shifted_radius,
            "name": labels.shifted_prior_label(model_p, eval_p),
        },
        "classifier": f"classifier seed {classifier_seed}",
        "interpolate": list(explorer_p.interpolate),
        "stripImages": explorer_p.strip_images,
        "models": models,
    }


def render(data: dict[str, Any]) -> str:
    """page.html with page.js and the payload inlined; `</` escaped so JSON cannot end a tag."""
    text = json.dumps(data, separators=(",", ":"), sort_keys=True).replace("</", "<\\/")
    return (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("/*PAYLOAD*/", text)
        .replace("/*SCRIPT*/", SCRIPT.read_text(encoding="utf-8"))
    )
