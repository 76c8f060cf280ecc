"""Stage `report`: the study's sections, figures, numbers and claim checks as Markdown and HTML.

Reads only what earlier stages wrote (metrics JSON, dvclive TSVs, figure PNGs) and never
trains. Anything missing is marked "not measured" with the `dvc repro` target that makes it,
so a report of a half-run pipeline still builds and says what to run next.
"""

from __future__ import annotations

import base64
import csv
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaelab import params
from vaelab.claims import Claim, Evidence, NotMeasured, check_all
from vaelab.io import read_json, write_text
from vaelab.names import beta_tag, model_name
from vaelab.report_html import (
    Block,
    Bullets,
    Figure,
    Heading,
    Paragraph,
    Table,
    to_html,
    to_markdown,
)

TITLE = "Understanding the ELBO in VAEs and β-VAEs: a reproduction"
CURVE_METRICS = ("loss", "recon", "kl", "kl_share", "beta_kl_share")
NOT_MEASURED = "n/m"  # a table cell whose input is missing; the report lists what to run


@dataclass(frozen=True)
class Settings:
    """The params sections the report reads (see the stage's `params:` in dvc.yaml)."""

    model: params.ModelParams
    train: params.TrainParams
    eval: params.EvalParams
    figures: params.FiguresParams


def _read_optional(path: Path) -> dict[str, Any] | None:
    return read_json(path) if path.exists() else None


def _read_curve(path: Path) -> list[tuple[int, float]]:
    """A dvclive TSV (columns step, <metric>) as [(epoch, value), …]; [] when missing."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return [(int(row[0]), float(row[1])) for row in rows[1:] if row]


def _read_curves(plots_dir: Path) -> dict[str, list[tuple[int, float]]]:
    return {
        f"{split}/{metric}": curve
        for split in ("train", "test")
        for metric in CURVE_METRICS
        if (curve := _read_curve(plots_dir / split / f"{metric}.tsv"))
    }


def load_evidence(
    metrics_dir: Path, betas: Iterable[float], checkpoints: Iterable[int]
) -> Evidence:
    """Everything under `metrics_dir` the report uses; missing files are simply absent."""
    betas = tuple(float(b) for b in betas)
    names = [model_name("ae"), *(model_name("vae", b) for b in betas)]
    evals = {n: e for n in names if (e := _read_optional(metrics_dir / "eval" / f"{n}.json"))}
    train = {
        n: s
        for n in ["classifier", *names]
        if (s := _read_optional(metrics_dir / "train" / n / "metrics.json"))
    }
    curves = {n: _read_curves(metrics_dir / "train" / n / "plots" / "metrics") for n in names}
    return Evidence(
        betas=betas,
        checkpoints=tuple(checkpoints),
        evals=evals,
        train=train,
        curves=curves,
        classifier=_read_optional(metrics_dir / "classifier.json"),
        figures=_read_optional(metrics_dir / "figures.json"),
        data=_read_optional(metrics_dir / "data.json"),
    )


def fmt(value: Any) -> str:
    """A number as a table shows it: 3 significant figures, no exponent above 1."""
    if value is None:
        return NOT_MEASURED
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int):
        return str(value)
    if value != value:  # NaN
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 1e-3 or value == 0:
        return f"{value:.3g}"
    return f"{value:.2e}"


Column = Callable[[dict[str, Any]], Any]


def key(*path: str) -> Column:
    """A column that reads one value of a checkpoint's metrics; None where it is absent."""

    def pick(row: dict[str, Any]) -> Any:
        for part in path:
            if not isinstance(row, dict) or part not in row:
                return None
            row = row[part]
        return row

    return pick


def vae_only(name: str) -> Column:
    """A metric the AE does not have (KL, ELBO, IWAE): '—' where it is absent."""
    return lambda row: row.get(name, "—")


def _checkpoint(ev: Evidence, beta: float | None, epoch: int) -> dict[str, Any] | None:
    try:
        return ev.at(beta, epoch)
    except NotMeasured:
        return None


def _b(beta: float | None) -> str:
    return "AE" if beta is None else f"β = {beta_tag(beta)}"


def _vector(values: Any) -> str:
    return NOT_MEASURED if values is None else "(" + ", ".join(fmt(v) for v in values) + ")"


def _figure(figures_dir: Path, name: str, caption: str) -> Figure:
    return Figure(figures_dir / name, caption, "run `dvc repro figures`")


