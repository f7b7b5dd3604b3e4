"""The S3 storage that ``payload-codec-server --s3-bucket`` reads offloaded payloads from: the
SDK's S3 driver over boto3's client, each call in a worker thread (one client, no event-loop
lifecycle to manage in a server that may be mounted in someone else's app). Extra
``payload-codecs[storage]``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.contrib.aws.s3driver import S3StorageDriver, S3StorageDriverClient
from temporalio.converter import ExternalStorage


class Boto3Client(S3StorageDriverClient):
    """boto3's S3 client for the SDK's S3 driver, each call in a worker thread."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def object_exists(self, *, bucket: str, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(self._client.head_object, Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "404":
                return False
            raise
        return True

    async def put_object(self, *, bucket: str, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._client.put_object, Bucket=bucket, Key=key, Body=data)

    async def get_object(self, *, bucket: str, key: str) -> bytes:
        def read() -> bytes:
            answer = self._client.get_object(Bucket=bucket, Key=key)
            return bytes(answer["Body"].read())

        return await asyncio.to_thread(read)


def s3_storage(endpoint: str | None, bucket: str) -> ExternalStorage:
    """External storage reading from ``bucket`` with the SDK's S3 driver; credentials and
    region from the usual AWS environment; ``endpoint`` for an S3 API other than AWS."""
    import boto3  # extra payload-codecs[storage]

    client = boto3.session.Session().client("s3", endpoint_url=endpoint)
    return ExternalStorage(drivers=[S3StorageDriver(client=Boto3Client(client), bucket=bucket)])
