"""The report's claims: the verdict table with each claim's quote, the collapse table, what
the verdict rule can and cannot detect, and the numbers behind every verdict, per seed.

`claims_summary` writes the same to metrics/claims.json.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from vaelab.core import params
from vaelab.labels import beta_label
from vaelab.report import stats
from vaelab.report.calibration import Calibration
from vaelab.report.cells import fmt
from vaelab.report.collapse import KL_RESOLUTION
from vaelab.report.render import Block, Heading, Paragraph, Table
from vaelab.report.stats import Interval, Test
from vaelab.report.verdict import Claim, Judged, setups_differ

Collapse = dict[float, dict[int, tuple[int, int]]]


def _span(test: Test) -> str:
    return f"{fmt(test.mean)} [{fmt(test.low)}, {fmt(test.high)}]"


def _cell(claim: Claim) -> str:
    """'**verdict**, margin m [lo, hi], k of n > 0, Holm p; robustness; seeds needed'."""
    p = claim.primary
    parts = [f"**{claim.verdict}**"]
    if p is not None:
        if p.test is not None:
            parts.append(f"margin {_span(p.test)}")
        parts.append(f"{p.signs} runs > 0")
        if p.excluded:
            parts.append(f"{len(p.excluded)} run(s) left out: collapsed")
        if p.adjusted_p is not None:
            parts.append(f"Holm p {fmt(p.adjusted_p)}")
        if claim.robustness:
            parts.append(claim.robustness)
        if claim.verdict == "inconclusive":
            parts.append(_needed(claim))
    return ", ".join(parts)


def _needed(claim: Claim) -> str:
    """What would decide an inconclusive claim, were the effect and spreads seen the truth."""
    test = claim.primary.test if claim.primary else None
    if claim.needed is None or test is None:
        return "more seeds: unknown"
    kind, count = claim.needed
    if kind == "seeds":
        return f"~{count} seeds would decide it"
    return (
        f"no seed count would with {test.classifiers} classifiers (their spread caps it); "
        f"~{count} classifiers would"
    )


def _differ(row: Sequence[Claim], test: Test | None, adjusted: float | None) -> str:
    if test is None or adjusted is None:
        return ""
    decided = "differ" if adjusted < stats.ALPHA else "no difference shown"
    return f"{decided}: margin difference {_span(test)}, Holm p {fmt(adjusted)}"


def _quote(claim: Claim) -> str:
    r = claim.record
    return f"**{r.key}.** “{r.quote}” ({r.where}). *Scope:* {r.scope}."


def differences(claims: dict[str, list[Claim]]) -> list[tuple[Test | None, float | None]]:
    """Per claim, the first two setups' primary margins compared by Welch's test, with
    Holm over the claims that have one."""
    names = list(claims)
    if len(names) < 2:
        return [(None, None)] * len(claims[names[0]])
    pairs = zip(claims[names[0]], claims[names[1]], strict=True)
    tests = [setups_differ(a, b) for a, b in pairs]
    tested = [i for i, t in enumerate(tests) if t is not None]
    adjusted = dict(zip(tested, stats.holm([tests[i].p for i in tested]), strict=True))
    return [(t, adjusted.get(i)) for i, t in enumerate(tests)]


def _method() -> Paragraph:
    return Paragraph(
        "Each claim is a record in `src/vaelab/report/claims.py`: the study's sentence, "
        "its scope, the quantity, its scale and the criterion; `src/vaelab/report/"
        "verdict.py` judges them all alike. On each training run the criterion gives a "
        "*margin*, positive exactly when it holds on that run, on the quantity's natural "
        "scale (log for KLs, errors and confidence ratios; logit for shares). For claims "
        "that rest on the classifiers, every seed × classifier cell gives one, and both "
        "are sources of variance. The margins are tested against 0 (Student t), and Holm's "
        f"rule over each setup's claims keeps the chance of any false **holds** or **does "
        f"not hold** at {stats.ALPHA:.0%}: a claim is **inconclusive** when its "
        "Holm-adjusted p is above that. Where the study's words allow other scopes or "
        "thresholds, each is judged in the primary reading's place: *robust* when all "
        "agree, otherwise the readings that flip it. A run whose VAE collapsed (no active "
        f"unit, or a KL below {KL_RESOLUTION:g} nats) is counted, not averaged: claims "
        "about image quality are judged on the runs that did not collapse. Whether two "
        "setups differ is Welch's test on their margins, with Holm over the claims."
    )


def claims_table(
    claims: dict[str, list[Claim]], extra_rows: Sequence[tuple[str, ...]] = ()
) -> list[Block]:
    """One row per claim, a column per setup; `extra_rows` are the claims across setups."""
    names = list(claims)
    rows = []
    found = differences(claims)
    for position, first in enumerate(claims[names[0]]):
        row = [claims[name][position] for name in names]
        test, adjusted = found[position]
        rows.append((_quote(first), *(_cell(c) for c in row), _differ(row, test, adjusted)))
    header = ("the study says", *(f"`{n}`" for n in names), "do the setups differ?")
    rows += extra_rows
    return [Heading("Claims of the study, checked"), _method(), Table(header, tuple(rows))]


def collapse_table(collapse: dict[str, Collapse]) -> list[Block]:
    """Setup × β × epoch: how many runs collapsed."""
    rows = []
    for setup, by_beta in collapse.items():
        for beta, by_epoch in by_beta.items():
            cells = tuple(f"{k} of {n}" for k, n in by_epoch.values())
            rows.append((f"`{setup}`", beta_label(beta), *cells))
    epochs = next(iter(next(iter(collapse.values())).values()))
    return [
        Heading("Posterior collapse, run by run", 3),
        Paragraph(
            "Runs whose VAE has collapsed (no latent unit active, or a mean KL below "
            f"{KL_RESOLUTION:g} nats), of the runs measured, per checkpoint. A run either "
            "collapses or it does not: these counts are outcomes, not noise to average."
        ),
        Table(("setup", "β", *(f"epoch {e}" for e in epochs)), tuple(rows)),
    ]


def calibration_table(found: Sequence[Calibration], setups: dict[str, int]) -> list[Block]:
    rows = []
    for one in found:
        users = [f"`{s}`" for s, n in setups.items() if n == one.seeds] or ["—"]
        rows.append(
            (
                str(one.seeds),
                ", ".join(users),
                f"{one.false_decisions:.1%}",
                f"{one.power[1.0]:.1%}",
                f"{one.power[2.0]:.1%}",
                f"{one.flips[2.0]:.1%}",
            )
        )
    return [
        Heading("What the verdict rule can detect", 3),
        Paragraph(
            "The rule above, run on 2 000 simulated families of claims of known truth (one "
            "claim with an effect of 1 or 2 seed standard deviations, the others none) as "
            "large as a setup's. With few seeds an *inconclusive* says little: an effect "
            "of 2 seed SDs is then usually missed. The last column is how often a decided "
            "verdict changes when one more seed is added."
        ),
        Table(
            (
                "seeds",
                "setups",
                "false verdicts, no effect (family-wise)",
                "decided, effect 1 SD",
                "decided, effect 2 SD",
                "decided verdicts one more seed flips (2 SD)",
            ),
            tuple(rows),
        ),
    ]


def _interval_text(name: str, found: Interval) -> str:
    if found.n < 2 or found.low == found.high:
        return f"{name} = {fmt(found.center)} ({found.method})"
    return f"{name} = {fmt(found.center)} [{fmt(found.low)}, {fmt(found.high)}] ({found.method})"


def _per_run(judged: Judged) -> str:
    shown = [f"{run}: {fmt(m)}" for run, m in judged.margins.items()]
    shown += [f"{run}: left out ({why})" for run, why in judged.excluded.items()]
    return "; ".join(shown) or "—"


def _grid(judged: Judged) -> str:
    if not judged.grid:
        return ""
    return " Per classifier: " + "; ".join(
        f"{run}: {', '.join(fmt(m) for m in cells)}" for run, cells in judged.grid.items()
    )


def details(setup: str, claims: Sequence[Claim]) -> list[Block]:
    rows = []
    for claim in claims:
        r, p = claim.record, claim.primary
        readings = "; ".join(
            f"{j.name}: {j.verdict}" + (f" ({j.signs} > 0)" if j.margins else "")
            for j in claim.readings
        )
        numbers = "; ".join(_interval_text(n, i) for n, i in p.values.items()) if p else ""
        rows.append(
            (
                r.key,
                f"{r.quantity}; {r.scale} scale; {r.criterion}. Primary: "
                f"{p.name if p else '—'} ({r.why}). {claim.note}",
                numbers or "—",
                (_per_run(p) + _grid(p)) if p else claim.note,
                readings or "—",
            )
        )
    return [
        Heading(f"The numbers behind each verdict ({setup})", 3),
        Paragraph(
            f"Under `{setup}`: each number's centre and 95 % interval over the runs, on the "
            "scale that keeps it inside the range it can take (the method in brackets), "
            "then each run's margin (by training seed; for claim 10, by classifier seed)."
        ),
        Table(
            ("#", "what is measured", "numbers", "margin per run", "other readings"), tuple(rows)
        ),
    ]


def _bounds(interval: Interval, bounds: tuple[float, float]) -> dict[str, Any]:
    return interval.as_dict() | {
        "range": [None if math.isinf(b) else b for b in bounds],
    }


def _judged(j: Judged) -> dict[str, Any]:
    return {
        "reading": j.name,
        "verdict": j.verdict,
        "test": j.test.as_dict() if j.test else None,
        "holm_p": j.adjusted_p,
        "signs": j.signs,
        "margin_by_run": j.margins,
        "margin_by_run_and_classifier": j.grid,
        "left_out": j.excluded,
        "collapsed_and_dropped": {run: list(b) for run, b in j.dropped.items()},
        "numbers": {
            name: _bounds(i, j.bounds[name]) | {"by_run": j.values_by_run.get(name, {})}
            for name, i in j.values.items()
        },
    }


def claims_summary(
    claims: dict[str, list[Claim]], collapse: dict[str, Collapse], found: Sequence[Calibration]
) -> dict[str, Any]:
    """metrics/claims.json: per setup and claim, the record, the verdict, every reading with
    its test and per-run margins; the collapse counts; the calibration."""
    return {
        "rule": {"family_wise_alpha": stats.ALPHA, "correction": "holm", "test": "student t"},
        "calibration": [c.as_dict() for c in found],
        "collapse": {
            setup: {
                f"{b:g}": {str(e): list(kn) for e, kn in by_epoch.items()}
                for b, by_epoch in table.items()
            }
            for setup, table in collapse.items()
        },
        "setups": {
            setup: {
                c.key: {
                    "verdict": c.verdict,
                    "quote": c.record.quote,
                    "where": c.record.where,
                    "scope": c.record.scope,
                    "scale": c.record.scale,
                    "criterion": c.record.criterion,
                    "robustness": c.robustness,
                    "seeds_needed": c.needed[1] if c.needed and c.needed[0] == "seeds" else None,
                    "classifiers_needed": (
                        c.needed[1] if c.needed and c.needed[0] == "classifiers" else None
                    ),
                    "note": c.note,
                    "primary": _judged(c.primary) if c.primary else None,
                    "readings": [_judged(j) for j in c.readings],
                }
                for c in found_
            }
            for setup, found_ in claims.items()
        },
    }


def setup_differences(setups: Sequence[params.Setup]) -> list[str]:
    """'model.hidden: study [64, 16, 8], wide [256, 128]' for each key the setups differ in."""
    found = []
    for section in ("model", "train"):
        values = {s.name: params.as_dict(getattr(s, section)) for s in setups}
        for key in next(iter(values.values())):
            shown = {name: v[key] for name, v in values.items()}
            if len({repr(v) for v in shown.values()}) > 1:
                each = ", ".join(f"{name} {value}" for name, value in shown.items())
                found.append(f"{section}.{key}: {each}")
    return found
