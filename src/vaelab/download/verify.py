"""Byte-for-byte checks of the four MNIST files against their canonical SHA-256 digests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from vaelab.core.names import DOWNLOAD_TARGET
from vaelab.data.files import RAW_SHA256


class DownloadError(RuntimeError):
    """No source gave verified files, or a file on disk does not match its digest."""


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_digest(path: Path, name: str, shown_as: str, fix: str) -> str:
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
    fix = f"delete {raw_dir} and run the download stage again (dvc repro {DOWNLOAD_TARGET})"
    digests = {}
    for name in RAW_SHA256:
        path = raw_dir / name
        if not path.is_file():
            raise DownloadError(f"{path}: missing; {fix}")
        digests[name] = check_digest(path, name, str(path), fix)
    return digests
