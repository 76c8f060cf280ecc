"""Push and pull of the default pipeline's cache through a real S3 store on loopback.

Two throwaway git clones of HEAD: the first borrows this workspace's DVC cache (nothing is
copied) and pushes every output dvc.lock names to a fresh bucket of a local SeaweedFS; the
second, with an empty cache, pulls them all and checks them out.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from vaelab.bench.pipeline import Clone
from vaelab.remote.local_store import LocalS3Store

BUCKET = "bench"
REMOTE = "bench"

ROWS = (
    ("default cache through local S3: files", "remote_files", "{}"),
    ("  size (MB)", "remote_megabytes", "{:.0f}"),
    ("  dvc push (s, target ≤ 30)", "remote_push_seconds", "{:.1f}"),
    ("  dvc pull into an empty cache (s, target ≤ 30)", "remote_pull_seconds", "{:.1f}"),
)


def _point_at(clone: Clone, store: LocalS3Store) -> None:
    clone.output("dvc", "remote", "add", "--local", "-d", REMOTE, f"s3://{BUCKET}/vaelab")
    for command in store.local_settings(REMOTE):
        clone.output(*command)


def measure(repo: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vaelab-remote-") as folder:
        folder = Path(folder)
        with LocalS3Store(folder / "s3") as store:
            store.create_bucket(BUCKET)
            (folder / "push").mkdir()
            pusher = Clone(repo, folder / "push")
            pusher.output("dvc", "cache", "dir", "--local", str(repo / ".dvc" / "cache"))
            _point_at(pusher, store)
            push = pusher.run("dvc", "push")
            sizes = store.object_sizes(BUCKET)
            (folder / "pull").mkdir()
            puller = Clone(repo, folder / "pull")
            _point_at(puller, store)
            pull = puller.run("dvc", "pull")
            status = puller.output("dvc", "status")
            if "up to date" not in status:
                raise RuntimeError(f"the pulled clone is not up to date:\n{status}")
    return {
        "remote_files": len(sizes),
        "remote_megabytes": sum(sizes) / 1e6,
        "remote_push_seconds": push.seconds,
        "remote_pull_seconds": pull.seconds,
    }
