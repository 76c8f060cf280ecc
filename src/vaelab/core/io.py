"""Atomic writes: a file or folder is either the old one or the complete new one, never half.

New files get the permissions the umask gives (like `open`), and their bytes are on disk
(fsync) before the rename makes them visible, so a crash cannot leave an empty file behind.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a plain open() honours the umask
        _fsync(Path(tmp))
        os.replace(tmp, path)
        _fsync(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fresh_dir(stem: Path) -> Path:
    """A new, uniquely named folder `<stem>.<hex>`; unlike mkdtemp's 0700 it honours the umask."""
    for _ in range(100):
        path = stem.with_name(f"{stem.name}.{secrets.token_hex(4)}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{stem}.*: no free name for a temporary folder")


def _replace_dir(tmp: Path, out: Path) -> None:
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


@contextmanager
def atomic_dir(path: Path | str) -> Iterator[Path]:
    """Yield an empty temporary folder beside `path`; it replaces `path` whole only if the
    block succeeds. A killed or failed run leaves `path` as it was and no partial folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for dead in path.parent.glob(f".{path.name}.tmp.*"):  # left by a run killed with -9
        shutil.rmtree(dead, ignore_errors=True)
    tmp = _fresh_dir(path.parent / f".{path.name}.tmp")
    try:
        yield tmp
        for child in tmp.rglob("*"):
            if child.is_file():
                _fsync(child)
        _replace_dir(tmp, path)
        _fsync(path.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_with(path: Path | str, write: Callable[[Path], Any]) -> None:
    """Call `write(tmp_path)` and move the result onto `path` atomically."""
    with atomic_path(path) as tmp:
        write(tmp)


def write_text(path: Path | str, text: str) -> None:
    write_with(path, lambda tmp: tmp.write_text(text))


def write_json(path: Path | str, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: Path | str) -> Any:
    return json.loads(Path(path).read_text())
