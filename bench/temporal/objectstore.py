"""External storage for the client layer: the SDK's claim check (``ExternalStorage``) with its S3
driver, against a real S3 API. The embedded default is moto's S3 server, a child process on a
free loopback port, always stopped; ``--s3-endpoint`` names any other (credentials from the
usual AWS environment, never from a command line).

The driver's client is wrapped to count what reached the store, per codec: objects and bytes
written and read, and the wall time inside those calls. The SDK keeps its own storage metrics
in a private module for its worker's task metrics; counting at the client boundary measures the
same operations through public interfaces only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1.external_storage_pb2 import ExternalStorageReference
from temporalio.contrib.aws.s3driver import S3StorageDriver, S3StorageDriverClient
from temporalio.converter import DataConverter, ExternalStorage

from bench.errors import InfrastructureFailure
from bench.temporal.codecserver import answers
from bench.temporal.devserver import free_ports
from bench.temporal.processes import Watched, spawn, stop

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client

DEFAULT_THRESHOLD = 256 * 1024
"""The SDK's default ``ExternalStorage.payload_size_threshold``."""
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "codec-bench-local",
    "AWS_SECRET_ACCESS_KEY": "codec-bench-local",
    "AWS_DEFAULT_REGION": "us-east-1",
}
"""moto accepts any credentials; the embedded store's clients get these, not the user's, so a
real AWS key never travels to a throwaway server."""
READY_TIMEOUT_S = 30.0
REFERENCE_TYPE = ExternalStorageReference.DESCRIPTOR.full_name.encode()


class ObjectStoreError(InfrastructureFailure):
    """The object store could not be started or reached."""


@dataclass(frozen=True)
class S3Target:
    """Where offloaded payloads go: an S3 API endpoint and an existing bucket."""

    endpoint: str
    bucket: str
    pid: int | None = None
    """The local server's process, when this run started it."""

    def to_argv(self) -> list[str]:
        return ["--s3-endpoint", self.endpoint, "--s3-bucket", self.bucket]


def _session_options(env: Mapping[str, str]) -> dict[str, Any]:
    """Credentials and region for a boto3 or aioboto3 session, from ``env`` alone."""
    return {
        "aws_access_key_id": env.get("AWS_ACCESS_KEY_ID"),
        "aws_secret_access_key": env.get("AWS_SECRET_ACCESS_KEY"),
        "aws_session_token": env.get("AWS_SESSION_TOKEN"),
        "region_name": env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
    }


def _boto_client(target: S3Target, env: Mapping[str, str]) -> Any:
    import boto3  # only runs with external storage need it

    session = boto3.session.Session(**_session_options(env))
    return session.client("s3", endpoint_url=target.endpoint)


@dataclass(frozen=True)
class LocalS3(S3Target):
    """The S3 server this run started (moto), which the client layer watches while it runs."""

    watched: Watched | None = dataclasses.field(default=None, repr=False, compare=False)

    async def watch(self) -> None:
        assert self.watched is not None
        await self.watched.watch()


