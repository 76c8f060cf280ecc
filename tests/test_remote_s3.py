"""A β sweep spread over three clones through one real S3 bucket (SeaweedFS on loopback), and
the remote failures a user meets: wrong credentials, a missing bucket, a store that stops in
the middle of a push.

Clones A and B each train one new β as an experiment and push it; clone C pulls both,
compares them with DVC's own commands, and reproduces a commit that adds both β values
without training anything. The project runs with a tiny setup and one epoch.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from repo_copy import GIT_USER, commit, copy_repository, env_for, run, stages_run

from vaelab.core.names import Run, model_dir
from vaelab.remote.local_store import LocalS3Store

REMOTE = "store"
BUCKET = "sweep"
SETUP = "tiny"
SEED = 42
BASE_BETAS = [0, 1]
NEW_BETAS = {"a": 2, "b": 3}  # clone: the β it adds


def tiny_sweep(raw: dict) -> None:
    """One small setup, one seed, one epoch: the sweep's shape at a fraction of its cost."""
    raw["setups"] = {SETUP: {"model": {"hidden": [32]}, "train": {"batch_size": 500}}}
    raw["train"] |= {
        "seeds": [SEED],
        "extra_seed_setups": [],
        "more_seed_setups": [],
        "checkpoints": [1],
    }
    raw["vae"]["betas"] = BASE_BETAS
    raw["figures"] |= {"betas": BASE_BETAS, "example_beta": 1, "pair_betas": BASE_BETAS}
    raw["figures"] |= {"curve_betas": BASE_BETAS, "shifted_betas": BASE_BETAS}
    raw["explorer"] |= {"setup": SETUP, "betas": [0], "checkpoints": [1]}


def remote_tool(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m vaelab.remote ...` in `cwd`, as `make push` / `make pull` run it."""
    command = [sys.executable, "-m", "vaelab.remote", *args]
    return subprocess.run(command, cwd=cwd, env=env_for(cwd), capture_output=True, text=True)


def remote_tool_ok(cwd: Path, *args: str) -> None:
    done = remote_tool(cwd, *args)
    assert done.returncode == 0, f"vaelab.remote {args} failed:\n{done.stdout}\n{done.stderr}"


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def model_md5(repo: Path, beta: int) -> str:
    folder = model_dir(repo / "models", Run(SETUP, SEED), float(beta))
    return hashlib.md5((folder / "epoch_001.pt").read_bytes()).hexdigest()


def experiment_stages(repo: Path, name: str) -> set[str]:
    """The stages the pulled experiment `name` committed in its dvc.lock (git keeps its ref
    in refs/exps)."""
    refs = run(repo, "git", "for-each-ref", "--format=%(refname)", "refs/exps").split()
    (ref,) = [ref for ref in refs if ref.endswith(f"/{name}")]
    return set(yaml.safe_load(run(repo, "git", "show", f"{ref}:dvc.lock"))["stages"])


def cached_files(repo: Path) -> list[Path]:
    return sorted((repo / ".dvc" / "cache").rglob("*"))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with LocalS3Store(tmp_path_factory.mktemp("s3")) as started:
        started.create_bucket(BUCKET)
        yield started


@pytest.fixture(scope="module")
def origin(store, tmp_path_factory, mnist_root) -> Path:
    """A bare git repository holding the sweep's base commit, whose data and trained β values
    are in the bucket (outputs and run cache)."""
    base = copy_repository(tmp_path_factory.mktemp("base"), mnist_root, tiny_sweep)
    run(base, "dvc", "remote", "add", "-d", REMOTE, f"s3://{BUCKET}/vaelab")
    for command in store.local_settings(REMOTE):
        run(base, *command)
    ran = stages_run(run(base, "dvc", "repro", "train_vae"))
    assert ran == {"download"} | {f"train_vae@{SETUP}-{b}-{SEED}" for b in BASE_BETAS}
    remote_tool_ok(base, "push")
    commit(base, "base of the sweep")
    assert "config.local" not in run(base, "git", "ls-files", ".dvc"), "credentials committed"
    bare = tmp_path_factory.mktemp("git") / "origin.git"
    run(base, "git", "clone", "-q", "--bare", str(base), str(bare))
    return bare


def clone(origin: Path, store: LocalS3Store, folder: Path) -> Path:
    run(folder.parent, "git", "clone", "-q", str(origin), str(folder))
    for command in store.local_settings(REMOTE):
        run(folder, *command)
    return folder


def test_three_clones_sweep_beta_through_one_bucket(store, origin, tmp_path):
    workers = {}
    for name, beta in NEW_BETAS.items():
        repo = clone(origin, store, tmp_path / name)
        remote_tool_ok(repo, "pull")
        betas = json.dumps(BASE_BETAS + [beta])
        sweep = ["-n", f"beta-{beta}", "-S", f"vae.betas={betas}", "train_vae"]
        output = run(repo, "dvc", "exp", "run", *sweep)
        # Only its own β trains: the data and the base β values came from the bucket.
        ran = {stage for stage in stages_run(output) if stage.startswith("train_")}
        assert ran == {f"train_vae@{SETUP}-{beta}-{SEED}"}, output
        remote_tool_ok(repo, "push")
        run(repo, "dvc", "exp", "push", "origin", f"beta-{beta}")
        workers[beta] = repo

    c = clone(origin, store, tmp_path / "c")
    for beta in NEW_BETAS.values():
        run(c, "dvc", "exp", "pull", "origin", f"beta-{beta}")
    shown = run(c, "dvc", "exp", "show", "--json")
    for beta in NEW_BETAS.values():
        assert f'"beta-{beta}"' in shown, shown
    diff = json.loads(run(c, "dvc", "params", "diff", "beta-2", "beta-3", "--json"))
    betas = diff["params.yaml"]["vae.betas"]
    # DVC prints a list-valued param as its YAML text when both sides are experiments.
    old, new = (yaml.safe_load(str(betas[side])) for side in ("old", "new"))
    assert (old, new) == (BASE_BETAS + [2], BASE_BETAS + [3])
    stage = f"train_vae@{SETUP}-{{}}-{SEED}"
    assert stage.format(3) in experiment_stages(c, "beta-3")  # only beta-3 trained β = 3
    assert stage.format(3) not in experiment_stages(c, "beta-2")
    assert stage.format(2) in experiment_stages(c, "beta-2")

    # A commit that adds both β values: C restores every stage from the bucket's run cache.
    raw = yaml.safe_load((c / "params.yaml").read_text())
    raw["vae"]["betas"] = BASE_BETAS + sorted(NEW_BETAS.values())
    (c / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    commit(c, "add both β values of the sweep")
    remote_tool_ok(c, "pull")
    output = run(c, "dvc", "repro", "--pull", "train_vae")
    assert stages_run(output) == set(), output
    for beta, worker in workers.items():
        assert f"Stage 'train_vae@{SETUP}-{beta}-{SEED}' is cached - skipping run" in output
        assert model_md5(c, beta) == model_md5(worker, beta)
    assert json.loads(run(c, "dvc", "status", "--json", "train_vae")) == {}


def test_wrong_credentials_fail_in_one_line_and_change_nothing(store, origin, tmp_path):
    repo = clone(origin, store, tmp_path / "wrong-key")
    run(repo, "dvc", "remote", "modify", "--local", REMOTE, "secret_access_key", "not-the-key")
    done = remote_tool(repo, "pull")
    assert done.returncode == 1
    assert last_line(done.stderr) == (
        f"error: remote '{REMOTE}': {store.endpoint} refused the credentials for bucket "
        f"'{BUCKET}' (HTTP 403); set the right ones with `dvc remote modify --local {REMOTE} "
        "access_key_id ...` and `... secret_access_key ...`"
    )
    assert not (repo / "data" / "raw").exists() and cached_files(repo) == []


