"""The whole report: blocks in the study's order, rendered to README.md and index.html at once.

Reads only what earlier stages wrote (metrics JSON, dvclive TSVs, figure PNGs) and never
trains. Anything missing is marked "not measured" with the `dvc repro` target that makes it,
so a report of a half-run pipeline still builds and says what to run next.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from vaelab.io import write_text
from vaelab.names import RUNTIME_REPORT
from vaelab.report.claims import Claim, check_all
from vaelab.report.evidence import Evidence
from vaelab.report.render import Block, to_html, to_markdown
from vaelab.report.runtime_page import runtime_blocks
from vaelab.report.sections_run import (
    TITLE,
    claims_section,
    metrics_section,
    run_section,
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


def build_blocks(ev: Evidence, s: Settings, figures_dir: Path, claims: list[Claim]) -> list[Block]:
    """The whole report, in the study's order, then the claims, the metrics and the run."""
    return [
        *summary_section(ev, s, claims, figures_dir),
        *latent_section(ev, s, figures_dir),
        *beta_section(ev, s, figures_dir),
        *losses_section(ev, s, figures_dir),
        *confidence_section(ev, s, figures_dir),
        *beyond_section(ev, s, figures_dir),
        *claims_section(claims),
        *metrics_section(ev, s),
        *run_section(ev, s),
    ]


def data_uri(path: Path) -> str | None:
    """A PNG as a data: URI, so index.html needs no other file; None when it is missing."""
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def write_report(ev: Evidence, s: Settings, figures_dir: Path, out_dir: Path) -> list[Claim]:
    """Render README.md, runtime.md and index.html fully, then write each atomically.

    README.md holds only what every machine reproduces; runtime.md what differs between
    machines; index.html both, with the figures inlined.
    """
    claims = check_all(ev)
    blocks = build_blocks(ev, s, figures_dir, claims)
    runtime = runtime_blocks(ev)

    def relative(path: Path) -> str | None:
        return Path(os.path.relpath(path, out_dir)).as_posix() if path.is_file() else None

    pages = {
        "README.md": to_markdown(blocks, relative),
        RUNTIME_REPORT: to_markdown(runtime, relative),
        "index.html": to_html([*blocks, *runtime], TITLE, data_uri),
    }
    for name, text in pages.items():
        write_text(out_dir / name, text)
    return claims
