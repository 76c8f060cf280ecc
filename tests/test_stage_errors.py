"""Training stages given bad input: one clear line on stderr, exit 1, and no partial output."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = REPO / "stages"


def params_in(folder: Path, **sections) -> None:
    """The repository's params.yaml with some keys changed, written into `folder`."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    for section, values in sections.items():
        raw[section] |= values
    (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def stage(folder: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(STAGES / script), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def classifier_args(data: Path, folder: Path) -> list[str]:
    return [
        "--seed",
        "7",
        "--data",
        str(data),
        "--model",
        str(folder / "classifier.pt"),
        "--live",
        str(folder / "live"),
        "--metrics",
        str(folder / "classifier.json"),
        "--runtime",
        str(folder / "runtime.json"),
    ]


def assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_one_line(small_mnist_root, tmp_path):
    params_in(tmp_path, train={"device": "cuda"})
    done = stage(tmp_path, "train_classifier.py", *classifier_args(small_mnist_root, tmp_path))
    assert_one_line_error(done, "train.device = 'cuda'", "set train.device to cpu")
    assert not (tmp_path / "classifier.pt").exists()


def test_malformed_params_yaml_is_one_line_naming_the_line(small_mnist_root, tmp_path):
    (tmp_path / "params.yaml").write_text("train:\n  seed: [1, 2\n")
    done = stage(tmp_path, "train_classifier.py", *classifier_args(small_mnist_root, tmp_path))
    assert_one_line_error(done, "params.yaml, line ", "not valid YAML")


def test_killed_training_leaves_no_partial_model_folder(small_mnist_root, tmp_path):
    """kill -9 after the first checkpoint: the model folder must not exist at all."""
    params_in(
        tmp_path,
        train={"checkpoints": [1, 2, 400], "batch_size": 64},
        explorer={"checkpoints": [1, 400]},
    )
    out = tmp_path / "models" / "vae" / "beta_1"
    process = subprocess.Popen(
        [sys.executable, str(STAGES / "train_autoencoder.py"), "--kind", "vae", "--beta", "1"]
        + [
            "--setup",
            "wide",
            "--seed",
            "42",
            "--data",
            str(small_mnist_root),
            "--out",
            str(out),
            "--live",
            str(tmp_path / "live"),
            "--runtime",
            str(tmp_path / "runtime.json"),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not list(out.parent.glob(".beta_1.tmp.*/epoch_002.pt")):
        assert process.poll() is None and time.monotonic() < deadline, "training never started"
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not out.exists()


def test_unknown_setup_is_one_line_naming_the_setups(small_mnist_root, tmp_path):
    params_in(tmp_path)
    args = ["--setup", "mine", "--seed", "1", "--kind", "ae", "--data", str(small_mnist_root)]
    done = stage(
        tmp_path, "train_autoencoder.py", *args, "--out", "m", "--live", "l", "--runtime", "r"
    )
    assert_one_line_error(done, "setups.mine: no such setup", "study, wide")
    assert not (tmp_path / "m").exists()
