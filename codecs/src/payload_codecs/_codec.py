"""The deployable PayloadCodec: a chain of stages, applied in order to encode and in reverse to
decode, that keeps large payloads off the SDK's event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from payload_codecs._errors import DecodedSizeError, PayloadDecodeError
from payload_codecs._stages import ENCODING, CodecOptions, EncryptionStage, Stage


class ChainCodec(PayloadCodec):
    """A ``temporalio.converter.PayloadCodec`` built from stages (see :func:`from_spec`).

    Encoding serializes each payload and runs it through every stage in order; a stage may leave
    a payload as it is (too small, or not smaller when compressed). Decoding walks the stages in
    reverse and applies each one whose encoding the payload carries; payloads with any other
    encoding pass through untouched, so mixed histories decode.

    The SDK calls codecs on its asyncio event loop. When one call's work is expected to take
    ``options.offload_after_us`` or more, it runs in the loop's default executor: the libraries
    release the GIL on large buffers, so the loop keeps serving other tasks. Expected time is
    bytes (on decode the decoded size, as the format states it) times the chain's cost per byte:
    the stages' measured priors at first, then what this codec's own calls of at least
    ``LEARN_FROM_BYTES`` took, rising at once to a slower call and falling gradually, so that
    one slow call on a busy host makes the codec careful rather than one fast call making it
    bold. A payload that decodes to more than the loop's share (its format states nothing, or
    states less) is stopped there and decoded again on the executor.
    """

    def __init__(
        self, stages: Sequence[Stage], *, spec: str, options: CodecOptions | None = None
    ) -> None:
        self._stages = tuple(stages)
        self._decode_order = self._stages[::-1]
        self._by_encoding = {stage.encoding: stage for stage in self._stages}
        self._last = len(self._stages) - 1
        self.spec = spec
        """Canonical spec string: every level and implementation spelled out."""
        self.options = options or CodecOptions()
        after_us = self.options.offload_after_us
        self._budget_ns = None if after_us is None else after_us * 1e3
        self._encode_cost = sum(stage.cost()[0] for stage in self._stages)
        self._decode_cost = sum(stage.cost()[1] for stage in self._stages)
        self._limit = self.options.max_decoded_size
        self._loop_limit = self._loop_share()

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages in encoding order."""
        return self._stages

    @property
    def costs(self) -> tuple[float, float]:
        """The chain's current estimate of nanoseconds per byte, encode and decode."""
        return self._encode_cost, self._decode_cost

    @property
    def encrypts(self) -> bool:
        """Whether some stage encrypts (then failure messages should be encoded too)."""
        return any(isinstance(stage, EncryptionStage) for stage in self._stages)

    def __repr__(self) -> str:
        return f"ChainCodec({self.spec!r})"

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if not self._stages:
            return list(payloads)
        blobs, size = _serialize(payloads)
        budget = self._budget_ns
        if budget is not None and size * self._encode_cost >= budget:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, self._encode_timed, payloads, blobs, size)
        if size < LEARN_FROM_BYTES:
            return self._encode_blobs(payloads, blobs)
        return self._encode_timed(payloads, blobs, size)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if not self._stages:
            return list(payloads)
        owned, size = self._own_data(payloads)
        budget = self._budget_ns
        if budget is None or size * self._decode_cost < budget:
            try:
                if size < LEARN_FROM_BYTES:
                    return self._decode_owned(payloads, owned, self._loop_limit)
                return self._decode_timed(payloads, owned, self._loop_limit, size)
            except _OverLoopLimit:
                pass  # larger than it looked: decode it where it cannot stall the loop
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, self._decode_timed, payloads, owned, self._limit, size
        )

    def encode_sync(self, payloads: Sequence[Payload]) -> list[Payload]:
        """:meth:`encode` on the calling thread, for code without an event loop (a codec server
        in a synchronous web framework, a script)."""
        return self._encode_blobs(payloads, _serialize(payloads)[0])

    def decode_sync(self, payloads: Sequence[Payload]) -> list[Payload]:
        """:meth:`decode` on the calling thread."""
        return self._decode_owned(payloads, self._own_data(payloads)[0], self._limit)

    def _encode_timed(
        self, payloads: Sequence[Payload], blobs: list[bytes], size: int
    ) -> list[Payload]:
        start = time.perf_counter_ns()
        out = self._encode_blobs(payloads, blobs)
        self._encode_cost = _learned(self._encode_cost, size, time.perf_counter_ns() - start)
        return out

    def _decode_timed(
        self, payloads: Sequence[Payload], owned: list[_Owned | None], max_size: int, size: int
    ) -> list[Payload]:
        start = time.perf_counter_ns()
        out = self._decode_owned(payloads, owned, max_size)
        self._decode_cost = _learned(self._decode_cost, size, time.perf_counter_ns() - start)
        self._loop_limit = self._loop_share()
        return out

    def _loop_share(self) -> int:
        """The most bytes one call may decode to on the event loop: what the budget allows at
        the current cost per byte (kept, not computed per call: small calls are the hot path)."""
        if self._budget_ns is None or self._decode_cost <= 0:
            return self._limit
        return min(self._limit, max(int(self._budget_ns / self._decode_cost), 1))

    def _encode_blobs(self, payloads: Sequence[Payload], blobs: list[bytes]) -> list[Payload]:
        out = []
        for original, serialized in zip(payloads, blobs, strict=True):
            payload, blob = original, serialized
            for index, stage in enumerate(self._stages):
                encoded = stage.encode(blob)
                if encoded is not None:
                    payload = encoded
                    if index != self._last:
                        blob = serialize(payload)
            out.append(payload)
        return out

    def _own_data(self, payloads: Sequence[Payload]) -> tuple[list[_Owned | None], int]:
        # Reading ``data`` copies it out of the protobuf, so read it once, and only for payloads
        # that some stage decodes; the decoded size the outermost stage expects decides where
        # the work runs.
        owned: list[_Owned | None] = []
        size = 0
        for payload in payloads:
            encoding = payload.metadata.get(ENCODING)
            stage = self._by_encoding.get(encoding) if encoding is not None else None
            if stage is not None:
                data = payload.data
                size += stage.decoded_size(data)
                owned.append((encoding, data))  # type: ignore[arg-type]
            else:
                owned.append(None)
        return owned, size

    def _decode_owned(
        self, payloads: Sequence[Payload], owned: list[_Owned | None], max_size: int
    ) -> list[Payload]:
        out = []
        for payload, own in zip(payloads, owned, strict=True):
            out.append(payload if own is None else self._decode_one(payload, *own, max_size))
        return out

    def _decode_one(
        self, payload: Payload, encoding: bytes, data: bytes | None, max_size: int
    ) -> Payload:
        for index, stage in enumerate(self._decode_order):
            if encoding != stage.encoding:
                continue
            try:
                inner = stage.decode(payload, payload.data if data is None else data, max_size)
            except DecodedSizeError:
                if max_size < self._limit:
                    raise _OverLoopLimit from None
                raise
            try:
                # upb parses any buffer; the stub says bytes, and a copy would cost time.
                payload = Payload.FromString(inner)  # type: ignore[arg-type]
            except DecodeError:
                raise PayloadDecodeError(
                    f"{stage.encoding.decode()} payload decoded to bytes that are not a "
                    "serialized Payload"
                ) from None
            if index == self._last:
                break
            encoding, data = payload.metadata.get(ENCODING, b""), None
        return payload


