"""dvc.yaml against the code: each stage depends on exactly the modules its script imports.

A module missing from a stage's deps means an edit to it would not rerun the stage (stale
results); an extra one means an edit reruns work that cannot have changed. A dep may name a
sub-package folder: it stands for every module in it, so it is exact only when the stage
imports all of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
PACKAGE = REPO / "src" / "vaelab"


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


def declared_modules(deps: list[str]) -> set[str]:
    """The stage's `src/` deps, a folder standing for every module in it (__init__ aside)."""
    modules = set()
    for dep in deps:
        if not dep.startswith("src/"):
            continue
        path = REPO / dep
        if path.is_dir():
            modules |= {
                str(p.relative_to(REPO)) for p in path.glob("*.py") if p.name != "__init__.py"
            }
        else:
            modules.add(dep)
    return modules


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_deps_are_exactly_its_imports(name):
    stage = STAGES[name]
    words = stage["cmd"].split()
    script = words[words.index("python") + 1]
    assert script in stage["deps"], f"{name}: its own script {script} is not a dep"
    assert declared_modules(stage["deps"]) == vaelab_imports(REPO / script), name


@pytest.mark.parametrize("init", sorted(PACKAGE.rglob("__init__.py")), ids=str)
def test_package_inits_hold_only_a_docstring(init):
    """So no stage needs an __init__.py among its deps: editing one cannot change a result."""
    body = ast.parse(init.read_text()).body
    assert len(body) == 1 and isinstance(body[0], ast.Expr), init
    assert isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)


def uncached_outputs(stage: dict) -> list[str]:
    """Outputs under `outs:` with `cache: false` (DVC exempts metrics and plots)."""
    entries = [out for out in stage.get("outs", []) if isinstance(out, dict)]
    return [path for out in entries for path, spec in out.items() if spec.get("cache") is False]


@pytest.mark.parametrize("name", ["train_ae", "train_vae"])
def test_training_stages_can_enter_the_run_cache(name):
    """DVC saves a stage to its run cache only when every output that is not a metric or a
    plot is cached; without it a sweep's other clones and `dvc exp run` train again."""
    assert uncached_outputs(STAGES[name]) == []
