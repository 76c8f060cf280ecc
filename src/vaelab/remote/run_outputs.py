"""Push what the run cache points at, so another clone can restore a stage from it.

`dvc push --run-cache` (DVC 3) sends the run-cache entries and the workspace's cached outputs,
but not the objects of a run's `cache: false` outputs (our training stages' dvclive metrics
and plots), which DVC keeps in the local cache for the run cache alone. Without them another
clone's `dvc repro --pull` finds the run, cannot check it out, and trains again. This sends
every such object the local cache holds.
"""

from __future__ import annotations

from pathlib import Path


def push_run_outputs(root: Path | str, remote: str | None, jobs: int | None = None) -> int:
    """Send the local objects that local run-cache entries name; the count sent."""
    from dvc.exceptions import CollectCacheError
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        runs = Path(repo.cache.legacy.path, "runs")
        local = repo.cache.local
        wanted: dict = {}
        for run in runs.glob("*/*/*"):
            try:  # an entry pulled from elsewhere names objects this clone never had
                used = repo.stage_cache.get_used_objs([(run.parent.name, run.name)])
            except CollectCacheError:
                continue
            for odb, objs in used.items():
                wanted.setdefault(odb, set()).update(o for o in objs if local.exists(o.value))
        sent = 0
        for odb, objs in wanted.items():
            result = repo.cloud.push(objs, jobs=jobs, remote=remote, odb=odb)
            if result.failed:
                raise RuntimeError(f"{len(result.failed)} run-cache objects failed to upload")
            sent += len(result.transferred)
        return sent