LEARN_FROM_BYTES = 64 << 10
"""Calls this large teach the codec its cost per byte; smaller ones are dominated by per-call
costs (and are not timed, which would add to them)."""


def _learned(cost: float, size: int, elapsed_ns: int) -> float:
    """The cost per byte after a call of ``size`` bytes took ``elapsed_ns``: at once the slower
    figure, or a quarter of the way down to a faster one. Races between threads lose an update,
    never correctness: the figure only decides where work runs."""
    if size < LEARN_FROM_BYTES:
        return cost
    seen = elapsed_ns / size
    return seen if seen > cost else 0.75 * cost + 0.25 * seen


def serialize(payload: Payload) -> bytes:
    """The payload's bytes, the same in every process. The protobuf runtime writes map entries
    (the metadata) in an order that differs between processes, which would make compressed
    sizes differ from run to run; sorting costs a few hundred nanoseconds, so it is only asked
    for when there is more than one entry to order."""
    if len(payload.metadata) > 1:
        return payload.SerializeToString(deterministic=True)
    return payload.SerializeToString()


def _serialize(payloads: Sequence[Payload]) -> tuple[list[bytes], int]:
    # Plain loops, not comprehensions: on Python 3.11 a comprehension costs a function call,
    # a measurable share of the work for the one small payload that most calls carry.
    blobs = []
    size = 0
    for payload in payloads:
        blob = serialize(payload)
        blobs.append(blob)
        size += len(blob)
    return blobs, size


_Owned = tuple[bytes, bytes]
"""A payload's encoding and data, read once on the event loop."""


class _OverLoopLimit(Exception):
    """A payload decoded on the event loop passed the offload threshold: start it again on the
    executor, with the full decoded-size limit."""
