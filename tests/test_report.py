"""The report stage on a minimal metrics tree: it builds, it is offline, it writes atomically."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vaelab.core import params
from vaelab.core.names import (
    EXPLORER_PAGE,
    Run,
    classifier_name,
    classifier_summary_path,
    eval_path,
    expected_figures,
    figures_numbers_path,
)
from vaelab.report import write
from vaelab.report.cells import fmt
from vaelab.report.write import collect, write_report

REPO = Path(__file__).resolve().parents[1]
# A valid 1×1 PNG: enough for the report, which only embeds or links the file.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
CHECKPOINTS = (1, 5)
CLASSIFIER_SEEDS = params.load("classifier", path=REPO / "params.yaml").seeds
FIRST = Run("study", params.load("train", path=REPO / "params.yaml").seeds[0])


def _row(recon: float, agg_kl: float, vae: bool) -> dict:
    row = {
        "recon": recon,
        "recon_nats": recon + 448.7,
        "active_units": 2,
        "latent_variance": [1.0, 0.5],
        "aggregate_posterior": {"mean": [0.0, 0.1], "kl_to_prior": agg_kl},
        "recon_confidence_ratio": 0.95,
        "prior_confidence_ratio": 0.6,
        "prior_class_entropy_bits": 3.1,
        "shifted_confidence_ratio": 0.5,
        "shifted_class_entropy_bits": 2.0,
        "shifted_class_counts": [1] * 10,
    }
    if vae:
        row |= {
            "kl": 4.0,
            "neg_elbo_nats": recon + 452.7,
            "iwae_nats": recon + 450.0,
            "kl_share": 0.1,
        }
    return row


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def minimal_tree(root: Path) -> None:
    """metrics/ with the study setup's first seed's AE and β = 1 evaluated, the classifiers,
    one curve and one figure."""
    metrics = root / "metrics"
    own = FIRST.metrics(metrics)
    env = {"torch": "2.x", "device": "cpu", "threads": 2}
    for seed in CLASSIFIER_SEEDS:
        _write(
            classifier_summary_path(metrics, seed),
            # Classifiers a little apart: equal ones leave only the sign test, which three
            # can never pass.
            {
                "test_accuracy": 0.98 - 0.001 * (seed % 3),
                "baseline_confidence": 0.99,
                "seed": seed,
            },
        )
        _write(
            metrics / "train" / classifier_name(seed) / "metrics.json",
            {"train_seconds": 20.0, "environment": env},
        )
    for name, vae in (("ae", False), ("vae_beta_1", True)):
        evaluation = {
            f"epoch_{e:03d}": _row(30.0 - e, 9.0 if not vae else 0.5, vae) for e in CHECKPOINTS
        }
        _write(
            eval_path(metrics, FIRST, None if name == "ae" else 1.0),
            evaluation | {"seconds": 3.0, "environment": env, "baseline_confidence": 0.99},
        )
        _write(own / "train" / name / "metrics.json", {"train_seconds": 10.0})
    curve = own / "train" / "vae_beta_1" / "plots" / "metrics" / "train" / "kl_share.tsv"
    curve.parent.mkdir(parents=True, exist_ok=True)
    curve.write_text("step\tkl_share\n1\t0.004\n5\t0.12\n")
    (root / "plots" / "figures" / "study").mkdir(parents=True)
    (root / "plots" / "figures" / "study" / "fig02_ae_latent.png").write_bytes(PNG)


@pytest.fixture
def settings() -> dict:
    """params.yaml's sections, with two checkpoints: what `_build` passes to `collect`."""
    setups, vae, eval_p, figures, explorer = params.load(
        "setups", "vae", "eval", "figures", "explorer", path=REPO / "params.yaml"
    )
    setups = {
        name: dataclasses.replace(
            one, train=dataclasses.replace(one.train, checkpoints=CHECKPOINTS)
        )
        for name, one in setups.items()
    }
    vae = dataclasses.replace(vae, betas=(0.0, 1.0, 5.0))
    return {"setups": setups, "vae_p": vae, "eval_p": eval_p, "figures_p": figures,
            "explorer_p": explorer}  # fmt: skip


def _build(root: Path, settings: dict) -> Path:
    found = collect(
        root / "metrics", root / "plots" / "figures", **settings, classifier_seeds=CLASSIFIER_SEEDS
    )
    metrics = root / "metrics"
    write_report(
        found, root / "report", metrics / "claims.json", metrics / "summary.json", root / "runtime"
    )
    return root / "report"


