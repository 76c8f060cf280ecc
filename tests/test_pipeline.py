"""dvc.yaml against the code: each stage depends on exactly the modules its script imports.

A module missing from a stage's deps means an edit to it would not rerun the stage (stale
results); an extra one means an edit reruns work that cannot have changed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def vaelab_imports(path: Path, seen: set[str] | None = None) -> set[str]:
    """Repo-relative paths of every `src/vaelab` module `path` imports, transitively."""
    seen = set() if seen is None else seen
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vaelab"):
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.startswith("vaelab")]
        for name in names:
            module = Path("src", *name.split(".")).with_suffix(".py")
            if (REPO / module).is_file() and module.name != "__init__.py":
                if str(module) not in seen:
                    seen.add(str(module))
                    vaelab_imports(REPO / module, seen)
    return seen


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_deps_are_exactly_its_imports(name):
    stage = STAGES[name]
    script = stage["cmd"].split()[1]
    declared = {dep for dep in stage["deps"] if dep.startswith("src/")}
    assert script in stage["deps"], f"{name}: its own script {script} is not a dep"
    assert declared == vaelab_imports(REPO / script), name
