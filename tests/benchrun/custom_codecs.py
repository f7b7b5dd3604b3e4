"""User codecs for the ``package.module:factory`` option, as a user would write them."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec


class _Corrupting(PayloadCodec):
    """Decodes to a payload with one byte changed: a broken codec the run must refuse."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            broken = Payload()
            broken.CopyFrom(payload)
            broken.data = payload.data + b"!"
            out.append(broken)
        return out


def corrupting() -> PayloadCodec:
    return _Corrupting()


def not_a_codec() -> object:
    return "nope"
