"""The study's own sections, in its order: 4.1 latent space, 4.2 β, losses, confidence, beyond.

Each section is a list of blocks: the study's figure with a caption written from params, and
the table of our numbers behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from vaelab.core import names
from vaelab.core.names import FIGURES_TARGET, beta_tag
from vaelab.labels import beta_label, beta_list, beta_set, prior_label, shifted_name
from vaelab.report.cells import (
    BETA_COLUMNS,
    CONFIDENCE_COLUMNS,
    LATENT_COLUMNS,
    NOT_MEASURED,
    RATE_DISTORTION_COLUMNS,
    ensemble_text,
    fmt,
    percent_cell,
    rows,
    shifted_columns,
    vector,
)
from vaelab.report.claims import CLASSIFIER_MIN_ACCURACY, SMALL_BETAS, STUDY_BASELINE_CONFIDENCE
from vaelab.report.evidence import Evidence
from vaelab.report.render import Block, Bullets, Figure, Heading, Paragraph, Table
from vaelab.report.settings import Settings


def _figure(figures_dir: Path, name: str, caption: str) -> Figure:
    return Figure(figures_dir / name, caption, f"run `dvc repro {FIGURES_TARGET}`")


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
        f"{vector(posterior.get('mu'))}, σ {vector(posterior.get('sigma'))}; the draw "
        f"z = {vector(posterior.get('draw'))}."
    )
    return redecode, shown


def _explorer_note(s: Settings) -> Paragraph:
    """Where the interactive page is, what it offers, and how to open it."""
    offered = [
        *(["the AE"] if s.explorer.autoencoder else []),
        *(f"β = {beta_tag(b)}" for b in s.explorer.betas),
    ]
    epochs = ", ".join(str(e) for e in s.explorer.checkpoints)
    return Paragraph(
        f"Interactive: [the latent explorer]({names.EXPLORER_PAGE}) "
        f"(`report/{names.EXPLORER_PAGE}`, written by `dvc repro {names.EXPLORER_TARGET}`) "
        f"decodes any point of the plane in your browser, shows the same z under every β and "
        f"interpolates between two test digits. Open the file in any browser; it needs no "
        f"network. It offers this setup's seed-{s.train.seeds[0]} {', '.join(offered)} at "
        f"epochs {epochs} (params `explorer`)."
    )


def latent_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Section 4.1: the AE's latent space, the VAE's re-decodes and its posterior."""
    example, last = beta_label(s.figures.example_beta), ev.last_epoch
    index = (ev.figures or {}).get("example_index", s.figures.example_index)
    redecode, posterior = _example_text(ev)
    fig02 = (
        f"Figure 2 (study): the autoencoder's latent codes of the test digits after epoch "
        f"{last}, coloured by digit. Nothing ties them to N(0, I)."
    )
    fig03 = (
        f"Figure 3 (study): test digit #{index} (red frame) encoded and decoded again and "
        f"again by the {example} VAE; each decode uses a new z ~ q(z|x)."
    )
    fig04 = (
        f"Figure 4 (study): left, the {example} VAE's posterior means μ(x) of the test "
        f"digits; middle, one draw z ~ q(z|x) per digit (what the study's §4.1 says its "
        f"plots show); right, the density of q(z|x) for digit #{index} and one draw from it."
    )
    return [
        Heading("4.1 Visualising the latent space"),
        *([_explorer_note(s)] if s.setup == s.explorer.setup else []),
        _figure(figures_dir, names.FIG_AE_LATENT, fig02),
        _figure(figures_dir, names.FIG_REDECODES, fig03),
        Paragraph(redecode),
        _figure(figures_dir, names.FIG_POSTERIOR, fig04),
        Paragraph(posterior),
        Paragraph(
            f"Each latent space as a Gaussian fit q(z) = N(mean, cov) to the test set's "
            f"posteriors at epoch {last}; KL(q(z) ‖ N(0, I)) is 0 only for a standard normal:"
        ),
        rows(ev, [(None, last), (s.figures.example_beta, last)], LATENT_COLUMNS),
    ]