def test_missing_bucket_fails_in_one_line_and_creates_nothing(store, origin, tmp_path):
    repo = clone(origin, store, tmp_path / "no-bucket")
    run(repo, "dvc", "remote", "modify", REMOTE, "url", "s3://no-such-bucket/vaelab")
    done = remote_tool(repo, "push")
    assert done.returncode == 1
    assert "bucket 'no-such-bucket' does not exist at" in last_line(done.stderr)
    buckets = [b["Name"] for b in store.client().list_buckets()["Buckets"]]
    assert "no-such-bucket" not in buckets


def test_store_stopped_mid_push_then_retried_push_completes(store, tmp_path):
    """300 files pushed one at a time; the store dies after the first 20 arrive."""
    repo = tmp_path / "many"
    repo.mkdir()
    run(repo, "git", "init", "-q")
    run(repo, "dvc", "init", "-q")
    files = repo / "files"
    files.mkdir()
    for i in range(300):
        (files / f"{i:03d}.bin").write_bytes(hashlib.sha256(str(i).encode()).digest() * 2048)
    run(repo, "dvc", "add", "files")
    store.create_bucket("interrupted")
    run(repo, "dvc", "remote", "add", "-d", REMOTE, "s3://interrupted/cache")
    for command in store.local_settings(REMOTE):
        run(repo, *command)
    run(repo, "git", *GIT_USER, "commit", "-qm", "files")
    before = [(path, path.stat().st_size) for path in cached_files(repo)]

    command = [sys.executable, "-m", "vaelab.remote", "push", "--jobs", "1"]
    push = subprocess.Popen(
        command, cwd=repo, env=env_for(repo), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while store.object_count("interrupted") < 20 and time.monotonic() < deadline:
        assert push.poll() is None, "the push ended before the store was stopped"
        time.sleep(0.05)
    store.stop()
    _, stderr = push.communicate(timeout=120)
    try:
        assert push.returncode == 1
        message = last_line(stderr.decode())
        assert message.startswith(
            f"error: push stopped part-way: remote '{REMOTE}': nothing answers at {store.endpoint}"
        ), message
        assert "Nothing is lost; run `python -m vaelab.remote push` again" in message
        assert [(path, path.stat().st_size) for path in cached_files(repo)] == before
    finally:
        store.start()
    sent = store.object_count("interrupted")
    assert 20 <= sent < 301
    remote_tool_ok(repo, "push")
    assert "in sync" in run(repo, "dvc", "status", "-c")
    assert store.object_count("interrupted") == 301  # 300 files and the folder's listing


@pytest.fixture
def dvc_repo(tmp_path) -> Path:
    run(tmp_path, "git", "init", "-q")
    run(tmp_path, "dvc", "init", "-q")
    return tmp_path


def test_no_default_remote_names_the_command_that_adds_one(dvc_repo):
    done = remote_tool(dvc_repo, "push")
    assert done.returncode == 1
    assert last_line(done.stderr) == (
        "error: no default DVC remote: add one with `dvc remote add -d store s3://BUCKET/PATH` "
        "(docs/many-machines.md)"
    )


def test_unknown_remote_lists_the_known_ones(dvc_repo):
    run(dvc_repo, "dvc", "remote", "add", "elsewhere", "s3://bucket/path")
    done = remote_tool(dvc_repo, "check", "-r", "nowhere")
    assert done.returncode == 1
    assert last_line(done.stderr) == "error: no DVC remote named 'nowhere' (remotes: elsewhere)"
