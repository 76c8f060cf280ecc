"""Is a DVC remote usable? One S3 request answers it, with a one-line cause and fix.

DVC reports a bad remote as an "unexpected error" with botocore's words (`Forbidden: An error
occurred (403) when calling the HeadObject operation`). Asking the bucket first turns the usual
three failures, an endpoint that does not answer, credentials it refuses and a bucket it does
not have, into a sentence that names the remote and the command that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import botocore.config
import botocore.exceptions
import botocore.session

# Fail fast: a user waiting on a dead endpoint should hear so in seconds, not after retries.
PROBE_CONFIG = botocore.config.Config(
    connect_timeout=5, read_timeout=15, retries={"max_attempts": 1}
)


class RemoteError(RuntimeError):
    """A remote that cannot be used, in one line: what is wrong and how to fix it."""


@dataclass(frozen=True)
class Remote:
    name: str
    url: str
    config: dict[str, Any]

    @property
    def bucket(self) -> str:
        return urlparse(self.url).netloc

    @property
    def endpoint(self) -> str:
        return self.config.get("endpointurl") or "AWS S3"


def read_remote(root: Path | str, name: str | None = None) -> Remote:
    """The remote `name` (default: DVC's default remote) as DVC sees it, config.local merged."""
    from dvc.repo import Repo  # DVC imports slowly; only this needs it

    with Repo(str(root)) as repo:
        config = repo.config
        name = name or config["core"].get("remote")
        remotes = dict(config["remote"])
    if not name:
        raise RemoteError(
            "no default DVC remote: add one with `dvc remote add -d store s3://BUCKET/PATH` "
            "(docs/many-machines.md)"
        )
    if name not in remotes:
        known = ", ".join(sorted(remotes)) or "none"
        raise RemoteError(f"no DVC remote named '{name}' (remotes: {known})")
    settings = dict(remotes[name])
    return Remote(name, settings.pop("url"), settings)


def s3_client(remote: Remote) -> Any:
    """A botocore client with the remote's endpoint and credentials, as dvc-s3 would pick them:
    the remote's keys, else its profile, else the environment (AWS_ACCESS_KEY_ID, ...)."""
    session = botocore.session.Session(profile=remote.config.get("profile"))
    return session.create_client(
        "s3",
        endpoint_url=remote.config.get("endpointurl"),
        aws_access_key_id=remote.config.get("access_key_id"),
        aws_secret_access_key=remote.config.get("secret_access_key"),
        region_name=remote.config.get("region") or "us-east-1",
        config=PROBE_CONFIG,
    )


def check(remote: Remote) -> None:
    """Raise RemoteError unless the remote's bucket answers to its credentials."""
    if urlparse(remote.url).scheme != "s3":
        return  # a local folder or another cloud: DVC's own messages are plain enough
    name, endpoint = remote.name, remote.endpoint
    try:
        s3_client(remote).head_bucket(Bucket=remote.bucket)
    except botocore.exceptions.NoCredentialsError as error:
        raise RemoteError(
            f"no credentials for remote '{name}': set them with `dvc remote modify --local "
            f"{name} access_key_id ...` and `... secret_access_key ...`, or export "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from error
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
    ) as error:
        raise RemoteError(
            f"remote '{name}': nothing answers at {endpoint}; start the store, or fix the "
            f"address with `dvc remote modify --local {name} endpointurl URL`"
        ) from error
    except botocore.exceptions.ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.response.get("Error", {}).get("Code")
        if status == 404 or code in ("404", "NoSuchBucket"):
            raise RemoteError(
                f"remote '{name}': bucket '{remote.bucket}' does not exist at {endpoint}; "
                f"create it, or point the remote at yours with `dvc remote modify {name} url "
                "s3://BUCKET/PATH`"
            ) from error
        if status == 403 or code in ("403", "SignatureDoesNotMatch", "InvalidAccessKeyId"):
            raise RemoteError(
                f"remote '{name}': {endpoint} refused the credentials for bucket "
                f"'{remote.bucket}' (HTTP 403); set the right ones with `dvc remote modify "
                f"--local {name} access_key_id ...` and `... secret_access_key ...`"
            ) from error
        raise RemoteError(f"remote '{name}': {endpoint} answered {code} ({status})") from error