def _epoch_figure_title(position: int, epoch: int) -> str:
    """Figures 5–8 of the study are the first four checkpoints, in order."""
    if position < 4:
        return f"Figure {5 + position} (study): epoch {epoch}"
    return f"Beyond the study: epoch {epoch}"


def beta_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Section 4.2: figures 5–9, one per checkpoint, and the β pair of figure 9."""
    shown = beta_set(s.figures.betas)
    blocks: list[Block] = [
        Heading("4.2 Effects of β"),
        Paragraph(
            f"Columns β ∈ {shown}; rows: posterior means μ(x), one draw z ~ q(z|x) per "
            f"digit (the study's reading of its scatter plots, §4.1), reconstructions, "
            f"decodes of z ~ N(0, I). The study drew β ∈ {beta_set(SMALL_BETAS)}."
        ),
    ]
    for position, epoch in enumerate(ev.checkpoints):
        caption = (
            f"{_epoch_figure_title(position, epoch)}. Latent means, latent draws, "
            f"reconstructions and N(0, I) samples for β ∈ {shown}."
        )
        blocks += [
            Heading(f"Epoch {epoch}", 3),
            _figure(figures_dir, names.epoch_figure(epoch), caption),
            rows(ev, [(b, epoch) for b in s.figures.betas], BETA_COLUMNS),
        ]
    pair = beta_list(s.figures.pair_betas)
    first, last = ev.checkpoints[0], ev.last_epoch
    blocks += [
        Heading(f"Figure 9: {pair}", 3),
        _figure(
            figures_dir,
            names.FIG_BETA_PAIR,
            f"Figure 9 (study): {pair} after epochs {first} and {last}. Rows: posterior "
            f"means μ(x), one draw z ~ q(z|x) per digit, decodes of z ~ N(0, I). A collapsed "
            f"VAE's means sit at the origin while its draws fill N(0, I).",
        ),
        rows(ev, [(b, e) for b in s.figures.pair_betas for e in (first, last)], LATENT_COLUMNS),
    ]
    return blocks


def _curve_change(ev: Evidence, beta: float, metric: str, show: Callable = fmt) -> str:
    """'first → last' of a dvclive curve, e.g. metric 'test/kl_share'."""
    curve = ev.curves.get(names.model_name(beta), {}).get(metric, [])
    if not curve:
        return NOT_MEASURED
    return f"{show(curve[0][1])} → {show(curve[-1][1])}"


def _losses_table(ev: Evidence, betas: Iterable[float]) -> Table:
    table = tuple(
        (
            beta_label(b),
            split,
            _curve_change(ev, b, f"{split}/recon"),
            _curve_change(ev, b, f"{split}/kl"),
            _curve_change(ev, b, f"{split}/kl_share", percent_cell),
            _curve_change(ev, b, f"{split}/beta_kl_share", percent_cell),
        )
        for b in betas
        for split in ("train", "test")
    )
    header = ("model", "set", "recon", "KL [nats]", "KL / (recon + KL)", "β·KL / loss")
    return Table(header, table)


def losses_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Figures 10–11: the loss terms per epoch, half of figures.curve_betas in each."""
    blocks: list[Block] = [Heading("Losses (figures 10–11)")]
    halves = names.curve_halves(s.figures.curve_betas)
    for number, half in zip(names.LOSS_FIGURES, halves, strict=True):
        caption = (
            f"Figure {number} (study): reconstruction, β·KL and total loss per epoch on the "
            f"test set for {beta_list(half)}, with the KL share (right axis)."
        )
        blocks.append(_figure(figures_dir, names.loss_figure(number), caption))
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


