"""`python -m vaelab.remote check|push|pull [-r NAME]` (= `make check-remote|push|pull`).

Checks the remote first, so a wrong key, a missing bucket or a stopped store is one line that
says how to fix it; then runs `dvc push|pull --run-cache`, so another clone's `dvc repro
--pull` restores every stage run here instead of running it. While it runs, the remote is
asked every few seconds: if it stops answering, the transfer is stopped at once (DVC alone
retries each file for minutes). A push that fails part-way loses nothing: the local cache is
whole, the store keeps what arrived, and the same command sends the rest.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

from vaelab.remote.check import Remote, RemoteError, check, read_remote

WATCH_INTERVAL_S = 2.0
FAILED_CHECKS_TO_STOP = 3  # about 6 s of silence, not one slow answer of a busy store
STOP_GRACE_S = 10.0


def watch(process: subprocess.Popen, remote: Remote) -> RemoteError | None:
    """Wait for `process`; stop it and say why if the remote stops answering meanwhile."""
    failed = 0
    while True:
        try:
            process.wait(timeout=WATCH_INTERVAL_S)
            return None
        except subprocess.TimeoutExpired:
            pass
        try:
            check(remote)
            failed = 0
        except RemoteError as error:
            failed += 1
            if failed >= FAILED_CHECKS_TO_STOP and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                return error


def transfer(verb: str, root: Path, name: str | None, jobs: int | None = None) -> None:
    remote = read_remote(root, name)
    check(remote)
    options = ["-r", remote.name] + (["--jobs", str(jobs)] if jobs else [])
    # A sweep's remote holds the runs someone pushed, not every output dvc.lock names: take
    # what is there (DVC warns about the rest, which `dvc repro --pull` then runs).
    command = ["dvc", verb, "--run-cache", *options]
    command += ["--allow-missing"] if verb == "pull" else []
    retry = f"run `python -m vaelab.remote {verb}` again to finish"
    process = subprocess.Popen(command, cwd=root)
    lost = watch(process, remote)
    if lost is not None:
        raise RemoteError(f"{verb} stopped part-way: {lost}. Nothing is lost; {retry}")
    if process.returncode != 0:
        raise RemoteError(f"{verb} failed (its message is above). Nothing is lost; {retry}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vaelab.remote", description=__doc__)
    parser.add_argument("action", choices=("check", "push", "pull"))
    parser.add_argument("-r", "--remote", help="DVC remote name (default: the default remote)")
    parser.add_argument("-j", "--jobs", type=int, help="parallel transfers (DVC's default)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    args = parser.parse_args(argv)
    try:
        if args.action == "check":
            remote = read_remote(args.root, args.remote)
            check(remote)
            print(f"remote '{remote.name}' ({remote.url}) answers")
        else:
            transfer(args.action, args.root, args.remote, args.jobs)
    except RemoteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
