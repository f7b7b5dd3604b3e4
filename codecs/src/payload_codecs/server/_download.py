"""``POST <prefix>/download``: payloads that the SDK's external storage offloaded, fetched and
decoded, so operators can read them too (``/decode`` answers a reference with the reference).

The body is ``Payloads`` as protobuf JSON, each one an external-storage reference as the history
holds it (``json/protobuf`` of ``temporal.api.sdk.v1.ExternalStorageReference``). Each is fetched
through the configured storage's driver of that name, then decoded by the namespace's codec.
Every reference is hostile: only drivers configured here are asked, a claim whose object key
names another namespace is refused (a user allowed to read one namespace does not read another's
payloads), and a fetched payload larger than the limit is refused rather than returned.

Needs temporalio 1.35 or later (external storage); imported only when storage is configured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1.external_storage_pb2 import ExternalStorageReference
from temporalio.converter import (
    ExternalStorage,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
)

from payload_codecs.server._auth import Refusal

REFERENCE_TYPE = ExternalStorageReference.DESCRIPTOR.full_name.encode()


def reference_of(payload: Payload, position: int) -> ExternalStorageReference:
    """The reference a payload holds; a 400 naming its position when it holds none."""
    if (
        payload.metadata.get("encoding") != b"json/protobuf"
        or payload.metadata.get("messageType") != REFERENCE_TYPE
    ):
        raise Refusal(400, f"payload {position} is not an external-storage reference")
    try:
        return json_format.Parse(payload.data, ExternalStorageReference())
    except (json_format.ParseError, ValueError):
        raise Refusal(400, f"payload {position} is not a readable storage reference") from None


def _in_namespace(claim: Mapping[str, str], namespace: str) -> bool:
    """Whether the claim's object key (the S3 driver's ``v0/ns/NAMESPACE/...``) belongs to
    ``namespace``; a key without a namespace segment belongs to none."""
    key = claim.get("key", "")
    return key.startswith(f"v0/ns/{namespace}/")


async def download(
    storage: ExternalStorage, payloads: Sequence[Payload], namespace: str, max_bytes: int
) -> list[Payload]:
    """The stored (still encoded) payloads that ``payloads`` refer to, in order."""
    drivers = {driver.name(): driver for driver in storage.drivers}
    fetched = []
    for position, payload in enumerate(payloads):
        reference = reference_of(payload, position)
        driver = drivers.get(reference.driver_name)
        if driver is None:
            raise Refusal(422, f"payload {position}: no storage driver configured by that name")
        claim = dict(reference.claim_data)
        if not _in_namespace(claim, namespace):
            raise Refusal(403, f"payload {position} is stored for another namespace")
        try:
            [stored] = await driver.retrieve(
                StorageDriverRetrieveContext(), [StorageDriverClaim(claim)]
            )
        except Exception as error:  # the driver names bucket and key, never payload data
            raise Refusal(502, f"payload {position}: the store did not answer: {error}") from None
        if stored.ByteSize() > max_bytes:
            raise Refusal(413, f"payload {position} is over the {max_bytes:,}-byte limit")
        fetched.append(stored)
    return fetched