def test_report_builds_and_marks_missing_inputs(tmp_path: Path, settings: dict) -> None:
    minimal_tree(tmp_path)
    out = _build(tmp_path, settings)
    markdown = (out / "README.md").read_text()
    summary = json.loads((tmp_path / "metrics" / "summary.json").read_text())["study"]
    assert summary["vae_beta_1"]["runs"] == 1 and summary["vae_beta_1"]["collapsed_runs"] == 0
    assert "kl" in summary["vae_beta_1"] and "kl" not in summary["ae"]
    assert "](../plots/figures/study/fig02_ae_latent.png)" in markdown
    assert "run `dvc repro evaluate_vae@study-5`" in markdown
    assert "run `dvc repro evaluate_vae@wide-0`" in markdown
    assert "`fig03_vae_redecodes.png` is missing; run `dvc repro figures`" in markdown
    assert "| **7a.** “After multiple iterations, the reconstruction loss drops" in markdown
    assert "| AE | 5 | 25 | 474 | — | — | — |" in markdown  # AE has no KL, ELBO or IWAE
    assert "0.4 % → 12 %" in markdown  # the dvclive curve feeds the losses table
    html = (out / "index.html").read_text()
    for claim in ("1", "2", "3a", "10"):
        assert f"<td>{claim}</td>" in html  # the details table, one row per claim
    found = json.loads((tmp_path / "metrics" / "claims.json").read_text())
    claims = found["setups"]
    assert set(claims) == set(settings["setups"])
    # claim 11 needs a Laplace setup; the defaults have none, and the report says how to add one
    assert found["equivalence"]["comparisons"] == {}
    assert "| **11.** “Additionally, the Laplace distribution" in markdown
    assert "no setup differs from another only by `model.latent: laplace`" in markdown
    by_classifier = claims["study"]["10"]["primary"]["margin_by_run"]
    assert by_classifier.keys() == set(map(str, CLASSIFIER_SEEDS))
    assert claims["study"]["1"]["verdict"] == "not measured"
    assert claims["study"]["1"]["quote"].startswith("Comparing this plot to the latent space")


def test_machine_facts_go_to_the_runtime_page_not_the_readme(
    tmp_path: Path, settings: dict
) -> None:
    """README.md must be the same bytes on every machine: seconds and processors go elsewhere."""
    minimal_tree(tmp_path)
    machine = {"device": "cpu", "threads": 2, "device_name": "Some CPU 9000", "cpu_count": 64}
    _write(
        tmp_path / "runtime" / "evaluate_vae@study-1.json",
        {"shared_seconds": 0.25, "seconds_by_model": {"a": 4.0}, "environment": machine},
    )
    _write(
        tmp_path / "runtime" / "train_vae@study-1-42.json",
        {
            "train_seconds": 9.5,
            "images_per_s": 12345.6,
            "models_in_step": 9,
            "environment": machine,
        },
    )
    out = _build(tmp_path, settings)
    readme, runtime = (out / "README.md").read_text(), (out / "runtime.md").read_text()
    assert "Some CPU 9000" not in readme and "Wall time" not in readme
    assert "`report/runtime.md`" in readme
    assert "| evaluate_vae@study-1 | 4.25 | — | — | cpu | 2 |" in runtime
    assert "| train_vae@study-1-42 | 9.5 | 12,346 | 9 | cpu | 2 |" in runtime
    assert "Some CPU 9000" in runtime
    assert "Some CPU 9000" not in (out / "index.html").read_text()  # same bytes everywhere


def test_a_latent_space_without_a_manifold_figure_misses_nothing(
    tmp_path: Path, settings: dict
) -> None:
    """Figure 15 needs a 2-D latent space; with 3 the figures stage skips it by design."""
    study = settings["setups"]["study"]
    settings["setups"] = {
        "study": dataclasses.replace(study, model=dataclasses.replace(study.model, latent_dim=3))
    }
    minimal_tree(tmp_path)
    for name in expected_figures(CHECKPOINTS, latent_dim=3):
        (tmp_path / "plots" / "figures" / "study" / name).write_bytes(PNG)
    _write(figures_numbers_path(tmp_path / "metrics", "study"), {"notes": []})
    markdown = (_build(tmp_path, settings) / "README.md").read_text()
    summary = markdown.split("## Claims of the study")[0]
    assert "fig15_manifold.png" not in summary  # not among the missing
    assert "run `dvc repro figures@study`" not in summary


