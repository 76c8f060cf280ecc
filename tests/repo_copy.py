"""This repository copied into a temporary folder, and commands run in such a copy, for the
tests that drive DVC and git as a user does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
GIT_USER = ["-c", "user.name=t", "-c", "user.email=t@t"]


def env_for(cwd: Path) -> dict[str, str]:
    """This venv first on PATH, and the copy's own code (not the editable install's)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(cwd / "src")
    return env


def run(cwd: Path, *args: str) -> str:
    done = subprocess.run(args, cwd=cwd, env=env_for(cwd), capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def commit(cwd: Path, message: str) -> None:
    run(cwd, "git", "add", "-A")
    run(cwd, "git", *GIT_USER, "commit", "-qm", message)


def stages_run(output: str) -> set[str]:
    """The stages a `dvc repro` / `dvc exp run` output says it ran."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def copy_repository(
    dest: Path, mnist_root: Path, edit: Callable[[dict[str, Any]], None] | None = None
) -> Path:
    """Tracked files only, committed in a new git repository, with params pointing `download`
    at the cached real MNIST and `edit` applied to the rest of params.yaml."""
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    raw = yaml.safe_load((dest / "params.yaml").read_text())
    raw["data"] |= {"sources": ["local"], "local_dir": str(mnist_root / "MNIST" / "raw")}
    if edit is not None:
        edit(raw)
    (dest / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    run(dest, "git", "init", "-q")
    commit(dest, "copy")
    return dest
