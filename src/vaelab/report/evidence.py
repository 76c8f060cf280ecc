"""What the report and the claims read: the metrics earlier stages wrote, loaded once.

A missing file is an absent key, never an error; whoever needs it raises `NotMeasured`
naming the `dvc repro` target that makes it.
"""

from __future__ import annotations

import csv
import dataclasses
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaelab.core.io import read_json
from vaelab.core.names import (
    BY_CLASSIFIER,
    DATA_SUMMARY,
    TRAIN_SUMMARY,
    Run,
    beta_tag,
    classifier_name,
    classifier_summary_path,
    curve_path,
    epoch_key,
    eval_path,
    eval_target,
    figures_numbers_path,
    model_name,
    train_dir,
    train_target,
)
from vaelab.labels import beta_label

CURVE_SPLITS = ("train", "test")
CURVE_METRICS = ("loss", "recon", "kl", "kl_share", "beta_kl_share")


class NotMeasured(Exception):
    """An input a claim needs is missing; `stages` are the `dvc repro` targets that make it."""

    def __init__(self, what: str, stages: Sequence[str]) -> None:
        super().__init__(what)
        self.what = what
        self.stages = tuple(stages)


@dataclass(frozen=True)
class Evidence:
    """The pipeline's metrics as loaded from disk; a file that is missing is an absent key.

    `evals` maps 'ae' / 'vae_beta_<β>' to metrics/eval/<name>.json; `train` maps the same
    names and 'classifier_seed_<seed>' to dvclive summaries; `classifier` summarises the
    ensemble (see `ensemble_summary`), None until every classifier has trained; `curves`
    maps a model name to its per-epoch dvclive TSVs as {'train/kl_share': [(epoch, value),
    …]}. `shifted_name` is how the
    shifted prior of figure 14 is written ('N(1, 0.5²)', from `labels.shifted_name`).
    """

    run: Run
    betas: tuple[float, ...]
    checkpoints: tuple[int, ...]
    shifted_name: str
    evals: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    train: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    curves: Mapping[str, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)
    classifier: dict[str, Any] | None = None
    figures: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    classifier_seeds: tuple[int, ...] = ()

    @property
    def last_epoch(self) -> int:
        return self.checkpoints[-1]

    def require(self, *betas: float | None) -> None:
        """Raise NotMeasured naming every missing evaluation (None is the AE)."""
        missing = [b for b in betas if model_name(b) not in self.evals]
        if missing:
            names = ", ".join("the AE" if b is None else beta_label(b) for b in missing)
            raise NotMeasured(f"evaluation of {names}", [self._target(b) for b in missing])

    def at(self, beta: float | None, epoch: int, *path: str) -> Any:
        """A value of one checkpoint's evaluation: `at(5, 20, 'aggregate_posterior', 'kl')`."""
        self.require(beta)
        name = model_name(beta)
        value: Any = self.evals[name].get(epoch_key(epoch))
        if value is None:
            raise NotMeasured(f"epoch {epoch} of {name}", [self._target(beta)])
        for key in path:
            if key not in value:
                raise NotMeasured(f"{'.'.join(path)} of {name}", [self._target(beta)])
            value = value[key]
        return value

    def final(self, beta: float | None, *path: str) -> Any:
        return self.at(beta, self.last_epoch, *path)

    def for_classifier(self, index: int) -> Evidence:
        """The evidence as the ensemble's classifier `index` alone saw it: every metric that
        has a `<key>_by_classifier` list takes that classifier's entry."""

        def pick(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            picked = {key: pick(item) for key, item in value.items()}
            for key, item in value.items():
                if key.endswith(BY_CLASSIFIER) and isinstance(item, list):
                    picked[key.removesuffix(BY_CLASSIFIER)] = item[index]
            return picked

        return dataclasses.replace(self, evals={n: pick(e) for n, e in self.evals.items()})

    def train_stage(self, beta: float | None) -> str:
        return f"dvc repro {train_target(beta, self.run)}"

    def _target(self, beta: float | None) -> str:
        stage = f"dvc repro {eval_target(beta, self.run.setup)}"
        if beta is None or float(beta) in self.betas:
            return stage
        return f"add {beta_tag(beta)} to vae.betas in params.yaml, then {stage}"


def _read_optional(path: Path) -> dict[str, Any] | None:
    return read_json(path) if path.exists() else None


def _read_curve(path: Path) -> list[tuple[int, float]]:
    """A dvclive TSV (columns step, <metric>) as [(epoch, value), …]; [] when missing."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return [(int(row[0]), float(row[1])) for row in rows[1:] if row]


def _read_curves(metrics_dir: Path, name: str) -> dict[str, list[tuple[int, float]]]:
    """One model's per-epoch dvclive curves, keyed 'train/kl_share'; a missing one is absent."""
    return {
        f"{split}/{metric}": curve
        for split in CURVE_SPLITS
        for metric in CURVE_METRICS
        if (curve := _read_curve(curve_path(metrics_dir, name, split, metric)))
    }


def ensemble_summary(summaries: Mapping[int, dict[str, Any]]) -> dict[str, Any]:
    """The classifiers' test accuracy and baseline confidence: mean, lowest and highest."""
    found: dict[str, Any] = {}
    for key in ("test_accuracy", "baseline_confidence"):
        values = [float(s[key]) for s in summaries.values()]
        found |= {key: statistics.fmean(values), f"{key}_min": min(values)}
        found[f"{key}_max"] = max(values)
        found[f"{key}_each"] = values
    return found


def load_evidence(
    metrics_dir: Path,
    run: Run,
    betas: Iterable[float],
    checkpoints: Iterable[int],
    shifted_name: str,
    classifier_seeds: Sequence[int],
) -> Evidence:
    """Everything under `metrics_dir` the report uses about `run` (and the classifiers, the
    data and its setup's figures); missing files are simply absent.

    `shifted_name` labels the shifted prior in the claims: `labels.shifted_name(eval_p)`.
    """
    betas = tuple(float(b) for b in betas)
    models = [None, *betas]
    names = [model_name(b) for b in models]
    own = run.metrics(metrics_dir)
    evals = {
        model_name(b): e for b in models if (e := _read_optional(eval_path(metrics_dir, run, b)))
    }
    train = {n: s for n in names if (s := _read_optional(train_dir(own, n) / TRAIN_SUMMARY))} | {
        n: s
        for n in (classifier_name(seed) for seed in classifier_seeds)
        if (s := _read_optional(train_dir(metrics_dir, n) / TRAIN_SUMMARY))
    }
    classifiers = {
        seed: s
        for seed in classifier_seeds
        if (s := _read_optional(classifier_summary_path(metrics_dir, seed)))
    }
    return Evidence(
        run=run,
        betas=betas,
        checkpoints=tuple(checkpoints),
        shifted_name=shifted_name,
        evals=evals,
        train=train,
        curves={n: _read_curves(own, n) for n in names},
        classifier=ensemble_summary(classifiers)
        if len(classifiers) == len(classifier_seeds)
        else None,
        figures=_read_optional(figures_numbers_path(metrics_dir, run.setup)),
        data=_read_optional(metrics_dir / DATA_SUMMARY),
        classifier_seeds=tuple(classifier_seeds),
    )
