"""DVC as a user drives it, in a temporary copy of this repository: experiments with a changed
param show up in `dvc params diff` and their outputs, and a local remote carries results
to a second clone whose `dvc repro` then has nothing to do.

Only the download and classifier stages run (one or two epochs), so this stays under a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from repo_copy import copy_repository, env_for, run

TARGET = "train_classifier"  # every seed of the classifier ensemble (one in these tests)
SEED = 7
CLASSIFIER = Path("models", "classifier", f"seed_{SEED}.pt")
SUMMARY = Path("metrics", "classifier", f"seed_{SEED}.json")


def one_quick_classifier(raw: dict) -> None:
    raw["classifier"] |= {"epochs": 1, "seeds": [SEED]}


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory, mnist_root) -> Path:
    repo = copy_repository(tmp_path_factory.mktemp("repo"), mnist_root, one_quick_classifier)
    run(repo, "dvc", "repro", TARGET)
    run(repo, "git", "add", "-A")
    run(repo, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "baseline")
    return repo


def stage_started(group: int, script: str, timeout: float = 60.0) -> None:
    """Wait until a Python process of process group `group` runs `script` (not the shell that
    DVC starts it from, whose command line names the script too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in Path("/proc").iterdir():
            try:
                if not proc.name.isdigit() or os.getpgid(int(proc.name)) != group:
                    continue
                argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
                if "python" in Path(argv[0]).name and script in argv:
                    return
            except (OSError, ProcessLookupError):
                continue  # it ended while we looked
        time.sleep(0.05)
    pytest.fail(f"no process ran {script} within {timeout:.0f} s")


def test_interrupted_repro_then_repro_gives_the_same_numbers(repo_copy):
    before = json.loads((repo_copy / SUMMARY).read_text())
    env = env_for(repo_copy)
    process = subprocess.Popen(
        ["dvc", "repro", "-f", TARGET],
        cwd=repo_copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives a command
        # Ctrl-C reaches a command typed at a terminal even if pytest itself was started in
        # the background, where the shell sets SIGINT to ignored (and exec keeps that).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Interrupt once the stage's own process runs: found in /proc, not in DVC's piped output,
    # which may arrive late (buffered) when the stage has already finished.
    stage_started(process.pid, "stages/train_classifier.py")
    time.sleep(0.5)
    # Ctrl-C signals the whole group: DVC and the stage it runs (DVC alone ignores SIGINT
    # while its stage runs, and the stage would finish).
    os.killpg(process.pid, signal.SIGINT)
    rest = process.communicate(timeout=120)[0]
    assert process.returncode != 0, f"dvc repro was not interrupted:\n{rest}"
    assert "up to date" not in run(repo_copy, "dvc", "status", TARGET), "the stage had finished"
    run(repo_copy, "dvc", "repro", TARGET)
    after = json.loads((repo_copy / SUMMARY).read_text())
    assert after["test_accuracy"] == before["test_accuracy"]
    assert after["baseline_confidence"] == before["baseline_confidence"]
    assert "up to date" in run(repo_copy, "dvc", "status", TARGET)


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_pinned_kernels_make_the_same_bytes_whatever_the_machine_prefers(repo_copy, tmp_path):
    """ATEN_CPU_CAPABILITY=default stands in for another machine's kernels: through dvc.yaml's
    pinned prefix the classifier keeps its bytes; run bare, the same stage does not."""
    baseline = md5_of(repo_copy / CLASSIFIER)
    other_machine = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}
    env = env_for(repo_copy) | other_machine
    done = subprocess.run(
        ["dvc", "repro", "-f", TARGET], cwd=repo_copy, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert md5_of(repo_copy / CLASSIFIER) == baseline
    bare = subprocess.run(
        [sys.executable, "stages/train_classifier.py", "--seed", str(SEED), "--data", "data/raw"]
        + ["--model", str(tmp_path / "bare.pt"), "--live", str(tmp_path / "live")]
        + ["--metrics", str(tmp_path / "bare.json"), "--runtime", str(tmp_path / "rt.json")],
        cwd=repo_copy,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bare.returncode == 0, bare.stderr
    assert md5_of(tmp_path / "bare.pt") != baseline, "the pins made no difference here"


def test_experiment_with_changed_param_shows_in_params_diff_and_its_outputs(repo_copy):
    """The classifier's summary is a tracked output, not a DVC metric (metrics/summary.json,
    which the report stage writes, is the one metric: tests/test_repro_parallel.py)."""
    before = json.loads(run(repo_copy, "git", "show", f"HEAD:{SUMMARY}"))
    run(repo_copy, "dvc", "exp", "run", "-S", "classifier.epochs=2", TARGET)
    params_diff = json.loads(run(repo_copy, "dvc", "params", "diff", "--json"))
    epochs = params_diff["params.yaml"]["classifier.epochs"]
    assert (epochs["old"], epochs["new"]) == (1, 2)
    after = json.loads((repo_copy / SUMMARY).read_text())
    assert before["test_accuracy"] != after["test_accuracy"] > 0.95
    assert not json.loads(run(repo_copy, "dvc", "metrics", "diff", "--json"))
    shown = json.loads(run(repo_copy, "dvc", "exp", "show", "--json"))
    assert len(shown) >= 1
    # Back to the baseline: git restores the tracked files, DVC the cached model.
    run(repo_copy, "git", "checkout", "--", "params.yaml", "dvc.lock", "metrics")
    run(repo_copy, "dvc", "checkout", "--force", TARGET)


def test_remote_carries_results_to_a_second_clone(repo_copy, tmp_path):
    remote = tmp_path / "remote"
    run(repo_copy, "dvc", "remote", "add", "-d", "-f", "shared", str(remote))
    run(repo_copy, "dvc", "push")
    run(repo_copy, "git", "add", "-A")
    run(repo_copy, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "remote")
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(repo_copy), str(clone))
    run(clone, "dvc", "pull", "--with-deps", TARGET)
    assert (clone / CLASSIFIER).stat().st_size > 1_000_000
    status = run(clone, "dvc", "status", "--with-deps", TARGET)
    assert "up to date" in status, status
    repro = run(clone, "dvc", "repro", TARGET)
    assert "didn't change, skipping" in repro and "Running stage" not in repro


def test_adding_a_classifier_seed_trains_only_that_classifier(repo_copy):
    raw = yaml.safe_load((repo_copy / "params.yaml").read_text())
    raw["classifier"]["seeds"] = [SEED, SEED + 1]
    (repo_copy / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    try:
        repro = run(repo_copy, "dvc", "repro", TARGET)
        assert f"Running stage '{TARGET}@{SEED + 1}'" in repro, repro
        assert f"Running stage '{TARGET}@{SEED}'" not in repro, repro
        second = json.loads(
            (repo_copy / "metrics" / "classifier" / f"seed_{SEED + 1}.json").read_text()
        )
        assert second["seed"] == SEED + 1
    finally:
        run(repo_copy, "git", "checkout", "--", "params.yaml", "dvc.lock")
        for made in (
            Path("models", "classifier", f"seed_{SEED + 1}.pt"),
            Path("metrics", "classifier", f"seed_{SEED + 1}.json"),
            Path("metrics", "train", f"classifier_seed_{SEED + 1}"),
        ):
            shutil.rmtree(repo_copy / made) if made.suffix == "" else (repo_copy / made).unlink()


def test_failed_queued_experiment_shows_its_error_and_the_others_run(repo_copy):
    run(repo_copy, "dvc", "exp", "run", "--queue", "-n", "bad", "-S", "classifier.lr=-1", TARGET)
    run(
        repo_copy,
        "dvc",
        "exp",
        "run",
        "--queue",
        "-n",
        "good",
        "-S",
        "data.timeout_s=4",
        "download",
    )
    run(repo_copy, "dvc", "queue", "start", "-j", "1")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = run(repo_copy, "dvc", "queue", "status")
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(1)
    run(repo_copy, "dvc", "queue", "stop")
    rows = {
        line.split()[1]: line.split()[-1]
        for line in status.splitlines()
        if "bad" in line or "good" in line
    }
    assert rows == {"bad": "Failed", "good": "Success"}, status
    logs = run(repo_copy, "dvc", "queue", "logs", "bad")
    assert "classifier.lr = -1.0; expected a value > 0" in logs, logs


def _changed(repo: Path, target: str) -> set[str]:
    """The stages of `target` that `dvc status` says must run again."""
    return {name for name in json.loads(run(repo, "dvc", "status", "--json", target))}


def test_a_seed_or_a_setup_change_reruns_only_its_own_stages(tmp_path, mnist_root):
    """Per-seed and per-setup stages: adding a seed touches only that seed's runs, and a key
    of one setup only that setup's."""
    repo = copy_repository(tmp_path, mnist_root, one_quick_classifier)
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["train"] |= {
        "seeds": [42],
        "extra_seed_setups": [],
        "more_seed_setups": [],
        "checkpoints": [1],
    }
    raw["setups"] = {name: raw["setups"][name] for name in ("study", "wide")}
    raw["vae"]["betas"] = [0, 1]
    raw["figures"] |= {"betas": [0, 1], "example_beta": 1, "pair_betas": [0, 1]}
    raw["figures"] |= {"curve_betas": [0, 1], "shifted_betas": [0, 1]}
    raw["explorer"] |= {"betas": [0], "checkpoints": [1]}
    (repo / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    run(repo, "dvc", "repro", "train_vae")
    assert _changed(repo, "train_vae") == set()

    raw["train"]["seeds"] = [42, 43]
    (repo / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    expected = {f"train_vae@{setup}-{beta}-43" for setup in raw["setups"] for beta in (0, 1)}
    assert _changed(repo, "train_vae") == expected

    raw["train"]["seeds"] = [42]
    raw["setups"]["wide"] = {"train": {"lr": 0.002}}
    (repo / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    assert _changed(repo, "train_vae") == {"train_vae@wide-0-42", "train_vae@wide-1-42"}