def _rows(
    ev: Evidence, models: Iterable[tuple[float | None, int]], columns: dict[str, Column]
) -> Table:
    """One row per (model, epoch); `columns` maps a header to how to read its value."""
    rows = []
    for beta, epoch in models:
        row = _checkpoint(ev, beta, epoch)
        cells = [
            fmt(column(row)) if row is not None else NOT_MEASURED for column in columns.values()
        ]
        rows.append((_b(beta), str(epoch), *cells))
    return Table(("model", "epoch", *columns), tuple(rows))


LATENT_COLUMNS: dict[str, Column] = {
    "KL(q(z) ‖ N(0, I)) [nats]": key("aggregate_posterior", "kl_to_prior"),
    "mean of q(z)": lambda r: _vector(key("aggregate_posterior", "mean")(r)),
    "variance of the means": lambda r: _vector(r.get("latent_variance")),
    "active units": key("active_units"),
}
BETA_COLUMNS: dict[str, Column] = {
    "recon": key("recon"),
    "KL [nats]": key("kl"),
    "KL(q(z) ‖ N(0, I))": key("aggregate_posterior", "kl_to_prior"),
    "N(0, I) confidence ratio": key("prior_confidence_ratio"),
    "N(0, I) class entropy [bits]": key("prior_class_entropy_bits"),
}


def _example_text(ev: Evidence) -> tuple[str, str]:
    """The numbers behind figures 3 and 4, from metrics/figures.json."""
    numbers = ev.figures or {}
    spread = numbers.get("redecode_pixel_std", {})
    redecode = (
        f"Mean per-pixel standard deviation across the decodes (pixels in [0, 1]): VAE "
        f"**{fmt(spread.get('vae'))}**, AE **{fmt(spread.get('ae'))}**."
    )
    posterior = numbers.get("example_posterior")
    if posterior is None:
        return redecode, f"q(z|x) of the example digit: {NOT_MEASURED}."
    shown = (
        f"q(z|x) of the example digit (label {numbers.get('example_label', '?')}): mean "
        f"{_vector(posterior.get('mu'))}, σ {_vector(posterior.get('sigma'))}; the draw "
        f"z = {_vector(posterior.get('draw'))}."
    )
    return redecode, shown


def _latent_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Section 4.1: the AE's latent space, the VAE's re-decodes and its posterior."""
    example, last = beta_tag(s.figures.example_beta), ev.last_epoch
    index = (ev.figures or {}).get("example_index", s.figures.example_index)
    redecode, posterior = _example_text(ev)
    fig02 = (
        f"Figure 2 (study): the autoencoder's latent codes of the test digits after epoch "
        f"{last}, coloured by digit. Nothing ties them to N(0, I)."
    )
    fig03 = (
        f"Figure 3 (study): test digit #{index} (red frame) encoded and decoded again and "
        f"again by the β = {example} VAE; each decode uses a new z ~ q(z|x)."
    )
    fig04 = (
        f"Figure 4 (study): left, the β = {example} VAE's latent means of the test digits; "
        f"right, the density of q(z|x) for digit #{index} and one draw from it."
    )
    return [
        Heading("4.1 Visualising the latent space"),
        _figure(figures_dir, "fig02_ae_latent.png", fig02),
        _figure(figures_dir, "fig03_vae_redecodes.png", fig03),
        Paragraph(redecode),
        _figure(figures_dir, "fig04_vae_latent_posterior.png", fig04),
        Paragraph(posterior),
        Paragraph(
            f"Each latent space as a Gaussian fit q(z) = N(mean, cov) to the test set's "
            f"posteriors at epoch {last}; KL(q(z) ‖ N(0, I)) is 0 only for a standard normal:"
        ),
        _rows(ev, [(None, last), (s.figures.example_beta, last)], LATENT_COLUMNS),
    ]


def _epoch_figure_title(position: int, epoch: int) -> str:
    """Figures 5–8 of the study are the first four checkpoints, in order."""
    if position < 4:
        return f"Figure {5 + position} (study): epoch {epoch}"
    return f"Beyond the study: epoch {epoch}"


def _beta_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Section 4.2: figures 5–9, one per checkpoint, and the β pair of figure 9."""
    shown = ", ".join(beta_tag(b) for b in s.figures.betas)
    blocks: list[Block] = [
        Heading("4.2 Effects of β"),
        Paragraph(
            f"Columns β ∈ {{{shown}}}; rows: latent space, reconstructions, decodes of "
            f"z ~ N(0, I). The study drew β ∈ {{0, 1, 5}}."
        ),
    ]
    for position, epoch in enumerate(ev.checkpoints):
        name = f"fig05-08_epoch_{epoch:03d}.png"
        caption = (
            f"{_epoch_figure_title(position, epoch)}. Latent space, reconstructions and "
            f"N(0, I) samples for β ∈ {{{shown}}}."
        )
        blocks += [
            Heading(f"Epoch {epoch}", 3),
            _figure(figures_dir, name, caption),
            _rows(ev, [(b, epoch) for b in s.figures.betas], BETA_COLUMNS),
        ]
    pair = " and ".join(f"β = {beta_tag(b)}" for b in s.figures.pair_betas)
    first, last = ev.checkpoints[0], ev.last_epoch
    blocks += [
        Heading(f"Figure 9: {pair}", 3),
        _figure(
            figures_dir,
            "fig09_beta_pair.png",
            f"Figure 9 (study): {pair} after epochs {first} and {last}. A high β keeps "
            f"q(z) close to N(0, I) at the cost of class separation.",
        ),
        _rows(ev, [(b, e) for b in s.figures.pair_betas for e in (first, last)], LATENT_COLUMNS),
    ]
    return blocks


