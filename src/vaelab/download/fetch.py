"""Get the four original MNIST files, uncompressed IDX, verified byte for byte.

The files land in `<out>/MNIST/raw/`, the layout `torchvision.datasets.MNIST(root=<out>)` reads.
Sources are tried in the order of `data.sources`; the first whose four files match `RAW_SHA256`
wins. Everything is written into a temporary folder beside `<out>` and renamed into place only
once all four files verify, so a failed run leaves `<out>` as it was.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from vaelab.core.io import atomic_dir
from vaelab.core.params import DataParams
from vaelab.data.files import raw_dir as raw_dir_of
from vaelab.download.sources import SOURCES
from vaelab.download.verify import DownloadError, verify_raw_dir


def fetch_mnist(data: DataParams, out: Path | str) -> dict[str, Any]:
    """Fill `<out>/MNIST/raw` from the first source in `data.sources` whose files verify.

    Returns {"source", "seconds", "sha256": {file: digest}, "failed": {source: reason}}.
    Raises DownloadError listing every source tried and why it failed; `out` is then untouched.
    """
    start = time.perf_counter()
    failed: dict[str, str] = {}
    with atomic_dir(out) as tmp:
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
            seconds = round(time.perf_counter() - start, 2)
            return {"source": source, "seconds": seconds, "sha256": digests, "failed": failed}
        tried = "\n".join(f"  - {source}: {reason}" for source, reason in failed.items())
        raise DownloadError(
            f"could not get MNIST from any of data.sources in params.yaml:\n{tried}\n"
            "Fix one of them (e.g. set data.local_dir to your own copy) and run again."
        )
