"""The kernel variables every DVC stage runs under (dvc.yaml's `pinned` var), so that the
bench times the kernels the stages use rather than the host's defaults (AVX-512, MKL's own
pick), which no stage runs.

Read from dvc.yaml, never copied: the variables must be set before torch is imported (ATen
and MKL read them once), so `python -m vaelab.bench` starts itself again with them set.
Imports no torch.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

DVC_YAML = Path(__file__).resolve().parents[3] / "dvc.yaml"
PINNED_VAR = "pinned"  # dvc.yaml: `vars: - pinned: env NAME=value …`
ATEN = "ATEN_CPU_CAPABILITY"  # torch reports the capability in force as e.g. 'AVX2'


class KernelMismatchError(RuntimeError):
    """The kernels in force are not those dvc.yaml pins for every stage."""


def pinned_variables(path: Path = DVC_YAML) -> dict[str, str]:
    """{name: value} of dvc.yaml's `pinned` prefix (`env A=1 B=2`), in its order."""
    raw = yaml.safe_load(Path(path).read_text())
    found = [v[PINNED_VAR] for v in raw.get("vars", []) if isinstance(v, dict) and PINNED_VAR in v]
    if not found:
        raise KernelMismatchError(f"{path}: no `{PINNED_VAR}` entry under `vars`")
    words = shlex.split(found[0])
    if words[:1] == ["env"]:
        words = words[1:]
    if not words or not all("=" in w for w in words):
        raise KernelMismatchError(f"{path}: `{PINNED_VAR}` is not `env NAME=value …`: {found[0]}")
    return dict(w.split("=", 1) for w in words)


def pinned_environment(environ: Mapping[str, str], pinned: Mapping[str, str]) -> dict[str, str]:
    """environ with the pinned variables set: what the stages (and the bench's workers) get."""
    return {**environ, **pinned}


def needs_restart(environ: Mapping[str, str], pinned: Mapping[str, str]) -> bool:
    return any(environ.get(name) != value for name, value in pinned.items())


def restart_pinned(argv: list[str]) -> None:
    """Start `python -m vaelab.bench argv` again under the pinned variables, unless they are
    set already; call before torch is imported."""
    pinned = pinned_variables()
    if needs_restart(os.environ, pinned):
        env = pinned_environment(os.environ, pinned)
        os.execve(sys.executable, [sys.executable, "-m", "vaelab.bench", *argv], env)


def check_kernels(recorded: Mapping[str, str], pinned: Mapping[str, str], who: str) -> None:
    """Raise KernelMismatchError, in one line, unless `recorded` (`runtime.kernels()` of a
    process) shows every pinned variable set and ATen on the pinned capability."""
    wrong = [
        f"{name}={recorded.get(name, '')!r} (pinned {value!r})"
        for name, value in pinned.items()
        if recorded.get(name) != value
    ]
    if ATEN in pinned and recorded.get("aten_capability", "").lower() != pinned[ATEN].lower():
        wrong.append(
            f"ATen capability {recorded.get('aten_capability')!r} (pinned {pinned[ATEN]!r})"
        )
    if wrong:
        raise KernelMismatchError(
            f"{who} ran on other kernels than the stages: {'; '.join(wrong)}; run it as "
            f"`python -m vaelab.bench` (it sets dvc.yaml's `{PINNED_VAR}` variables itself)"
        )