@contextlib.contextmanager
def moto_server(what: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """moto's server (every AWS API it mocks) on a free loopback port, answering: its endpoint
    and process; stopped on exit. ``what`` names it in errors ("S3", "KMS")."""
    [port] = free_ports(1)
    process = spawn(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**_plain_env(), **LOCAL_CREDENTIALS},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not answers(endpoint):
            if process.poll() is not None:
                raise ObjectStoreError(
                    f"the local {what} server (moto) exited with code {process.returncode}"
                )
            if time.monotonic() > deadline:
                raise ObjectStoreError(f"no {what} server answered at {endpoint} within 30 s")
            time.sleep(0.1)
        yield endpoint, process
    finally:
        stop(process)


@contextlib.contextmanager
def local_s3(bucket: str) -> Iterator[LocalS3]:
    """moto's S3 server on a free loopback port with ``bucket`` created; stopped on exit."""
    with moto_server("S3") as (endpoint, process):
        watched = Watched(process, "the local S3 server (moto)")
        target = LocalS3(endpoint, bucket, process.pid, watched)
        _boto_client(target, LOCAL_CREDENTIALS).create_bucket(Bucket=bucket)
        yield target


def _plain_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def check_bucket(target: S3Target, env: Mapping[str, str]) -> None:
    """Raise :class:`ObjectStoreError` with one line when the bucket cannot be reached (the
    SDK's driver never creates one)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _boto_client(target, env).head_bucket(Bucket=target.bucket)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "?")
        raise ObjectStoreError(
            f"bucket {target.bucket!r} at {target.endpoint} answered {code}; create it, or check "
            "the AWS credentials in the environment"
        ) from None
    except BotoCoreError as error:
        raise ObjectStoreError(f"S3 endpoint {target.endpoint}: {error}") from None


def bucket_objects(target: S3Target, env: Mapping[str, str]) -> dict[str, int]:
    """Every object key in the bucket with its size."""
    client = _boto_client(target, env)
    found: dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = int(item["Size"])
    return found


@dataclass
class StorageCounts:
    """What one driver asked of the store since the last :meth:`take`."""

    put_objects: int = 0
    put_bytes: int = 0
    get_objects: int = 0
    get_bytes: int = 0
    storage_ns: int = 0

    def take(self) -> StorageCounts:
        taken = dataclasses.replace(self)
        for field in dataclasses.fields(self):
            setattr(self, field.name, 0)
        return taken


class CountingS3Client(S3StorageDriverClient):
    """Delegates to the SDK's aioboto3 adapter and counts into ``counts``. Existence checks
    count as time, not as objects: the driver skips a write whose content-addressed key is
    already there, so only real writes are objects written."""

    def __init__(self, inner: S3StorageDriverClient, counts: StorageCounts) -> None:
        self._inner = inner
        self.counts = counts

    def describe(self) -> Mapping[str, str]:
        return self._inner.describe()

    async def object_exists(self, *, bucket: str, key: str) -> bool:
        start = time.perf_counter_ns()
        try:
            return await self._inner.object_exists(bucket=bucket, key=key)
        finally:
            self.counts.storage_ns += time.perf_counter_ns() - start

    async def put_object(self, *, bucket: str, key: str, data: bytes) -> None:
        start = time.perf_counter_ns()
        try:
            await self._inner.put_object(bucket=bucket, key=key, data=data)
            self.counts.put_objects += 1
            self.counts.put_bytes += len(data)
        finally:
            self.counts.storage_ns += time.perf_counter_ns() - start

    async def get_object(self, *, bucket: str, key: str) -> bytes:
        start = time.perf_counter_ns()
        try:
            data = await self._inner.get_object(bucket=bucket, key=key)
            self.counts.get_objects += 1
            self.counts.get_bytes += len(data)
            return data
        finally:
            self.counts.storage_ns += time.perf_counter_ns() - start


@contextlib.asynccontextmanager
async def s3_client(target: S3Target, env: Mapping[str, str]) -> AsyncIterator[S3Client]:
    """An aioboto3 S3 client for ``target`` with the credentials in ``env``."""
    import aioboto3  # imports aiohttp: only runs with external storage pay for it

    session = aioboto3.Session(**_session_options(env))
    async with session.client("s3", endpoint_url=target.endpoint) as client:
        yield client


def with_storage(
    converter: DataConverter,
    client: S3Client,
    target: S3Target,
    threshold: int,
    counts: StorageCounts,
) -> DataConverter:
    """``converter`` offloading every payload of at least ``threshold`` bytes *after* its codec
    (the SDK encodes first, then decides), through a driver that counts into ``counts``."""
    from temporalio.contrib.aws.s3driver.aioboto3 import new_aioboto3_client

    driver = S3StorageDriver(
        client=CountingS3Client(new_aioboto3_client(client), counts), bucket=target.bucket
    )
    storage = ExternalStorage(drivers=[driver], payload_size_threshold=threshold)
    return dataclasses.replace(converter, external_storage=storage)


def references(payloads: Iterable[Payload]) -> list[str]:
    """The object keys of the payloads that are external-storage references, one per
    reference, in order (the same key twice when the driver stored one object for both)."""
    keys = []
    for payload in payloads:
        if payload.metadata.get("messageType") != REFERENCE_TYPE:
            continue
        reference = json_format.Parse(payload.data, ExternalStorageReference())
        keys.append(reference.claim_data.get("key", ""))
    return keys
