"""The whole report: blocks in the study's order, rendered to README.md and index.html at once.

Reads only what earlier stages wrote (metrics JSON, dvclive TSVs, figure PNGs) and never
trains. Anything missing is marked "not measured" with the `dvc repro` target that makes it,
so a report of a half-run pipeline still builds and says what to run next.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from vaelab import labels
from vaelab.core import params
from vaelab.core.io import write_json, write_text
from vaelab.core.names import RUNTIME_REPORT
from vaelab.report.calibration import Calibration, calibrate
from vaelab.report.claims import CLAIMS
from vaelab.report.collapse import collapse_counts
from vaelab.report.equivalence import EquivalenceClaim, judge_families
from vaelab.report.evidence import Evidence, load_evidence
from vaelab.report.render import Block, Heading, Paragraph, to_html, to_markdown
from vaelab.report.runtime_page import read_records, runtime_blocks
from vaelab.report.sections_claims import (
    calibration_table,
    claims_summary,
    claims_table,
    collapse_table,
    details,
    setup_differences,
)
from vaelab.report.sections_equivalence import (
    equivalence_blocks,
    equivalence_summary,
    summary_text,
    table_row,
)
from vaelab.report.sections_run import (
    TITLE,
    metrics_section,
    missing_inputs,
    run_section,
    setup_text,
    shared_missing,
    summary_section,
)
from vaelab.report.sections_study import (
    beta_section,
    beyond_section,
    confidence_section,
    latent_section,
    losses_section,
)
from vaelab.report.settings import Settings
from vaelab.report.summary import metrics_summary
from vaelab.report.verdict import Claim, check_setup

# The seed count the verdict rule is calibrated for beside the setups' own: the fewest with
# which an effect of 2 seed standard deviations is decided ≥ 80 % of the time (docs/verdicts.md).
CALIBRATED_SEEDS = 8


@dataclasses.dataclass(frozen=True)
class SetupRuns:
    """One setup's evidence: one per training seed, the first being the figures' seed."""

    setup: params.Setup
    settings: Settings  # with the setup's model and train
    runs: tuple[Evidence, ...]
    figures_dir: Path

    @property
    def name(self) -> str:
        return self.setup.name


def collect(
    metrics: Path,
    figures_root: Path,
    setups: dict[str, params.Setup],
    vae_p: params.VaeParams,
    eval_p: params.EvalParams,
    figures_p: params.FiguresParams,
    explorer_p: params.ExplorerParams,
    classifier_seeds: Sequence[int],
) -> list[SetupRuns]:
    """Every setup's evidence, one per training seed, in params.yaml's order of setups."""
    shifted = labels.shifted_name(eval_p)
    found = []
    for setup in setups.values():
        settings = Settings(
            model=setup.model,
            train=setup.train,
            eval=eval_p,
            figures=figures_p,
            explorer=explorer_p,
            setups=tuple(setups.values()),
            setup=setup.name,
        )
        runs = tuple(
            load_evidence(
                metrics,
                run,
                vae_p.betas,
                setup.train.checkpoints,
                shifted,
                classifier_seeds,
            )
            for run in setup.runs
        )
        found.append(SetupRuns(setup, settings, runs, figures_root / setup.name))
    return found


def _within(blocks: list[Block], setup: str) -> list[Block]:
    """A setup's sections one level down, their headings naming it (unique anchors)."""
    return [
        Heading(f"{b.text} ({setup})", b.level + 1) if isinstance(b, Heading) else b
        for b in blocks
    ]


def setup_blocks(one: SetupRuns) -> list[Block]:
    """The study's sections for one setup, drawn and tabled from its first seed."""
    ev, s, figures = one.runs[0], one.settings, one.figures_dir
    sections = [
        *latent_section(ev, s, figures),
        *beta_section(ev, s, figures),
        *losses_section(ev, s, figures),
        *confidence_section(ev, s, figures),
        *beyond_section(ev, s, figures),
        *metrics_section(ev, s),
    ]
    return [
        Heading(f"Setup `{one.name}`"),
        Paragraph(
            f"{setup_text(one.setup)} Figures and tables show training seed {ev.run.seed}, "
            f"the first of {len(one.runs)}; the claims use every seed."
        ),
        *_within(sections, one.name),
    ]


