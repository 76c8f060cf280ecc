"""The report's own sections: the summary, the claims table, all metrics, and how the run went.

`missing_inputs` lists every input that is absent with the `dvc repro` target that makes it,
so the summary of a half-run pipeline says what to run next.
"""

from __future__ import annotations

from pathlib import Path

from vaelab import names
from vaelab.data.files import SPLIT_SIZES
from vaelab.labels import beta_label, beta_set, count, recon_unit, shifted_name
from vaelab.names import (
    CLASSIFIER_TARGET,
    DATA_SUMMARY,
    DOWNLOAD_TARGET,
    FIGURES_NUMBERS,
    FIGURES_TARGET,
)
from vaelab.report.cells import NOT_MEASURED, ensemble_text, fmt, metrics_columns, rows
from vaelab.report.claims import Claim
from vaelab.report.evidence import Evidence
from vaelab.report.render import Block, Bullets, Heading, Paragraph, Table
from vaelab.report.settings import Settings

TITLE = "Understanding the ELBO in VAEs and β-VAEs: a reproduction"


def _numbers(claim: Claim) -> str:
    return "; ".join(f"{name} = {fmt(value)}" for name, value in claim.numbers.items())


def claims_section(claims: list[Claim]) -> list[Block]:
    table = tuple((c.key, c.text, _numbers(c) or "—", c.verdict, c.note) for c in claims)
    return [
        Heading("Claims of the study, checked"),
        Paragraph(
            "Each verdict is computed from the metrics above by `src/vaelab/report/claims.py`, "
            'whose named constants turn the study\'s words ("much", "significantly") '
            "into thresholds. A claim that does not hold is a finding about this "
            "reproduction, not a failure of the pipeline. A claim on the classifiers' "
            "confidence is judged on the ensemble's mean and under each classifier alone; "
            "when they disagree it is *inconclusive*."
        ),
        Table(("#", "claim", "numbers", "verdict", "note"), table),
    ]


def metrics_section(ev: Evidence, s: Settings) -> list[Block]:
    models = [None, *ev.betas]
    columns = metrics_columns(shifted_name(s.eval))
    table = rows(ev, [(b, e) for b in models for e in ev.checkpoints], columns)
    return [
        Heading("Metrics per model and checkpoint"),
        Paragraph(
            f"Test set, {count(SPLIT_SIZES['test'])} digits. `recon` is the "
            f"{recon_unit(s.model)}; `[nats]` columns include "
            f"the likelihood's normalising constant, so −ELBO = recon [nats] + KL. "
            f"Confidence ratios are against real digits; H is the entropy of the "
            f"predicted-class histogram. `—`: not defined for the AE; `{NOT_MEASURED}`: "
            f"not measured."
        ),
        table,
    ]


def run_section(ev: Evidence, s: Settings) -> list[Block]:
    seeds = (
        f"train.seed {s.train.seed}, classifier.seeds {list(ev.classifier_seeds)}, "
        f"eval.seed {s.eval.seed}, figures.seed {s.figures.seed}"
    )
    data = ev.data or {}
    digests = [f"`{name}` sha256 `{digest}`" for name, digest in data.get("sha256", {}).items()]
    return [
        Heading("The run"),
        Bullets(
            (
                f"Classifiers: {ensemble_text(ev)}.",
                f"Seeds: {seeds}.",
                f"Model: {s.model.likelihood} likelihood (σ² = {s.model.gaussian_variance:g}), "
                f"hidden {list(s.model.hidden)}, latent dimension {s.model.latent_dim}; "
                f"checkpoints at epochs {list(ev.checkpoints)}.",
                f"MNIST from `{data.get('source', NOT_MEASURED)}`.",
                *digests,
            )
        ),
        Paragraph(
            f"The machine, library versions and wall time of each stage are in "
            f"`report/{names.RUNTIME_REPORT}` and at the end of `report/index.html`: they "
            f"differ from machine to machine, and this page does not."
        ),
    ]


def missing_inputs(ev: Evidence, figures_dir: Path, latent_dim: int) -> list[str]:
    """One line per missing input: what it is and the `dvc repro` target that makes it."""
    lines = []
    if ev.data is None:
        lines.append(f"`metrics/{DATA_SUMMARY}`: run `dvc repro {DOWNLOAD_TARGET}`")
    if ev.classifier is None:
        lines.append(f"a classifier's summary: run `dvc repro {CLASSIFIER_TARGET}`")
    for beta in [None, *ev.betas]:
        name, model = names.model_name(beta), beta_label(beta)
        if name not in ev.train:
            target = names.train_target(beta)
            lines.append(f"training summary of {model}: run `dvc repro {target}`")
        if name not in ev.evals:
            lines.append(f"evaluation of {model}: run `dvc repro {names.eval_target(beta)}`")
    expected = names.expected_figures(ev.checkpoints, latent_dim)
    absent = [f"`{n}`" for n in expected if not (figures_dir / n).exists()]
    if len(absent) == len(expected):
        absent = [f"all {len(expected)} figures"]
    if ev.figures is None or absent:
        what = ", ".join(([f"`metrics/{FIGURES_NUMBERS}`"] if ev.figures is None else []) + absent)
        lines.append(f"{what}: run `dvc repro {FIGURES_TARGET}`")
    return lines


def summary_section(
    ev: Evidence, s: Settings, claims: list[Claim], figures_dir: Path
) -> list[Block]:
    counts = {
        v: sum(c.verdict == v for c in claims)
        for v in ("holds", "does not hold", "inconclusive", "not measured")
    }
    missing = missing_inputs(ev, figures_dir, s.model.latent_dim)
    blocks: list[Block] = [
        Heading(TITLE, 1),
        Paragraph(
            "A reproduction of Baklazhenko, Conner, Vallmanya and Wielath (2023), "
            "*Understanding the ELBO in VAEs and β-VAEs*, on MNIST: an autoencoder, "
            f"β-VAEs with β ∈ {beta_set(ev.betas)} and a "
            "digit classifier. Sections follow the study; the claims table checks each "
            "of its claims against our numbers."
        ),
        Paragraph(
            f"**Claims of the study**, {len(claims)} checked: {counts['holds']} hold, "
            f"{counts['does not hold']} do not hold, {counts['inconclusive']} inconclusive, "
            f"{counts['not measured']} not measured "
            f"(see [the claims table](#claims-of-the-study-checked))."
        ),
    ]
    if missing:
        blocks += [
            Paragraph(f"**Not measured yet** (the report marks these `{NOT_MEASURED}`):"),
            Bullets(tuple(missing)),
        ]
    return blocks