def test_report_builds_from_nothing(tmp_path: Path, settings: dict) -> None:
    out = _build(tmp_path, settings)
    markdown = (out / "README.md").read_text()
    assert (
        "14 checked under 2 setups (`study`: 0 holds, 0 does not hold, 0 inconclusive, "
        "14 not measured; `wide`: 0 holds"
    ) in markdown
    assert "and claim 11 (Laplace ≈ N(0, 1)) not measured: no Laplace setup" in markdown
    assert "run `dvc repro train_classifier`" in markdown


def test_a_laplace_twin_gets_claim_11_and_a_uniform_setup_figure_17(
    tmp_path: Path, settings: dict
) -> None:
    study = settings["setups"]["study"]
    for family in ("laplace", "uniform"):
        model = dataclasses.replace(study.model, latent=family)
        settings["setups"][family] = dataclasses.replace(study, name=family, model=model)
    minimal_tree(tmp_path)
    markdown = (_build(tmp_path, settings) / "README.md").read_text()
    found = json.loads((tmp_path / "metrics" / "claims.json").read_text())
    laplace = found["equivalence"]["comparisons"]["laplace"]
    assert laplace["twin"] == "study" and laplace["verdict"] == "not measured"
    assert "**not measured** against `study`" in markdown
    assert "the normal twin of `laplace`" in markdown
    assert "latent `laplace` with prior Laplace(0, 0.707)" in markdown
    # figure 17 is expected for the uniform setup alone, and named when it is missing
    assert "`fig17_uniform_boxes.png` is missing; run `dvc repro figures`" in markdown
    assert markdown.count("fig17_uniform_boxes.png") == 1


def test_html_is_self_contained(tmp_path: Path, settings: dict) -> None:
    minimal_tree(tmp_path)
    html = (_build(tmp_path, settings) / "index.html").read_text()
    links = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", html, flags=re.I)
    assert not [link for link in links if re.match(r"(?i)(https?:)?//", link)]
    assert "<script" not in html.lower() and "<link" not in html.lower()
    images = re.findall(r'<img src="([^"]+)"', html)
    assert images == ["data:image/png;base64," + base64.b64encode(PNG).decode()]
    assert "url(" not in html  # no CSS fetches either


def test_both_pages_link_the_explorer_beside_them(tmp_path: Path, settings: dict) -> None:
    out = _build(tmp_path, settings)
    assert f"]({EXPLORER_PAGE})" in (out / "README.md").read_text()
    assert f'<a href="{EXPLORER_PAGE}">' in (out / "index.html").read_text()


def test_no_partial_files_when_rendering_raises(
    tmp_path: Path, settings: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    minimal_tree(tmp_path)
    out = tmp_path / "report"
    out.mkdir()
    (out / "README.md").write_text("old")

    def broken(*args, **kwargs):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(write, "to_html", broken)
    with pytest.raises(RuntimeError, match="rendering failed"):
        _build(tmp_path, settings)
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]
    assert (out / "README.md").read_text() == "old"


def test_stage_script_runs_on_partial_metrics(tmp_path: Path) -> None:
    minimal_tree(tmp_path)
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    command = [
        sys.executable,
        str(REPO / "stages" / "report.py"),
        "--metrics",
        "metrics",
        "--figures",
        "plots/figures",
        "--out",
        "report",
        "--claims",
        "metrics/claims.json",
        "--summary",
        "metrics/summary.json",
        "--runtime",
        "runtime",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "study: 1 not measured" in done.stdout and "10 holds" in done.stdout
    assert (tmp_path / "report" / "index.html").stat().st_size > 0
    summary = json.loads((tmp_path / "metrics" / "summary.json").read_text())
    assert set(summary) == set(params.load("setups", path=REPO / "params.yaml"))
    assert summary["study"]["verdicts"]["holds"] >= 1
    assert sum(summary["study"]["verdicts"].values()) == 14


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "n/m"),
        (30.698, "30.7"),
        (448.7, "449"),
        (0.00012, "1.20e-04"),
        (0.0, "0"),
        (float("nan"), "n/a"),
        (2, "2"),
        ("x", "x"),
    ],
)
def test_fmt(value: object, shown: str) -> None:
    assert fmt(value) == shown