def _pct(share: Any) -> str:
    return NOT_MEASURED if share is None else f"{100 * share:.2g} %"


def _curve_change(ev: Evidence, beta: float, metric: str, show: Callable = fmt) -> str:
    """'first → last' of a dvclive curve, e.g. metric 'test/kl_share'."""
    curve = ev.curves.get(model_name("vae", beta), {}).get(metric, [])
    if not curve:
        return NOT_MEASURED
    return f"{show(curve[0][1])} → {show(curve[-1][1])}"


def _losses_table(ev: Evidence, betas: Iterable[float]) -> Table:
    rows = tuple(
        (
            _b(b),
            split,
            _curve_change(ev, b, f"{split}/recon"),
            _curve_change(ev, b, f"{split}/kl"),
            _curve_change(ev, b, f"{split}/kl_share", _pct),
            _curve_change(ev, b, f"{split}/beta_kl_share", _pct),
        )
        for b in betas
        for split in ("train", "test")
    )
    header = ("model", "set", "recon", "KL [nats]", "KL / (recon + KL)", "β·KL / loss")
    return Table(header, rows)


def halves(betas: Sequence[float]) -> tuple[Sequence[float], Sequence[float]]:
    """The β of figures 10 | 11 and 12 | 13: the figures stage splits curve_betas so."""
    middle = (len(betas) + 1) // 2
    return betas[:middle], betas[middle:]


def _losses_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Figures 10–11: the loss terms per epoch, half of figures.curve_betas in each."""
    blocks: list[Block] = [Heading("Losses (figures 10–11)")]
    for number, half in zip((10, 11), halves(s.figures.curve_betas), strict=True):
        names = " and ".join(f"β = {beta_tag(b)}" for b in half)
        caption = (
            f"Figure {number} (study): reconstruction, β·KL and total loss per epoch on the "
            f"test set for {names}, with the KL share (right axis)."
        )
        blocks.append(_figure(figures_dir, f"fig{number}_losses.png", caption))
    blocks += [
        Paragraph(
            f"Epoch means, epoch 1 → {ev.last_epoch}, from the dvclive logs: `train` averages "
            f"over each epoch's batches (the study's Keras curves), `test` is the whole test "
            f"set after the epoch (the figures). The study's KL share is KL / (recon + KL); "
            f"β·KL / loss is the share of what is optimised."
        ),
        _losses_table(ev, s.figures.curve_betas),
    ]
    return blocks


CONFIDENCE_COLUMNS: dict[str, Column] = {
    "reconstruction confidence ratio": key("recon_confidence_ratio"),
    "N(0, I) confidence ratio": key("prior_confidence_ratio"),
    "N(0, I) class entropy [bits]": key("prior_class_entropy_bits"),
    "N(0, I) Fréchet distance": key("prior_frechet_distance"),
}
SHIFTED_COLUMNS: dict[str, Column] = {
    "N(1, 0.5²) confidence ratio": key("shifted_confidence_ratio"),
    "N(1, 0.5²) class entropy [bits]": key("shifted_class_entropy_bits"),
    "predicted classes 0–9": lambda r: " ".join(map(str, r.get("shifted_class_counts", []))),
}


def _confidence_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Figures 12–14: the classifier's confidence on reconstructions and on samples."""
    classifier = ev.classifier or {}
    curve, e = s.figures.curve_betas, s.eval
    blocks: list[Block] = [
        Heading("Confidence of a digit classifier (figures 12–14)"),
        Paragraph(
            f"Confidence ratio (eq. 13) = mean top-class probability on the images / the "
            f"same on real test digits. Classifier test accuracy "
            f"**{fmt(classifier.get('test_accuracy'))}**, baseline confidence "
            f"**{fmt(classifier.get('baseline_confidence'))}** (study: over 0.85 and "
            f"0.71). {e.n_prior_samples} samples per model; an entropy of "
            f"log2 10 = 3.32 bits means all ten digits equally often."
        ),
    ]
    for number, half in zip((12, 13), halves(curve), strict=True):
        names = " and ".join(f"β = {beta_tag(b)}" for b in half)
        blocks.append(
            _figure(
                figures_dir,
                f"fig{number}_confidence.png",
                f"Figure {number} (study): confidence ratio at each checkpoint of "
                f"reconstructions, of N(0, I) samples and of N(1, 0.5²) samples for {names}; "
                f"1 is real test digits.",
            )
        )
    blocks.append(_rows(ev, [(b, ep) for b in curve for ep in ev.checkpoints], CONFIDENCE_COLUMNS))
    shifted = " and ".join(f"β = {beta_tag(b)}" for b in s.figures.shifted_betas)
    blocks += [
        _figure(
            figures_dir,
            "fig14_shifted_samples.png",
            f"Figure 14 (study): decodes of z ~ N({e.shifted_mean:g}, {e.shifted_std:g}²) "
            f"for {shifted}.",
        ),
        _rows(ev, [(b, ev.last_epoch) for b in s.figures.shifted_betas], SHIFTED_COLUMNS),
    ]
    return blocks


