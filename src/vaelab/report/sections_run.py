"""The report's own sections: the summary, the claims table, all metrics, and how the run went.

`missing_inputs` lists every input that is absent with the `dvc repro` target that makes it,
so the summary of a half-run pipeline says what to run next.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vaelab.core import names, params
from vaelab.core.names import (
    CLASSIFIER_TARGET,
    DATA_SUMMARY,
    DOWNLOAD_TARGET,
    figures_numbers_path,
    figures_target,
)
from vaelab.data.files import SPLIT_SIZES
from vaelab.labels import beta_label, beta_set, count, recon_unit, shifted_name
from vaelab.report.cells import NOT_MEASURED, ensemble_text, fmt, metrics_columns, rows
from vaelab.report.claims import Claim
from vaelab.report.evidence import Evidence
from vaelab.report.render import Block, Bullets, Heading, Paragraph, Table
from vaelab.report.settings import Settings

TITLE = "Understanding the ELBO in VAEs and β-VAEs: a reproduction"


def _numbers(claim: Claim) -> str:
    """'name = mean [low, high]' over the seeds where a number has an interval, else its
    value on the seeds' mean run."""
    shown = []
    for name, value in claim.numbers.items():
        found = claim.intervals.get(name)
        if found is not None and found.n > 1:
            shown.append(f"{name} = {fmt(found.mean)} [{fmt(found.low)}, {fmt(found.high)}]")
        else:
            shown.append(f"{name} = {fmt(value)}")
    return "; ".join(shown)


def _margin(claim: Claim) -> str:
    m = claim.margin
    if m is None:
        return ""
    if m.n < 2:
        return f"margin {fmt(m.mean)} (one seed)"
    return f"margin {fmt(m.mean)} [{fmt(m.low)}, {fmt(m.high)}]"


def _cell(claim: Claim) -> str:
    margin = _margin(claim)
    return f"**{claim.verdict}**" + (f", {margin}" if margin else "")


def setup_differences(setups: Sequence[params.Setup]) -> list[str]:
    """'model.hidden: study [64, 16, 8], wide [256, 128]' for each key the setups differ in."""
    found = []
    for section in ("model", "train"):
        values = {s.name: params.as_dict(getattr(s, section)) for s in setups}
        for key in next(iter(values.values())):
            if key == "seeds":
                continue
            shown = {name: v[key] for name, v in values.items()}
            if len({repr(v) for v in shown.values()}) > 1:
                each = ", ".join(f"{name} {value}" for name, value in shown.items())
                found.append(f"{section}.{key}: {each}")
    return found


def _explanation(row: list[Claim], setups: Sequence[str]) -> str:
    """Where verdicts differ: the claim's number that differs most between the setups."""
    verdicts = {c.verdict for c in row if c.verdict != "not measured"}
    if len(verdicts) < 2:
        return ""
    shared = [
        name
        for name, value in row[0].numbers.items()
        if isinstance(value, float | int)
        and all(isinstance(c.numbers.get(name), float | int) for c in row)
    ]

    def spread(name: str) -> float:
        values = [abs(float(c.numbers[name])) for c in row]
        return max(values) / min(values) if min(values) > 0 else float("inf")

    if not shared:
        return "The verdicts differ."
    name = max(shared, key=spread)
    each = " vs ".join(f"{fmt(c.numbers[name])} (`{s}`)" for c, s in zip(row, setups, strict=True))
    return f"The verdicts differ; the claim's number that differs most is {name}: {each}."


