"""Table cells: how a number is shown, how a column reads a checkpoint, and the column sets.

A table has one row per (model, epoch); a column maps that checkpoint's metrics to a cell.
A missing checkpoint shows `NOT_MEASURED` in every cell and the report says what to run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from vaelab.core.names import BY_CLASSIFIER
from vaelab.labels import beta_label, percent
from vaelab.report.evidence import Evidence, NotMeasured
from vaelab.report.render import Table

NOT_MEASURED = "n/m"  # a table cell whose input is missing; the report lists what to run

Column = Callable[[dict[str, Any]], Any]


def ensemble_text(ev: Evidence) -> str:
    """'3 (seeds 7, 8, 9), test accuracy 0.985 (0.984–0.986), baseline confidence …'."""
    found = ev.classifier
    if found is None:
        return NOT_MEASURED
    seeds = ev.classifier_seeds
    parts = [f"{len(seeds)} (seeds {', '.join(str(s) for s in seeds)})"]
    for key, label in (("test_accuracy", "test accuracy"), ("baseline_confidence", "baseline")):
        parts.append(
            f"{label} **{fmt(found[key])}** ({fmt(found[f'{key}_min'])}–"
            f"{fmt(found[f'{key}_max'])})"
        )
    return ", ".join(parts)


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


def percent_cell(share: float | None) -> str:
    """A share as '32 %'; NOT_MEASURED when it is missing."""
    return NOT_MEASURED if share is None else percent(share)


def vector(values: Any) -> str:
    """'(0.1, 2.5)'; NOT_MEASURED when it is missing."""
    return NOT_MEASURED if values is None else "(" + ", ".join(fmt(v) for v in values) + ")"


def key(*path: str) -> Column:
    """A column that reads one value of a checkpoint's metrics; None where it is absent."""

    def pick(row: dict[str, Any]) -> Any:
        for part in path:
            if not isinstance(row, dict) or part not in row:
                return None
            row = row[part]
        return row

    return pick


def ensemble(name: str) -> Column:
    """A metric of the classifier ensemble: its mean, and its range over the classifiers,
    '0.894 (0.871–0.910)'."""

    def cell(row: dict[str, Any]) -> Any:
        mean, each = row.get(name), row.get(name + BY_CLASSIFIER)
        if mean is None or not each or len(each) < 2:
            return mean
        return f"{fmt(mean)} ({fmt(min(each))}–{fmt(max(each))})"

    return cell


def vae_only(name: str) -> Column:
    """A metric the AE does not have (KL, ELBO, IWAE): '—' where it is absent."""
    return lambda row: row.get(name, "—")


def _checkpoint(ev: Evidence, beta: float | None, epoch: int) -> dict[str, Any] | None:
    try:
        return ev.at(beta, epoch)
    except NotMeasured:
        return None


def rows(
    ev: Evidence, models: Iterable[tuple[float | None, int]], columns: dict[str, Column]
) -> Table:
    """One row per (model, epoch); `columns` maps a header to how to read its value."""
    table = []
    for beta, epoch in models:
        row = _checkpoint(ev, beta, epoch)
        cells = [
            fmt(column(row)) if row is not None else NOT_MEASURED for column in columns.values()
        ]
        table.append((beta_label(beta), str(epoch), *cells))
    return Table(("model", "epoch", *columns), tuple(table))


LATENT_COLUMNS: dict[str, Column] = {
    "KL(q(z) ‖ N(0, I)) [nats]": key("aggregate_posterior", "kl_to_prior"),
    "mean of q(z)": lambda r: vector(key("aggregate_posterior", "mean")(r)),
    "variance of the means": lambda r: vector(r.get("latent_variance")),
    "active units": key("active_units"),
}
BETA_COLUMNS: dict[str, Column] = {
    "recon": key("recon"),
    "KL [nats]": key("kl"),
    "KL(q(z) ‖ N(0, I))": key("aggregate_posterior", "kl_to_prior"),
    "N(0, I) confidence ratio": ensemble("prior_confidence_ratio"),
    "N(0, I) class entropy [bits]": ensemble("prior_class_entropy_bits"),
}
CONFIDENCE_COLUMNS: dict[str, Column] = {
    "reconstruction confidence ratio": ensemble("recon_confidence_ratio"),
    "N(0, I) confidence ratio": ensemble("prior_confidence_ratio"),
    "N(0, I) class entropy [bits]": ensemble("prior_class_entropy_bits"),
    "N(0, I) Fréchet distance": key("prior_frechet_distance"),
}
RATE_DISTORTION_COLUMNS: dict[str, Column] = {
    "rate: KL [nats]": key("kl"),
    "distortion: recon": key("recon"),
    "−ELBO [nats]": key("neg_elbo_nats"),
    "IWAE −log p(x) [nats]": key("iwae_nats"),
    "active units": key("active_units"),
}


def shifted_columns(shifted: str) -> dict[str, Column]:
    """Figure 14's table; `shifted` is the shifted prior's label, `labels.shifted_name`."""
    return {
        f"{shifted} confidence ratio": ensemble("shifted_confidence_ratio"),
        f"{shifted} class entropy [bits]": ensemble("shifted_class_entropy_bits"),
        "predicted classes 0–9": lambda r: " ".join(map(str, r.get("shifted_class_counts", []))),
    }


def metrics_columns(shifted: str) -> dict[str, Column]:
    """Every metric of a checkpoint, for the full table; `shifted` as in shifted_columns."""
    return {
        "recon": key("recon"),
        "recon [nats]": key("recon_nats"),
        "KL [nats]": vae_only("kl"),
        "−ELBO [nats]": vae_only("neg_elbo_nats"),
        "IWAE [nats]": vae_only("iwae_nats"),
        "KL share": lambda r: percent_cell(r["kl_share"]) if "kl_share" in r else "—",
        "active units": key("active_units"),
        "KL(q(z) ‖ N(0, I))": key("aggregate_posterior", "kl_to_prior"),
        "conf. recon": key("recon_confidence_ratio"),
        "conf. N(0, I)": key("prior_confidence_ratio"),
        f"conf. {shifted}": key("shifted_confidence_ratio"),
        "H N(0, I) [bits]": key("prior_class_entropy_bits"),
        f"H {shifted} [bits]": key("shifted_class_entropy_bits"),
    }