RATE_DISTORTION_COLUMNS: dict[str, Column] = {
    "rate: KL [nats]": key("kl"),
    "distortion: recon": key("recon"),
    "−ELBO [nats]": key("neg_elbo_nats"),
    "IWAE −log p(x) [nats]": key("iwae_nats"),
    "active units": key("active_units"),
}


def _beyond_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Figures 15–16, which the study does not have: the decoded manifold, rate–distortion."""
    example = beta_tag(s.figures.example_beta)
    notes = tuple((ev.figures or {}).get("notes", []))
    return [
        Heading("Beyond the study"),
        *([Bullets(notes)] if notes else []),
        _figure(
            figures_dir,
            "fig15_manifold.png",
            f"Figure 15 (new): decodes of a grid of z over the β = {example} VAE's latent "
            f"space, spaced by N(0, I) quantiles.",
        ),
        _figure(
            figures_dir,
            "fig16_rate_distortion.png",
            "Figure 16 (new): rate (KL) against distortion (reconstruction error) per β, "
            "one path over the checkpoints. Each β-VAE minimises recon + β·KL, so β is the "
            "rate at which it trades one for the other.",
        ),
        Paragraph(
            f"At epoch {ev.last_epoch}; IWAE with k = {s.eval.iwae_k} importance samples "
            f"is a tighter bound on −log p(x) than −ELBO."
        ),
        _rows(ev, [(b, ev.last_epoch) for b in ev.betas], RATE_DISTORTION_COLUMNS),
    ]


def _numbers(claim: Claim) -> str:
    return "; ".join(f"{name} = {fmt(value)}" for name, value in claim.numbers.items())


def _claims_section(claims: list[Claim]) -> list[Block]:
    rows = tuple((c.key, c.text, _numbers(c) or "—", c.verdict, c.note) for c in claims)
    return [
        Heading("Claims of the study, checked"),
        Paragraph(
            "Each verdict is computed from the metrics above by `src/vaelab/claims.py`, "
            'whose named constants turn the study\'s words ("much", "significantly") '
            "into thresholds. A claim that does not hold is a finding about this "
            "reproduction, not a failure of the pipeline."
        ),
        Table(("#", "claim", "numbers", "verdict", "note"), rows),
    ]


METRICS_COLUMNS: dict[str, Column] = {
    "recon": key("recon"),
    "recon [nats]": key("recon_nats"),
    "KL [nats]": vae_only("kl"),
    "−ELBO [nats]": vae_only("neg_elbo_nats"),
    "IWAE [nats]": vae_only("iwae_nats"),
    "KL share": lambda r: _pct(r["kl_share"]) if "kl_share" in r else "—",
    "active units": key("active_units"),
    "KL(q(z) ‖ N(0, I))": key("aggregate_posterior", "kl_to_prior"),
    "conf. recon": key("recon_confidence_ratio"),
    "conf. N(0, I)": key("prior_confidence_ratio"),
    "conf. N(1, 0.5²)": key("shifted_confidence_ratio"),
    "H N(0, I) [bits]": key("prior_class_entropy_bits"),
    "H N(1, 0.5²) [bits]": key("shifted_class_entropy_bits"),
}


def _metrics_section(ev: Evidence, s: Settings) -> list[Block]:
    models = [None, *ev.betas]
    table = _rows(ev, [(b, e) for b in models for e in ev.checkpoints], METRICS_COLUMNS)
    unit = (
        "sum of squared errors per image (the study's loss)"
        if s.model.likelihood == "gaussian" and s.model.gaussian_variance == 0.5
        else f"the {s.model.likelihood} negative log-likelihood without its constant"
    )
    return [
        Heading("Metrics per model and checkpoint"),
        Paragraph(
            f"Test set, 10 000 digits. `recon` is the {unit}; `[nats]` columns include "
            f"the likelihood's normalising constant, so −ELBO = recon [nats] + KL. "
            f"Confidence ratios are against real digits; H is the entropy of the "
            f"predicted-class histogram. `—`: not defined for the AE; `{NOT_MEASURED}`: "
            f"not measured."
        ),
        table,
    ]


def _stage_times(ev: Evidence) -> Table:
    """Wall seconds of every stage that wrote a timing, with its device and threads."""
    rows: list[tuple[str, ...]] = []
    if ev.data:
        rows.append(("download", fmt(ev.data.get("seconds")), "—", "—"))
    if ev.classifier:
        env = ev.classifier.get("environment", {})
        rows.append(
            (
                "train_classifier",
                fmt(ev.classifier.get("train_seconds")),
                str(env.get("device", "—")),
                str(env.get("threads", "—")),
            )
        )
    for beta in [None, *ev.betas]:
        name = model_name("ae") if beta is None else model_name("vae", beta)
        suffix = "ae" if beta is None else f"vae@{beta_tag(beta)}"
        if name in ev.train:
            seconds = ev.train[name].get("train_seconds")
            rows.append((f"train_{suffix}", fmt(seconds), "—", "—"))
        if name in ev.evals:
            env = ev.evals[name].get("environment", {})
            rows.append(
                (
                    f"evaluate_{suffix}",
                    fmt(ev.evals[name].get("seconds")),
                    str(env.get("device", "—")),
                    str(env.get("threads", "—")),
                )
            )
    if ev.figures:
        rows.append(("figures", fmt(ev.figures.get("seconds")), "—", "—"))
    return Table(("stage", "wall seconds", "device", "threads"), tuple(rows))


def _environment(ev: Evidence) -> Table:
    """Library versions and machine, merged over every stage that recorded them."""
    seen: dict[str, list[str]] = {}
    records = [ev.classifier or {}, *ev.evals.values()]
    for env in (r.get("environment", {}) for r in records):
        for name, value in env.items():
            if str(value) not in seen.setdefault(name, []):
                seen[name].append(str(value))
    return Table(("", "value"), tuple((name, ", ".join(v)) for name, v in seen.items()))


def _run_section(ev: Evidence, s: Settings) -> list[Block]:
    classifier = ev.classifier or {}
    seeds = (
        f"train.seed {s.train.seed}, classifier.seed "
        f"{classifier.get('params', {}).get('seed', NOT_MEASURED)}, eval.seed "
        f"{s.eval.seed}, figures.seed {s.figures.seed}"
    )
    data = ev.data or {}
    digests = [f"`{name}` sha256 `{digest}`" for name, digest in data.get("sha256", {}).items()]
    return [
        Heading("The run"),
        Bullets(
            (
                f"Classifier: test accuracy **{fmt(classifier.get('test_accuracy'))}**, "
                f"baseline confidence **{fmt(classifier.get('baseline_confidence'))}**.",
                f"Seeds: {seeds}.",
                f"Model: {s.model.likelihood} likelihood (σ² = {s.model.gaussian_variance:g}), "
                f"hidden {list(s.model.hidden)}, latent dimension {s.model.latent_dim}; "
                f"checkpoints at epochs {list(ev.checkpoints)}.",
                f"MNIST from `{data.get('source', NOT_MEASURED)}`.",
                *digests,
            )
        ),
        Heading("Environment", 3),
        _environment(ev),
        Heading("Wall time per stage", 3),
        _stage_times(ev),
    ]


def expected_figures(checkpoints: Iterable[int]) -> list[str]:
    """The PNG names the figures stage writes, in the study's order."""
    per_epoch = [f"fig05-08_epoch_{epoch:03d}.png" for epoch in checkpoints]
    return [
        "fig02_ae_latent.png",
        "fig03_vae_redecodes.png",
        "fig04_vae_latent_posterior.png",
        *per_epoch,
        "fig09_beta_pair.png",
        "fig10_losses.png",
        "fig11_losses.png",
        "fig12_confidence.png",
        "fig13_confidence.png",
        "fig14_shifted_samples.png",
        "fig15_manifold.png",
        "fig16_rate_distortion.png",
    ]