def confidence_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Figures 12–14: the classifier's confidence on reconstructions and on samples."""
    curve, shifted = s.figures.curve_betas, shifted_name(s.eval)
    blocks: list[Block] = [
        Heading("Confidence of a digit classifier (figures 12–14)"),
        Paragraph(
            f"Confidence ratio (eq. 13) = mean top-class probability on the images / the "
            f"same on real test digits, for each classifier of an ensemble; the figures and "
            f"tables give the ensemble's mean. Classifiers: {ensemble_text(ev)} (study: one "
            f"classifier, accuracy over {CLASSIFIER_MIN_ACCURACY:g}, baseline "
            f"{STUDY_BASELINE_CONFIDENCE:g}). "
            f"{s.eval.n_prior_samples} samples per model; an entropy of "
            f"log2 10 = 3.32 bits means all ten digits equally often."
        ),
    ]
    halves = names.curve_halves(curve)
    for number, half in zip(names.CONFIDENCE_FIGURES, halves, strict=True):
        blocks.append(
            _figure(
                figures_dir,
                names.confidence_figure(number),
                f"Figure {number} (study): confidence ratio at each checkpoint of "
                f"reconstructions, of N(0, I) samples and of {shifted} samples for "
                f"{beta_list(half)}; 1 is real test digits.",
            )
        )
    blocks.append(rows(ev, [(b, ep) for b in curve for ep in ev.checkpoints], CONFIDENCE_COLUMNS))
    shifted_betas = s.figures.shifted_betas
    blocks += [
        _figure(
            figures_dir,
            names.FIG_SHIFTED,
            f"Figure 14 (study): decodes of z ~ {shifted} for {beta_list(shifted_betas)}; "
            f"× marks the draws on the latent means (top) and on one draw z ~ q(z|x) per "
            f"digit (middle).",
        ),
        rows(ev, [(b, ev.last_epoch) for b in shifted_betas], shifted_columns(shifted)),
    ]
    return blocks


def beyond_section(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Figures 15–16, which the study does not have: the decoded manifold, rate–distortion."""
    notes = tuple((ev.figures or {}).get("notes", []))
    return [
        Heading("Beyond the study"),
        *([Bullets(notes)] if notes else []),
        _figure(
            figures_dir,
            names.FIG_MANIFOLD,
            f"Figure 15 (new): decodes of a grid of z over the "
            f"{beta_label(s.figures.example_beta)} VAE's latent space, spaced by "
            f"{prior_label(s.model, identity='1')} quantiles.",
        ),
        _figure(
            figures_dir,
            names.FIG_RATE_DISTORTION,
            "Figure 16 (new): rate (KL) against distortion (reconstruction error) per β, "
            "one path over the checkpoints. Each β-VAE minimises recon + β·KL, so β is the "
            "rate at which it trades one for the other.",
        ),
        Paragraph(
            f"At epoch {ev.last_epoch}; IWAE with k = {s.eval.iwae_k} importance samples "
            f"is a tighter bound on −log p(x) than −ELBO."
        ),
        rows(ev, [(b, ev.last_epoch) for b in ev.betas], RATE_DISTORTION_COLUMNS),
        *(uniform_blocks(ev, s, figures_dir) if s.model.latent == "uniform" else []),
    ]


def uniform_blocks(ev: Evidence, s: Settings, figures_dir: Path) -> list[Block]:
    """Figure 17, the study's uniform remark drawn (docs/latent-families.md), and its numbers."""
    boxes = (ev.figures or {}).get("uniform_boxes")
    numbers = NOT_MEASURED
    if boxes:
        widths = ", ".join(fmt(w) for w in boxes["mean_half_width"])
        first, second = boxes["nearest_classes"]
        numbers = (
            f"Over {boxes['digits']} test digits the mean half-width √3σ of a box is {widths} "
            f"per dimension, and {percent_cell(boxes['share_holding_other_centre'])} of the "
            f"boxes hold another class's centre; the closest class centres are {first} and "
            f"{second}."
        )
    return [
        _figure(
            figures_dir,
            names.FIG_UNIFORM,
            f"Figure 17 (new): the {beta_label(s.figures.example_beta)} VAE with a uniform "
            f"posterior U(μ ± √3σ) at epoch {ev.last_epoch}: each test digit's box, decodes "
            "along the square ±√3·s₀ and between the two closest class centres. The study: "
            "“early attempts were made to create VAEs with uniform distributions where the "
            "mean and a-b boundaries move during the sampling process, yielding interesting "
            "insights, especially regarding the extraction of common features” (§4.2). It "
            "states no quantity, so no claim is judged on it.",
        ),
        Paragraph(numbers),
    ]
