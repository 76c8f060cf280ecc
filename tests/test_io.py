"""Atomic writes: permissions as a plain open() gives, bytes on disk before the rename, and
folders that appear whole or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vaelab.core import io


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_honour_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        io.write_text(tmp_path / "a.txt", "hello")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == mode


def test_bytes_are_synced_before_the_rename(tmp_path: Path, monkeypatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append("replace") or real_replace(a, b))
    io.write_json(tmp_path / "m.json", {"x": 1})
    assert events[:2] == ["fsync", "replace"]
    assert io.read_json(tmp_path / "m.json") == {"x": 1}


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    io.write_text(tmp_path / "a.txt", "old")

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        io.write_with(tmp_path / "a.txt", fail)
    assert (tmp_path / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_dir_replaces_a_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "beta_1"
    out.mkdir()
    (out / "stale.pt").write_text("old")
    with io.atomic_dir(out) as staging:
        (staging / "epoch_001.pt").write_text("new")
        assert not (out / "epoch_001.pt").exists()  # nothing shows until the block ends
    assert sorted(p.name for p in out.iterdir()) == ["epoch_001.pt"]
    assert [p.name for p in tmp_path.iterdir()] == ["beta_1"]


def test_atomic_dir_that_fails_leaves_the_old_folder_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "beta_1"
    with pytest.raises(KeyboardInterrupt):
        with io.atomic_dir(out) as staging:
            (staging / "epoch_001.pt").write_text("partial")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_clears_what_a_killed_run_left(tmp_path: Path) -> None:
    """kill -9 cannot clean up: the next run removes the dead run's staging folder."""
    dead = tmp_path / ".beta_1.tmp.deadbeef"
    dead.mkdir()
    (dead / "epoch_001.pt").write_text("partial")
    with io.atomic_dir(tmp_path / "beta_1") as staging:
        (staging / "epoch_001.pt").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["beta_1"]