@dataclasses.dataclass(frozen=True)
class Verdicts:
    """Everything the claims section shows: per setup its claims and collapse counts, and
    the verdict rule's calibration for each seed count in use."""

    claims: dict[str, list[Claim]]
    collapse: dict[str, dict]
    calibration: tuple[Calibration, ...]
    equivalence: tuple[EquivalenceClaim, ...] = ()  # claim 11, per Laplace setup


def judge(setups: Sequence[SetupRuns]) -> Verdicts:
    claims = {one.name: check_setup(one.runs) for one in setups}
    equivalence = judge_families(
        [one.setup for one in setups], {one.name: one.runs for one in setups}
    )
    family = sum(record.unit != "deterministic" for record in CLAIMS)
    counts = sorted({len(one.runs) for one in setups} | {CALIBRATED_SEEDS})
    return Verdicts(
        claims,
        {one.name: collapse_counts(one.runs) for one in setups},
        tuple(calibrate(n, family) for n in counts),
        tuple(equivalence),
    )


def claims_blocks(setups: Sequence[SetupRuns], verdicts: Verdicts) -> list[Block]:
    differ = setup_differences([one.setup for one in setups])
    across = table_row([one.name for one in setups], verdicts.equivalence)
    blocks = [
        *claims_table(verdicts.claims, [across]),
        Paragraph(
            "The setups differ only in " + "; ".join(differ) + ". Which of these explains a "
            "difference takes a setup that changes one of them alone: one more block under "
            "`setups` in params.yaml."
        ),
        *equivalence_blocks(verdicts.equivalence),
        *collapse_table(verdicts.collapse),
        *calibration_table(verdicts.calibration, {one.name: len(one.runs) for one in setups}),
    ]
    for name, found in verdicts.claims.items():
        blocks += details(name, found)
    return blocks


def build_blocks(setups: Sequence[SetupRuns], verdicts: Verdicts) -> list[Block]:
    """The summary, the claims across setups, then each setup's sections (the study's own
    first), then the run."""
    first = setups[0]
    missing = shared_missing(first.runs[0])
    for one in setups:
        for position, ev in enumerate(one.runs):
            figures = one.figures_dir if position == 0 else None
            missing += missing_inputs(ev, figures, one.setup.model)
    return [
        *summary_section(
            first.runs[0], verdicts.claims, missing, summary_text(verdicts.equivalence)
        ),
        *claims_blocks(setups, verdicts),
        *(block for one in setups for block in setup_blocks(one)),
        *run_section(first.runs[0], first.settings),
    ]


def data_uri(path: Path) -> str | None:
    """A PNG as a data: URI, so index.html needs no other file; None when it is missing."""
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def write_report(
    setups: Sequence[SetupRuns],
    out_dir: Path,
    claims_path: Path,
    summary_path: Path,
    runtime_dir: Path,
) -> dict[str, list[Claim]]:
    """Render README.md, runtime.md and index.html fully, then write each atomically, and
    every claim's numbers, interval and verdict to `claims_path`.

    README.md and index.html (the same, with the figures inlined) hold only what every
    machine reproduces; runtime.md what differs between machines.
    """
    verdicts = judge(setups)
    blocks = build_blocks(setups, verdicts)
    runtime = runtime_blocks(read_records(runtime_dir))

    def relative(path: Path) -> str | None:
        return Path(os.path.relpath(path, out_dir)).as_posix() if path.is_file() else None

    pages = {
        "README.md": to_markdown(blocks, relative),
        RUNTIME_REPORT: to_markdown(runtime, relative),
        "index.html": to_html(blocks, TITLE, data_uri),
    }
    for name, text in pages.items():
        write_text(out_dir / name, text)
    details = claims_summary(verdicts.claims, verdicts.collapse, verdicts.calibration)
    details["equivalence"] = equivalence_summary(verdicts.equivalence)
    write_json(claims_path, details)
    runs = {one.name: one.runs for one in setups}
    write_json(summary_path, metrics_summary(runs, verdicts.claims))
    return verdicts.claims
