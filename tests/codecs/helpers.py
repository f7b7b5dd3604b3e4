"""Builders shared by the codec tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload

from payload_codecs import ChainCodec


def json_payload(data: bytes) -> Payload:
    """A payload as the SDK's JSON converter writes it."""
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def encode(codec: ChainCodec, payloads: Sequence[Payload]) -> list[Payload]:
    return asyncio.run(codec.encode(payloads))


def decode(codec: ChainCodec, payloads: Sequence[Payload]) -> list[Payload]:
    return asyncio.run(codec.decode(payloads))


COMPRESSIBLE = b'{"customer": "ACME Corp", "items": [1, 2, 3], "note": "hello world"}' * 64
