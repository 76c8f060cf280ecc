"""Get the four original MNIST files, uncompressed IDX, verified byte for byte.

The files land in `<out>/MNIST/raw/`, the layout `torchvision.datasets.MNIST(root=<out>)` reads.
Sources are tried in the order of `data.sources`; the first whose four files match `RAW_SHA256`
wins. Everything is written into a temporary folder beside `<out>` and renamed into place only
once all four files verify, so a failed run leaves `<out>` as it was.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from vaelab.data.files import raw_dir as raw_dir_of
from vaelab.data.sources import SOURCES
from vaelab.data.verify import DownloadError, verify_raw_dir
from vaelab.params import DataParams


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
            raw_dir = raw_dir_of(tmp)
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