def claims_section(claims: dict[str, list[Claim]], setups: Sequence[params.Setup]) -> list[Block]:
    names_ = list(claims)
    differences = setup_differences(setups)
    grid = []
    for position, first in enumerate(claims[names_[0]]):
        row = [claims[name][position] for name in names_]
        grid.append((first.key, first.text, *(_cell(c) for c in row), _explanation(row, names_)))
    blocks: list[Block] = [
        Heading("Claims of the study, checked"),
        Paragraph(
            "Each verdict is computed from the metrics by `src/vaelab/report/claims.py`, "
            'whose named constants turn the study\'s words ("much", "significantly") into '
            "thresholds. Every claim has a *margin*, a number that is positive exactly when "
            "it holds on one training run (each note says what it is). Under each setup the "
            "margin is measured on every training seed; the cell gives its mean and 95 % "
            "Student-t interval over the seeds. A claim **holds** when the interval lies "
            "above 0, **does not hold** when it lies below, and is **inconclusive** when it "
            "contains 0, or when the classifiers of the ensemble disagree on it. A claim that "
            "does not hold is a finding about this reproduction, not a failure of the "
            "pipeline. Claims 2 and 10 rest on no training seed (the figures' seed; the "
            "classifiers) and have no interval."
        ),
        Table(("#", "claim", *(f"`{n}`" for n in names_), "where the setups differ"), tuple(grid)),
        Paragraph(
            "The setups differ only in " + "; ".join(differences) + ". Which of these "
            "explains a verdict that differs takes a setup that changes one of them alone: "
            "one more block under `setups` in params.yaml."
        ),
    ]
    for name in names_:
        details = tuple((c.key, _numbers(c) or "—", c.note) for c in claims[name])
        blocks += [
            Heading(f"The numbers behind each verdict ({name})", 3),
            Paragraph(
                f"Under setup `{name}`: each number's mean over the training seeds and its 95 % "
                "Student-t interval [low, high]; a number without one (a change written "
                "out, a count) is that of the seeds' mean run."
            ),
            Table(("#", "numbers", "note"), details),
        ]
    return blocks


def claims_summary(claims: dict[str, list[Claim]]) -> dict[str, Any]:
    """metrics/claims.json: per setup and claim, the verdict, the margin's interval and its
    value on each seed, and the numbers (`dvc metrics diff` compares them)."""
    return {
        setup: {
            c.key: {
                "verdict": c.verdict,
                "margin": c.margin.as_dict() if c.margin else None,
                "margin_by_seed": {str(seed): m for seed, m in c.by_seed.items()},
                "numbers": c.numbers,
                "number_intervals": {k: i.as_dict() for k, i in c.intervals.items()},
            }
            for c in found
        }
        for setup, found in claims.items()
    }


def setup_text(setup: params.Setup) -> str:
    """One sentence on a setup's network and training."""
    m, t = setup.model, setup.train
    return (
        f"Network 784 → {' → '.join(str(h) for h in m.hidden)} → {m.latent_dim} and back "
        f"({m.init} init), {m.likelihood} likelihood (σ² = {m.gaussian_variance:g}), "
        f"sampling rule `{m.sampling}`; Adam lr {t.lr:g}, ε {t.adam_eps:g}, batch "
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
            f"`report/{names.RUNTIME_REPORT}` and at the end of `report/index.html`: they "
            f"differ from machine to machine, and this page does not."
        ),
    ]


def missing_inputs(ev: Evidence, figures_dir: Path | None, latent_dim: int) -> list[str]:
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
    expected = names.expected_figures(ev.checkpoints, latent_dim)
    absent = [f"`{n}`" for n in expected if not (figures_dir / n).exists()]
    if len(absent) == len(expected):
        absent = [f"all {len(expected)} figures"]
    if ev.figures is None or absent:
        numbers = figures_numbers_path(Path("metrics"), run.setup)
        what = ", ".join(([f"`{numbers}`"] if ev.figures is None else []) + absent)
        lines.append(f"{what}: run `dvc repro {figures_target(run.setup)}`")
    return lines


def summary_section(
    ev: Evidence, claims: dict[str, list[Claim]], missing: list[str]
) -> list[Block]:
    """The title, what was run, the verdict counts per setup, and what is missing."""
    verdicts = ("holds", "does not hold", "inconclusive", "not measured")
    counts = "; ".join(
        f"`{setup}`: " + ", ".join(f"{sum(c.verdict == v for c in found)} {v}" for v in verdicts)
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
            f"{len(claims)} setups ({counts}; see "
            f"[the claims table](#claims-of-the-study-checked))."
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
