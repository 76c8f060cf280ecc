"""The report's claim 11 (Laplace ≈ N(0, 1)): its row in the claims table, its section with
every β × quantity pair, and its entry in metrics/claims.json."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from vaelab.labels import beta_label
from vaelab.report.cells import fmt
from vaelab.report.equivalence import LAPLACE, EquivalenceClaim, Pair
from vaelab.report.render import Block, Heading, Paragraph, Table
from vaelab.report.stats import ALPHA

HEADING = "Claim 11: the Laplace latent against the normal one"


def _ratio_name(pair: Pair) -> str:
    return "odds ratio" if pair.quantity.scale == "logit" else "ratio"


def _ratio(value: float) -> str:
    return "∞" if math.isinf(value) and value > 0 else fmt(math.exp(value))


def _difference(pair: Pair) -> str:
    t = pair.test
    return f"{_ratio(t.mean)} [{_ratio(t.low)}, {_ratio(t.high)}]"


def quote_cell() -> str:
    r = LAPLACE
    return f"**{r.key}.** “{r.quote}” ({r.where}). *Scope:* {r.scope}."


def table_row(setups: Sequence[str], found: Sequence[EquivalenceClaim]) -> tuple[str, ...]:
    """Claim 11's row of the claims table: the quote, a cell per setup, and (in the column
    that asks whether setups differ) where it is judged, or why it is not."""
    where = f"judged in “{HEADING}” below" if found else absent_text()
    return (quote_cell(), *(table_cell(name, found) for name in setups), where)


def table_cell(setup: str, found: Sequence[EquivalenceClaim]) -> str:
    """Claim 11's cell in a setup's column: its verdict where the setup is the Laplace one,
    a pointer where it is the normal twin, '—' otherwise."""
    for claim in found:
        if claim.setup == setup:
            robust = all(verdict == claim.verdict for _, verdict in claim.readings)
            flips = "; ".join(f"{name}: {v}" for name, v in claim.readings if v != claim.verdict)
            return (
                f"**{claim.verdict}** against `{claim.twin}`, {len(claim.seeds)} seed pairs: "
                f"{claim.note}; {'robust' if robust else 'flips under ' + flips}"
            )
        if claim.twin == setup:
            return f"the normal twin of `{claim.setup}`"
    return "—"


def summary_text(found: Sequence[EquivalenceClaim]) -> str:
    """'claim 11 (Laplace ≈ N(0, 1)) holds for `laplace` against `study`'."""
    if not found:
        return "claim 11 (Laplace ≈ N(0, 1)) not measured: no Laplace setup"
    return "claim 11 (Laplace ≈ N(0, 1)) " + "; ".join(
        f"{c.verdict} for `{c.setup}` against `{c.twin}`" for c in found
    )


def absent_text() -> str:
    return (
        "**not measured**: no setup differs from another only by `model.latent: laplace`. "
        "The README's `dvc exp run` adds the study network's Laplace twin (with 5 seeds); "
        "any setup with `latent: laplace` added under `setups` works the same."
    )


def equivalence_blocks(found: Sequence[EquivalenceClaim]) -> list[Block]:
    r = LAPLACE
    margins = "; ".join(
        f"{q.label}: {'odds ' if q.scale == 'logit' else ''}ratio within "
        f"[1/{q.ratio:g}, {q.ratio:g}] ({q.scale} scale)"
        for q in r.quantities
    )
    blocks: list[Block] = [
        Heading(HEADING, 3),
        Paragraph(
            f"{quote_cell()} For each β and quantity, the seed-paired differences between the "
            "Laplace setup and its normal twin (same network, training and seeds) are tested "
            f"by two one-sided tests at {ALPHA:.0%} against margins fixed before any number "
            f"was seen: {margins}. Why these quantities: {r.why}. The claim **holds** only "
            "when every pair is equivalent (an intersection–union test), **does not hold** "
            "when some pair lies outside its margin (Holm over the pairs), and is "
            f"**inconclusive** otherwise. Intervals are {1 - 2 * ALPHA:.0%}, the ones the "
            "two tests use, shown as ratios Laplace / normal."
        ),
    ]
    if not found:
        return [*blocks, Paragraph(absent_text())]
    for claim in found:
        blocks.append(
            Paragraph(
                f"`{claim.setup}` against `{claim.twin}` (seeds "
                f"{', '.join(map(str, claim.seeds))}): **{claim.verdict}**. {claim.note}. "
                + " ".join(f"Reading “{name}”: {v}." for name, v in claim.readings)
            )
        )
        rows = tuple(
            (
                beta_label(p.beta),
                p.quantity.label,
                f"{_ratio_name(p)} {_difference(p)}",
                fmt(p.test.p_equivalent),
                "yes" if p.test.equivalent else ("outside" if p.outside else "no"),
                f"{p.collapsed[0]} / {p.collapsed[1]} of {p.collapsed[2]}",
            )
            for p in claim.pairs
        )
        header = (
            "β",
            "quantity",
            "Laplace / normal",
            "TOST p",
            "equivalent?",
            "collapsed (Laplace / normal)",
        )
        blocks.append(Table(header, rows))
    return blocks


def _pair_json(pair: Pair) -> dict[str, Any]:
    return {
        "beta": pair.beta,
        "quantity": pair.quantity.label,
        "scale": pair.quantity.scale,
        "margin_ratio": pair.quantity.ratio,
        "difference_on_scale": pair.test.as_dict(),
        "outside_holm_p": pair.outside_holm_p,
        "collapsed": dict(zip(("setup", "twin", "runs"), pair.collapsed, strict=True)),
        "values_by_seed": {seed: list(v) for seed, v in pair.values.items()},
    }


def equivalence_summary(found: Sequence[EquivalenceClaim]) -> dict[str, Any]:
    """metrics/claims.json's claim 11: per Laplace setup, its verdict and every pair."""
    r = LAPLACE
    return {
        "key": r.key,
        "quote": r.quote,
        "where": r.where,
        "scope": r.scope,
        "margins": {q.label: {"scale": q.scale, "ratio": q.ratio} for q in r.quantities},
        "comparisons": {
            claim.setup: {
                "twin": claim.twin,
                "seeds": list(claim.seeds),
                "verdict": claim.verdict,
                "note": claim.note,
                "readings": dict(claim.readings),
                "pairs": [_pair_json(p) for p in claim.pairs],
            }
            for claim in found
        },
    }
