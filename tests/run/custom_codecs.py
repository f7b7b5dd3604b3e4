"""User codecs for the ``package.module:factory`` option, as a user would write them."""

from __future__ import annotations

import os
import time
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


class _Slowed(PayloadCodec):
    """zstd:3 made slower by a set share of its own time (busy work, so it costs CPU as real
    work would): a regression the comparison must catch."""

    def __init__(self, slowdown: float) -> None:
        from payload_codecs import from_spec

        self.inner = from_spec("zstd:3")
        self.slowdown = slowdown

    def _stall(self, start: float) -> None:
        end = time.perf_counter() + (time.perf_counter() - start) * self.slowdown
        while time.perf_counter() < end:
            pass

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        start = time.perf_counter()
        out = await self.inner.encode(payloads)
        self._stall(start)
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        start = time.perf_counter()
        out = await self.inner.decode(payloads)
        self._stall(start)
        return out


def maybe_slow() -> PayloadCodec:
    """zstd:3, slowed by CODEC_BENCH_TEST_SLOWDOWN (a fraction, default 0) of its own time."""
    return _Slowed(float(os.environ.get("CODEC_BENCH_TEST_SLOWDOWN", "0")))


class _BreaksLater(PayloadCodec):
    """Right while the run warms up and calibrates (a warm-up and the calibration calls per
    payload), wrong after: only the check made on every measured round can catch it."""

    def __init__(self, good_calls: int) -> None:
        self.decodes = 0
        self.good_calls = good_calls

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.decodes += 1
        if self.decodes <= self.good_calls:
            return list(payloads)
        return await _Corrupting().decode(payloads)


def breaks_after_calibration() -> PayloadCodec:
    """For a corpus of 24 payloads (the tests' small corpus)."""
    from bench.layers.inprocess import CALIBRATION_CALLS

    return _BreaksLater(good_calls=(1 + CALIBRATION_CALLS) * 24)
