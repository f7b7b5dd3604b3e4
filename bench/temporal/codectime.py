"""A codec wrapper that adds up the time spent inside the real codec, so the client path can
set in-codec time against the end-to-end difference."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec


@dataclass
class CodecTime:
    encode_ns: int = 0
    encode_calls: int = 0
    decode_ns: int = 0
    decode_calls: int = 0


class TimedCodec(PayloadCodec):
    """Delegates to ``inner`` and accumulates wall time per direction in :attr:`time`."""

    def __init__(self, inner: PayloadCodec) -> None:
        self.inner = inner
        self.time = CodecTime()

    @property
    def encrypts(self) -> bool:
        """Whether the wrapped codec encrypts (so failures must be encoded too)."""
        return bool(getattr(self.inner, "encrypts", False))

    def take(self) -> CodecTime:
        """The time accumulated since the last take, and start afresh."""
        taken, self.time = self.time, CodecTime()
        return taken

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        start = time.perf_counter_ns()
        try:
            return await self.inner.encode(payloads)
        finally:
            self.time.encode_ns += time.perf_counter_ns() - start
            self.time.encode_calls += 1

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        start = time.perf_counter_ns()
        try:
            return await self.inner.decode(payloads)
        finally:
            self.time.decode_ns += time.perf_counter_ns() - start
            self.time.decode_calls += 1