def missing_inputs(ev: Evidence, figures_dir: Path) -> list[str]:
    """One line per missing input: what it is and the `dvc repro` target that makes it."""
    lines = []
    if ev.data is None:
        lines.append("`metrics/data.json`: run `dvc repro download`")
    if ev.classifier is None:
        lines.append("`metrics/classifier.json`: run `dvc repro train_classifier`")
    for beta in [None, *ev.betas]:
        name = model_name("ae") if beta is None else model_name("vae", beta)
        suffix = "ae" if beta is None else f"vae@{beta_tag(beta)}"
        if name not in ev.train:
            lines.append(f"training summary of {_b(beta)}: run `dvc repro train_{suffix}`")
        if name not in ev.evals:
            lines.append(f"evaluation of {_b(beta)}: run `dvc repro evaluate_{suffix}`")
    expected = expected_figures(ev.checkpoints)
    absent = [f"`{n}`" for n in expected if not (figures_dir / n).exists()]
    if len(absent) == len(expected):
        absent = [f"all {len(expected)} figures"]
    if ev.figures is None or absent:
        what = ", ".join((["`metrics/figures.json`"] if ev.figures is None else []) + absent)
        lines.append(f"{what}: run `dvc repro figures`")
    return lines


def _summary(ev: Evidence, claims: list[Claim], figures_dir: Path) -> list[Block]:
    counts = {
        v: sum(c.verdict == v for c in claims) for v in ("holds", "does not hold", "not measured")
    }
    missing = missing_inputs(ev, figures_dir)
    blocks: list[Block] = [
        Heading(TITLE, 1),
        Paragraph(
            "A reproduction of Baklazhenko, Conner, Vallmanya and Wielath (2023), "
            "*Understanding the ELBO in VAEs and β-VAEs*, on MNIST: an autoencoder, "
            f"β-VAEs with β ∈ {{{', '.join(beta_tag(b) for b in ev.betas)}}} and a "
            "digit classifier. Sections follow the study; the claims table checks each "
            "of its claims against our numbers."
        ),
        Paragraph(
            f"**Claims of the study**, {len(claims)} checked: {counts['holds']} hold, "
            f"{counts['does not hold']} do not hold, {counts['not measured']} not measured "
            f"(see [the claims table](#claims-of-the-study-checked))."
        ),
    ]
    if missing:
        blocks += [
            Paragraph("**Not measured yet** (the report marks these `n/m`):"),
            Bullets(tuple(missing)),
        ]
    return blocks


