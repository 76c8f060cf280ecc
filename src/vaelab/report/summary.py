"""metrics/summary.json, the pipeline's one DVC metrics file: what `dvc metrics diff` and
`dvc exp show` compare across β settings.

Per setup and model, at the last checkpoint, each number's mean over the training seeds (a
collapse is counted, not averaged), and per setup the count of each verdict. Everything else
the stages write (each run's evaluation, the claims' details, dvclive's logs) stays a tracked
output, readable but out of DVC's metrics views.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from vaelab.core.names import epoch_key, model_name
from vaelab.report.collapse import collapsed
from vaelab.report.evidence import Evidence
from vaelab.report.verdict import VERDICTS, Claim

# (name in the summary, path in a checkpoint's evaluation); the AE has no KL, ELBO or IWAE.
COLUMNS = (
    ("neg_elbo_nats", ("neg_elbo_nats",)),
    ("iwae_nats", ("iwae_nats",)),
    ("recon", ("recon",)),
    ("kl", ("kl",)),
    ("kl_share", ("kl_share",)),
    ("prior_confidence_ratio", ("prior_confidence_ratio",)),
    ("active_units", ("active_units",)),
)


def _model(runs: Sequence[Evidence], beta: float | None) -> dict[str, Any]:
    name = model_name(beta)
    finals = [
        final
        for ev in runs
        if (final := ev.evals.get(name, {}).get(epoch_key(ev.last_epoch))) is not None
    ]
    if not finals:
        return {}
    found: dict[str, Any] = {}
    for key, path in COLUMNS:
        values = []
        for final in finals:
            value: Any = final
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, int | float):
                values.append(float(value))
        if len(values) == len(finals):
            found[key] = statistics.fmean(values)
    if beta is not None:
        measured = [ev for ev in runs if epoch_key(ev.last_epoch) in ev.evals.get(name, {})]
        found["collapsed_runs"] = sum(collapsed(ev, beta, -1) for ev in measured)
    found["runs"] = len(finals)
    return found


def metrics_summary(
    runs_by_setup: Mapping[str, Sequence[Evidence]], claims: Mapping[str, list[Claim]]
) -> dict[str, Any]:
    """{setup: {'verdicts': {holds: n, …}, '<model>': {metric: seed mean, …}}}."""
    summary: dict[str, Any] = {}
    for setup, runs in runs_by_setup.items():
        found = claims.get(setup, [])
        entry: dict[str, Any] = {
            "verdicts": {v: sum(c.verdict == v for c in found) for v in VERDICTS}
        }
        for beta in (None, *runs[0].betas):
            if model := _model(runs, beta):
                entry[model_name(beta)] = model
        summary[setup] = entry
    return summary
