"""`make repro` (`python -m vaelab.repro`): each setup's stale training stages train together,
stacked, in side-by-side processes, and the outputs are those of a lone `dvc repro`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from repo_copy import REPO, commit, copy_repository, env_for, run, stages_run

from vaelab import repro
from vaelab.core.names import Run, train_target

SETUP = "tiny"
SEED = 42
BETAS = [0, 1]


def tiny_one_thread(raw: dict) -> None:
    """One small one-thread setup: three training stages (the AE and two β), one epoch."""
    raw["setups"] = {
        SETUP: {"model": {"hidden": [32]}, "train": {"batch_size": 500, "threads": 1}}
    }
    raw["train"] |= {
        "seeds": [SEED],
        "extra_seed_setups": [],
        "more_seed_setups": [],
        "checkpoints": [1],
    }
    raw["classifier"] |= {"epochs": 1, "seeds": [7]}
    raw["vae"]["betas"] = BETAS
    raw["figures"] |= {"betas": BETAS, "example_beta": 1, "pair_betas": BETAS}
    raw["figures"] |= {"curve_betas": BETAS, "shifted_betas": BETAS}
    raw["explorer"] |= {"setup": SETUP, "betas": [0], "checkpoints": [1]}


def write_params(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_every_setup_trains_together_in_as_many_processes_as_its_threads_allow(tmp_path):
    def three_setups(raw):
        raw["train"] |= {"seeds": [1, 2], "extra_seeds": [3], "extra_seed_setups": ["lean"]}
        raw["train"] |= {"more_seeds": [4], "more_seed_setups": ["busy"]}
        raw["setups"] = {
            "lean": {"train": {"threads": 1}},
            "busy": {"train": {"threads": 2}},
            "gpu": {"train": {"threads": 1, "device": "cuda"}},
        }
        raw["explorer"]["setup"] = "lean"

    path = write_params(tmp_path, three_setups)
    betas = yaml.safe_load(path.read_text())["vae"]["betas"]
    lean, busy, gpu = repro.training_batches(cores=2, path=path)
    runs = [Run("lean", 1), Run("lean", 2), Run("lean", 3, tier="extra")]
    assert "train_vae_extra@lean-0-3" in lean.targets and len(busy.targets) == 3 * len(betas) + 3
    assert "train_vae_more@busy-0-4" in busy.targets
    assert lean.setup == "lean" and lean.width == 2
    assert sorted(lean.targets) == sorted(train_target(b, r) for r in runs for b in (None, *betas))
    shares = lean.shares()
    (one,) = lean.restricted_to({"no such stage", lean.targets[3]}).shares()
    assert one == [lean.targets[3]]
    assert len(shares) == 2 and sorted(sum(shares, [])) == sorted(lean.targets)
    assert abs(len(shares[0]) - len(shares[1])) <= 1
    assert (busy.width, gpu.width) == (1, 1)

    widths = {b.setup: b.width for b in repro.training_batches(cores=4, path=path)}
    assert widths == {"lean": 4, "busy": 2, "gpu": 1}
    assert {b.width for b in repro.training_batches(cores=1, path=path)} == {1}


def test_a_process_steps_its_models_in_even_groups():
    assert [len(g) for g in repro.steps_of(list(range(7)), most=6)] == [4, 3]
    assert [len(g) for g in repro.steps_of(list(range(12)), most=6)] == [6, 6]
    assert repro.steps_of([1], most=6) == [[1]]
    assert sorted(sum(repro.steps_of(list(range(23))), [])) == list(range(23))


def test_stages_trained_together_keep_their_own_commands(tmp_path):
    prefix = ["env", "A=1", "python", repro.TRAIN_SCRIPT]
    first, second = [*prefix, "--seed", "1"], [*prefix, "--seed", "2"]
    command = repro.together_command([first, second], tmp_path / "job.json")
    assert command == [*prefix, "--together", str(tmp_path / "job.json")]
    job = json.loads((tmp_path / "job.json").read_text())
    assert job["steps"] == [[["--seed", "1"], ["--seed", "2"]]]
    with pytest.raises(ValueError, match="different commands"):
        repro.together_command([first, ["env", "A=2", *prefix[2:]]], tmp_path / "job.json")


def test_download_is_the_only_stage_upstream_of_training():
    """What reproduce() runs before the workers, which run with --single-item."""
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    made_by = {
        out if isinstance(out, str) else next(iter(out)): name  # a path, or {path: options}
        for name, stage in stages.items()
        for out in stage.get("outs", [])
    }
    for name in ("train_ae", "train_vae"):
        upstream = {made_by.get(dep) for dep in stages[name]["deps"]} - {None}
        assert upstream == {repro.DOWNLOAD_TARGET}, name


def test_a_failing_worker_stops_the_others_and_names_its_command(tmp_path):
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    failer = [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"]
    start = time.monotonic()
    with pytest.raises(repro.WorkerFailed, match=r"exit 3\), so the other workers were stopped"):
        repro.run_side_by_side([sleeper, failer], tmp_path)
    assert time.monotonic() - start < 20  # the sleeper was interrupted, not waited for


def test_bad_params_fail_before_any_stage_runs(tmp_path, capsys, monkeypatch):
    def bad(raw):
        raw["setups"] = {"lean": {"train": {"threads": 1, "no_such_key": 3}}}

    write_params(tmp_path, bad)
    monkeypatch.chdir(tmp_path)
    assert repro.main([]) == 1
    assert "setups.lean.train.no_such_key: unknown key" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory, mnist_root) -> tuple[Path, str]:
    """A copy of the repository with the tiny setup, and what `make repro` printed in it."""
    repo = copy_repository(tmp_path_factory.mktemp("tiny"), mnist_root, tiny_one_thread)
    return repo, run(repo, sys.executable, "-m", "vaelab.repro", "--cores", "2")


def test_stages_trained_together_make_a_lone_runs_bytes(tiny_repo, monkeypatch):
    repo, output = tiny_repo
    targets = {train_target(b, Run(SETUP, SEED)) for b in (None, *BETAS)}

    listed = [
        line.split("stages: ")[1].split() for line in output.splitlines() if "stages: " in line
    ]
    assert len(listed) == 2 and set(sum(listed, [])) == targets, output
    assert not stages_run(output) & targets, "the final dvc repro trained again"
    assert "up to date" in run(repo, "dvc", "status")
    _claims_rest_on_real_metrics(repo)

    # Nothing stale: no workers, nothing run.
    again = run(repo, sys.executable, "-m", "vaelab.repro", "--cores", "2")
    assert "[1/2]" not in again and not stages_run(again), again
    assert repro.UP_TO_DATE in again

    # Each stage run alone by DVC, forced, makes the same bytes as it made beside the others.
    commit(repo, "together")
    lock_before = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    run(repo, "dvc", "repro", "--force", *sorted(targets))
    lock_after = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    for target in targets:
        assert lock_before[target]["outs"] == lock_after[target]["outs"], target

    # DVC's caches: after a change to the training code no stage can be restored, so all
    # train; with the change undone, a stage whose outputs were deleted is restored, not run.
    monkeypatch.chdir(repo)  # as make repro runs it
    script = repo / repro.TRAIN_SCRIPT
    original = script.read_text()
    script.write_text(original + "# changed\n")
    assert set(repro.commands_to_run(repo, sorted(targets))) == targets
    script.write_text(original)
    target = sorted(targets)[0]
    for out in lock_after[target]["outs"]:
        shutil.rmtree(repo / out["path"], ignore_errors=True)
        (repo / out["path"]).unlink(missing_ok=True)
    assert target in json.loads(run(repo, "dvc", "status", "--json"))
    assert repro.commands_to_run(repo, sorted(targets)) == {}
    assert all((repo / out["path"]).exists() for out in lock_after[target]["outs"])
    assert "up to date" in run(repo, "dvc", "status")


def _claims_rest_on_real_metrics(repo: Path) -> None:
    """The verdicts read the keys the evaluate and train stages really write: with β ∈ {0, 1}
    and one checkpoint, claims 1, 2 and 10 are measured, and every other claim is missing
    only for want of a β or an epoch, never for a metric key that is not there."""
    claims = json.loads((repo / "metrics" / "claims.json").read_text())["setups"][SETUP]
    for key in ("1", "2", "10"):
        assert claims[key]["verdict"] != "not measured", (key, claims[key]["note"])
    numbers = claims["1"]["primary"]["numbers"]
    assert {"AE KL(q(z) ‖ N(0, I)), draws", "β = 1 KL(q(z) ‖ N(0, I)), draws"} <= set(numbers)
    assert claims["1"]["primary"]["margin_by_run"].keys() == {str(SEED)}
    for key, claim in claims.items():
        if claim["verdict"] == "not measured":
            assert "vae.betas" in claim["note"] or "train.checkpoints" in claim["note"], (
                key,
                claim["note"],
            )


def test_a_damaged_checkpoint_is_one_line_naming_it_and_its_stage(tiny_repo):
    """A truncated checkpoint given to an evaluation stage: one line naming the file and the
    `dvc repro` target that makes it again, and the stage writes nothing."""
    repo, _ = tiny_repo
    run_ = Run(SETUP, SEED)
    checkpoint = repo / "models" / SETUP / "vae" / "beta_1" / run_.seed_folder / "epoch_001.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    runtime = repo / "runtime" / f"evaluate_vae@{SETUP}-1.json"
    runtime.unlink(missing_ok=True)
    done = subprocess.run(
        ["dvc", "repro", "-s", "-f", f"evaluate_vae@{SETUP}-1"],
        cwd=repo,
        env=env_for(repo),
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(checkpoint.relative_to(repo)) in errors[0]
    assert f"dvc repro {train_target(1, run_)}" in errors[0]
    out = repo / "metrics" / "runs" / SETUP / "eval" / "vae_beta_1"
    assert not runtime.exists() and not any(out.glob("*")), sorted(out.glob("*"))


def test_a_laplace_twin_added_by_an_experiment_is_judged_against_its_setup(tmp_path, mnist_root):
    """`dvc exp run -S '+setups.<name>={model: {latent: laplace}, …}'` runs end to end: the new
    setup trains and is measured with its own prior, and claim 11 pairs it with the setup it
    equals but for the latent."""

    def two_seeds(raw: dict) -> None:
        tiny_one_thread(raw)
        raw["train"]["seeds"] = [SEED, SEED + 1]

    repo = copy_repository(tmp_path, mnist_root, two_seeds)
    twin = "{model: {hidden: [32], latent: laplace}, train: {batch_size: 500, threads: 1}}"
    run(repo, "dvc", "exp", "run", "-S", f"+setups.tiny_laplace={twin}")
    claims = json.loads((repo / "metrics" / "claims.json").read_text())
    laplace = claims["equivalence"]["comparisons"]["tiny_laplace"]
    assert laplace["twin"] == SETUP and laplace["seeds"] == [SEED, SEED + 1]
    assert laplace["verdict"] != "not measured", laplace["note"]
    assert len(laplace["pairs"]) == len(BETAS) * 4
    evaluation = repo / "metrics" / "runs" / "tiny_laplace" / "eval" / "vae_beta_1"
    assert json.loads((evaluation / f"seed_{SEED}.json").read_text())["epoch_001"]["latent"] == (
        "laplace"
    )
    assert (
        repo / "plots" / "figures" / "tiny_laplace" / "fig04_vae_latent_posterior.png"
    ).exists()