def build_blocks(ev: Evidence, s: Settings, figures_dir: Path, claims: list[Claim]) -> list[Block]:
    """The whole report, in the study's order, then the claims, the metrics and the run."""
    return [
        *_summary(ev, claims, figures_dir),
        *_latent_section(ev, s, figures_dir),
        *_beta_section(ev, s, figures_dir),
        *_losses_section(ev, s, figures_dir),
        *_confidence_section(ev, s, figures_dir),
        *_beyond_section(ev, s, figures_dir),
        *_claims_section(claims),
        *_metrics_section(ev, s),
        *_run_section(ev, s),
    ]


def data_uri(path: Path) -> str | None:
    """A PNG as a data: URI, so index.html needs no other file; None when it is missing."""
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def write_report(ev: Evidence, s: Settings, figures_dir: Path, out_dir: Path) -> list[Claim]:
    """Render README.md and index.html fully, then write both atomically."""
    claims = check_all(ev)
    blocks = build_blocks(ev, s, figures_dir, claims)

    def relative(path: Path) -> str | None:
        return Path(os.path.relpath(path, out_dir)).as_posix() if path.is_file() else None

    markdown = to_markdown(blocks, relative)
    page = to_html(blocks, TITLE, data_uri)
    write_text(out_dir / "README.md", markdown)
    write_text(out_dir / "index.html", page)
    return claims
