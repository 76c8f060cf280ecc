"""The report's own sections: the summary, the claims table, all metrics, and how the run went.

`missing_inputs` lists every input that is absent with the `dvc repro` target that makes it,
so the summary of a half-run pipeline says what to run next.
"""

from __future__ import annotations

from pathlib import Path

from vaelab.core import names, params
from vaelab.core.names import (
    CLASSIFIER_TARGET,
    DATA_SUMMARY,
    DOWNLOAD_TARGET,
    figures_numbers_path,
    figures_target,
)
from vaelab.data.files import SPLIT_SIZES
from vaelab.labels import beta_label, beta_set, count, prior_label, recon_unit, shifted_name
from vaelab.report.cells import NOT_MEASURED, ensemble_text, metrics_columns, rows
from vaelab.report.evidence import Evidence
from vaelab.report.render import Block, Bullets, Heading, Paragraph
from vaelab.report.settings import Settings
from vaelab.report.verdict import VERDICTS, Claim

TITLE = "Understanding the ELBO in VAEs and β-VAEs: a reproduction"


def setup_text(setup: params.Setup) -> str:
    """One sentence on a setup's network and training."""
    m, t = setup.model, setup.train
    return (
        f"Network 784 → {' → '.join(str(h) for h in m.hidden)} → {m.latent_dim} and back "
        f"({m.init} init), {m.likelihood} likelihood (σ² = {m.gaussian_variance:g}), "
        f"sampling rule `{m.sampling}`, latent `{m.latent}` with prior {prior_label(m)}; "
        f"Adam lr {t.lr:g}, ε {t.adam_eps:g}, batch "
        f"{t.batch_size}, {t.epochs} epochs, seeds {list(t.seeds)}."
    )


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
        f"train.seeds {list(s.train.seeds)}, classifier.seeds {list(ev.classifier_seeds)}, "
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
                *(f"Setup `{one.name}`: {setup_text(one)}" for one in s.setups),
                f"Checkpoints at epochs {list(ev.checkpoints)}.",
                f"MNIST from `{data.get('source', NOT_MEASURED)}`.",
                *digests,
            )
        ),
        Paragraph(
            f"The machine, library versions and wall time of each stage are in "
            f"`report/{names.RUNTIME_REPORT}`: they "
            f"differ from machine to machine, and this page does not."
        ),
    ]


def missing_inputs(
    ev: Evidence, figures_dir: Path | None, model_p: params.ModelParams
) -> list[str]:
    """One line per missing input of one run: what it is and the `dvc repro` target that
    makes it."""
    lines = []
    run = ev.run
    for beta in [None, *ev.betas]:
        name, model = names.model_name(beta), f"{beta_label(beta)} ({run.label()})"
        if name not in ev.train:
            target = names.train_target(beta, run)
            lines.append(f"training summary of {model}: run `dvc repro {target}`")
        if name not in ev.evals:
            target = names.eval_target(beta, run.setup)
            lines.append(f"evaluation of {model}: run `dvc repro {target}`")
    if figures_dir is None:  # another seed of a setup whose figures are checked once
        return lines
    expected = names.expected_figures(ev.checkpoints, model_p.latent_dim, model_p.latent)
    absent = [f"`{n}`" for n in expected if not (figures_dir / n).exists()]
    if len(absent) == len(expected):
        absent = [f"all {len(expected)} figures"]
    if ev.figures is None or absent:
        numbers = figures_numbers_path(Path("metrics"), run.setup)
        what = ", ".join(([f"`{numbers}`"] if ev.figures is None else []) + absent)
        lines.append(f"{what}: run `dvc repro {figures_target(run.setup)}`")
    return lines


def summary_section(
    ev: Evidence, claims: dict[str, list[Claim]], missing: list[str], across: str
) -> list[Block]:
    """The title, what was run, the verdict counts per setup, the claims across setups
    (`across`: claim 11's verdicts in words), and what is missing."""
    counts = "; ".join(
        f"`{setup}`: " + ", ".join(f"{sum(c.verdict == v for c in found)} {v}" for v in VERDICTS)
        for setup, found in claims.items()
    )
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
            f"**Claims of the study**, {len(next(iter(claims.values())))} checked under "
            f"{len(claims)} setups ({counts}), and {across}; see "
            f"[the claims table](#claims-of-the-study-checked)."
        ),
    ]
    if missing:
        blocks += [
            Paragraph(f"**Not measured yet** (the report marks these `{NOT_MEASURED}`):"),
            Bullets(tuple(missing)),
        ]
    return blocks


def shared_missing(ev: Evidence) -> list[str]:
    """Missing inputs that every setup shares: the data and the classifiers."""
    lines = []
    if ev.data is None:
        lines.append(f"`metrics/{DATA_SUMMARY}`: run `dvc repro {DOWNLOAD_TARGET}`")
    if ev.classifier is None:
        lines.append(f"a classifier's summary: run `dvc repro {CLASSIFIER_TARGET}`")
    return lines
