"""The deployable PayloadCodec: a chain of stages, applied in order to encode and in reverse to
decode, that keeps large payloads off the SDK's event loop."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator, Sequence

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from payload_codecs._envelope import EnvelopeStage, KeyNotReady
from payload_codecs._errors import DecodedSizeError, PayloadDecodeError, TotalSizeError
from payload_codecs._stages import ENCODING, CodecOptions, Stage, serialize


class ChainCodec(PayloadCodec):
    """A ``temporalio.converter.PayloadCodec`` built from stages (see :func:`from_spec`).

    Encoding serializes each payload and runs it through every stage in order; a stage may leave
    a payload as it is (too small, or not smaller when compressed). Decoding walks the stages in
    reverse and applies each one whose encoding the payload carries; payloads with any other
    encoding pass through untouched, so mixed histories decode.

    The SDK calls codecs on its asyncio event loop. When one call's work is expected to take
    ``options.offload_after_us`` or more, it runs in the loop's default executor: the libraries
    release the GIL on large buffers, so the loop keeps serving other tasks. Expected time is
    bytes (on decode the decoded size, as the outermost format states it: for encryption, what
    it holds; and on decode also the payload's own bytes times what the costliest input of that
    size costs, ``Compressor.input_cost``, whatever the payload states) times the chain's cost
    per byte (on decode, per byte decoded to): the stages'
    measured priors at first, then what this codec's own calls of at least
    ``LEARN_FROM_BYTES`` took, rising at once to a slower call and falling gradually, so that
    one slow call makes the codec careful rather than one fast call making it bold. Calls are
    timed in the CPU time of the thread that ran them: time the host or another process took
    from the thread is no cost of the work, and moving the work would not avoid it (with two
    CPU-bound processes competing for this project's two cores, wall-clock timing sent 29-174
    of 3,000 lz4 decodes of 64 KiB to a thread, CPU time none: ``python -m
    experiments.preemption``); one in ``TIME_EVERY`` such calls on the loop is timed, for
    the clock's own cost. A payload is decoded on the loop within the loop's share of decoded
    bytes; one that decodes to more (its format refuses it at once when it states its size) is
    decoded again on the executor. A call that needs the key management service (a new data
    key, or one not cached) runs on the executor too: no KMS call ever waits on the loop.
    """

    def __init__(
        self, stages: Sequence[Stage], *, spec: str, options: CodecOptions | None = None
    ) -> None:
        self._stages = tuple(stages)
        self._inner = self._stages[:-1]
        self._decode_order = self._stages[::-1]
        # Where decoding starts for each encoding: the index of its stage in decode order.
        self._starts = {stage.encoding: index for index, stage in enumerate(self._decode_order)}
        self._hinted = tuple(stage.hints_size for stage in self._decode_order)
        self._keyed = tuple(stage for stage in self._stages if isinstance(stage, EnvelopeStage))
        self.spec = spec
        """Canonical spec string: every level and implementation spelled out."""
        self.options = options or CodecOptions()
        after_us = self.options.offload_after_us
        self._budget_ns = None if after_us is None else after_us * 1e3
        self._limit = self.options.max_decoded_size
        self._time_encode = _every(TIME_EVERY)
        self._time_decode = _every(TIME_EVERY)
        self._input_cost = sum(stage.input_cost() for stage in self._stages)
        self._set_costs(
            sum(stage.cost()[0] for stage in self._stages),
            sum(stage.cost()[1] for stage in self._stages),
        )

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages in encoding order."""
        return self._stages

    @property
    def costs(self) -> tuple[float, float]:
        """The chain's current estimate of nanoseconds per byte, encode and decode."""
        return self._encode_cost, self._decode_cost

    @property
    def keyed(self) -> tuple[EnvelopeStage, ...]:
        """The stages that call a key management service (envelope encryption)."""
        return self._keyed

    @property
    def encrypts(self) -> bool:
        """Whether some stage encrypts (then failure messages should be encoded too)."""
        return any(stage.encrypts for stage in self._stages)

    def __repr__(self) -> str:
        return f"ChainCodec({self.spec!r})"

    # The SDK nearly always passes one payload, and a small one: that case takes the shortest
    # path (no lists to build, no timing, no offload test beyond one comparison). What it still
    # costs beyond the stages' own work is mostly the protobuf runtime's: serializing the
    # payload and building the outer one on encode, reading metadata and data and parsing the
    # inner payload on decode, each a copy across the C boundary; then the coroutine the SDK
    # awaits and these calls. ``codec-bench overhead`` shows the runtime's part in a column of
    # its own (at 1 KiB on this project's machine, 0.8-1.6 us of the 1.1-3.0 us that one stage
    # adds, quiet hour or busy). A chain adds a stage's calls and the inner payload's bytes
    # per further stage.

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if len(payloads) == 1 and self._stages:
            payload = payloads[0]
            blob = serialize(payload)
            if len(blob) < self._encode_quietly_below:
                try:
                    return [self._encode_one(payload, blob)]
                except KeyNotReady:  # a new data key first: on the executor
                    pass
            blobs, size = [blob], len(blob)
        elif not self._stages:
            return list(payloads)
        else:
            blobs, size = _serialize(payloads)
        if size < self._encode_on_loop_below:
            try:
                if size < LEARN_FROM_BYTES or not next(self._time_encode):
                    return self._encode_blobs(payloads, blobs)
                return self._encode_timed(payloads, blobs, size)
            except KeyNotReady:
                pass
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._encode_timed, payloads, blobs, size)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        on_loop = True
        if len(payloads) == 1 and self._stages:
            payload = payloads[0]
            start = self._start(payload)
            if start is None:
                return [payload]
            data = payload.data
            # Most payloads are decoded on the loop within the loop's decoded-size limit without
            # asking their size first: a format that states its size refuses a larger one
            # before any work, and a payload decodes to at least about its data. Larger ones
            # (then decoded again with the full limit) go to the executor below.
            if not self._hinted[start] and (
                len(data) < self._decode_quietly_below
                or (len(data) < self._data_on_loop_below and not next(self._time_decode))
            ):
                try:
                    return [self._decode_one(payload, start, data, self._loop_limit)]
                except (_OverLoopLimit, KeyNotReady):
                    on_loop = False
            owned: list[_Owned | None] = [(start, data)]
            size, data_size = self._decode_order[start].decoded_size(data), len(data)
            timed = size >= LEARN_FROM_BYTES
        else:
            owned, size, data_size = self._own_data(payloads)
            timed = size >= LEARN_FROM_BYTES and next(self._time_decode)
        if on_loop and size < self._decode_on_loop_below and data_size < self._data_on_loop_below:
            try:
                if not timed:
                    return self._decode_owned(payloads, owned, self._loop_limit)
                return self._decode_timed(payloads, owned, self._loop_limit)
            except (_OverLoopLimit, KeyNotReady):
                pass
        # Expected to take the budget or more, larger than it looked (then decoded again with
        # the full limit), or waiting for the KMS: on the executor, where it cannot stall the
        # loop.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._decode_off_loop, payloads, owned)

    def encode_sync(self, payloads: Sequence[Payload]) -> list[Payload]:
        """:meth:`encode` on the calling thread, for code without an event loop (a codec server
        in a synchronous web framework, a script)."""
        if not self._stages:
            return list(payloads)
        return self._encode_blobs(payloads, _serialize(payloads)[0])

    def decode_sync(
        self, payloads: Sequence[Payload], *, max_total: int | None = None
    ) -> list[Payload]:
        """:meth:`decode` on the calling thread. With ``max_total``, the payloads together may
        decode to at most that many bytes, enforced while decoding as the per-payload limit is
        (:class:`TotalSizeError` past it): what a codec server bounds a request by."""
        owned = self._own_data(payloads)[0]
        self._new_call()
        if max_total is None:
            return self._decode_owned(payloads, owned, self._limit)
        out, left = [], max_total
        for payload, own in zip(payloads, owned, strict=True):
            if own is None:
                out.append(payload)
                continue
            sizes: list[int] = []
            try:
                # A limit under the codec's own means the request's budget is what runs out.
                out.append(self._decode_one(payload, *own, min(self._limit, left), sizes))
            except _OverLoopLimit:
                raise TotalSizeError(max_total) from None
            left -= sizes[0]
        return out

    def _decode_off_loop(
        self, payloads: Sequence[Payload], owned: list[_Owned | None]
    ) -> list[Payload]:
        self._new_call()
        return self._decode_timed(payloads, owned, self._limit)

    def _new_call(self) -> None:
        """One decode call starts on this thread: envelope stages count its KMS calls anew."""
        for stage in self._keyed:
            stage.new_call()

    def _set_costs(self, encode: float, decode: float) -> None:
        """Keep the cost per byte and what follows from it, so that the hot path compares one
        number: the sizes below which a call runs on the loop (work expected under the budget),
        below which it also runs untimed without counting towards ``TIME_EVERY`` (too small to
        learn from), and the most bytes one call may decode to there."""
        self._encode_cost, self._decode_cost = encode, decode
        budget = self._budget_ns
        unbounded = float("inf")
        self._decode_on_loop_below = unbounded if budget is None or decode <= 0 else budget / decode
        # A payload's own bytes bound the loop's share too: whatever it states, no more of
        # them than the costliest input of that size could decode within the budget.
        self._data_on_loop_below = min(
            self._decode_on_loop_below,
            unbounded if budget is None or self._input_cost <= 0 else budget / self._input_cost,
        )
        self._encode_on_loop_below = unbounded if budget is None or encode <= 0 else budget / encode
        self._encode_quietly_below = min(self._encode_on_loop_below, LEARN_FROM_BYTES)
        self._decode_quietly_below = min(self._data_on_loop_below, TIME_FROM_BYTES)
        self._loop_limit = int(min(self._limit, max(self._decode_on_loop_below, 1)))

    def _encode_timed(
        self, payloads: Sequence[Payload], blobs: list[bytes], size: int
    ) -> list[Payload]:
        start = time.thread_time_ns()
        out = self._encode_blobs(payloads, blobs)
        elapsed = time.thread_time_ns() - start
        self._set_costs(_learned(self._encode_cost, size, elapsed), self._decode_cost)
        return out

    def _decode_timed(
        self, payloads: Sequence[Payload], owned: list[_Owned | None], max_size: int
    ) -> list[Payload]:
        # Learned per byte decoded to, not per byte the outermost stage stated: the loop's share
        # limits what each stage decodes to, and an encryption stage outside a compression one
        # states only the compressed size (learning per such byte made a zstd+aes chain's
        # share of the loop four times too small, and sent 512 KiB to a thread).
        decoded: list[int] = []
        start = time.thread_time_ns()
        out = self._decode_owned(payloads, owned, max_size, decoded)
        elapsed = time.thread_time_ns() - start
        self._set_costs(self._encode_cost, _learned(self._decode_cost, sum(decoded), elapsed))
        return out

    def _encode_blobs(self, payloads: Sequence[Payload], blobs: list[bytes]) -> list[Payload]:
        out = []
        for payload, blob in zip(payloads, blobs, strict=True):
            out.append(self._encode_one(payload, blob))
        return out

    def _encode_one(self, payload: Payload, blob: bytes) -> Payload:
        """``payload`` (serialized: ``blob``) through every stage; the last one's output is not
        serialized again."""
        inner = None
        for stage in self._inner:
            serialized = stage.encode_serialized(blob)
            if serialized is not None:
                inner = blob = serialized
        encoded = self._stages[-1].encode(blob)
        if encoded is not None:
            return encoded
        return payload if inner is None else Payload.FromString(inner)

    def _own_data(self, payloads: Sequence[Payload]) -> tuple[list[_Owned | None], int, int]:
        """The data of each payload that some stage decodes, the decoded size the outermost
        stages expect, and the bytes of that data: the two sizes decide where the work runs."""
        # Reading ``data`` copies it out of the protobuf, so read it once.
        owned: list[_Owned | None] = []
        size = data_size = 0
        for payload in payloads:
            start = self._start(payload)
            if start is None:
                owned.append(None)
                continue
            data = payload.data
            size += self._decode_order[start].decoded_size(data)
            data_size += len(data)
            owned.append((start, data))
        return owned, size, data_size

    def _start(self, payload: Payload) -> int | None:
        """Where decoding ``payload`` starts in decode order; ``None`` when no stage decodes it
        (it passes through)."""
        # (Not ``metadata[ENCODING]``: a protobuf map inserts a missing key when indexed.)
        return self._starts.get(payload.metadata.get(ENCODING))  # type: ignore[arg-type]

    def _decode_owned(
        self,
        payloads: Sequence[Payload],
        owned: list[_Owned | None],
        max_size: int,
        decoded: list[int] | None = None,
    ) -> list[Payload]:
        out = []
        for payload, own in zip(payloads, owned, strict=True):
            out.append(
                payload if own is None else self._decode_one(payload, *own, max_size, decoded)
            )
        return out

    def _decode_one(
        self,
        payload: Payload,
        start: int,
        data: bytes,
        max_size: int,
        decoded: list[int] | None = None,
    ) -> Payload:
        """Decode ``payload`` (whose data is ``data``) from the stage at ``start`` in decode
        order on, each stage in turn while the payload it gives carries the next encoding; the
        size of the serialized payload it ends with goes to ``decoded`` (reading it back from
        the payload would serialize it again)."""
        order = self._decode_order
        stage = order[start]
        while True:
            try:
                inner = stage.decode(payload, data, max_size)
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
            start += 1
            if start == len(order) or payload.metadata.get(ENCODING) != order[start].encoding:
                if decoded is not None:
                    decoded.append(len(inner))
                return payload
            stage, data = order[start], payload.data


LEARN_FROM_BYTES = 64 << 10
"""Calls this large teach the codec its cost per byte; smaller ones are dominated by per-call
costs (and are not timed, which would add to them)."""


TIME_FROM_BYTES = 16 << 10
"""A single payload with this much data or more may be a large call: one in ``TIME_EVERY`` of
them on the event loop is timed (and its decoded size asked, which learning needs)."""

TIME_EVERY = 8
"""Calls on the event loop that could teach the codec are timed one in this many: reading a
thread's CPU clock is a system call (0.7 us, twice per call, and updating the figures about as
much again), 10 % of an LZ4 decode of 64 KiB. A change in the data is still noticed within a few
calls. Calls on the executor, which are expected to take the offload budget, are always timed."""


def _learned(cost: float, size: int, elapsed_ns: int) -> float:
    """The cost per byte after a call of ``size`` bytes took ``elapsed_ns`` of CPU: at once
    the slower figure, or a quarter of the way down to a faster one. Races between threads lose
    an update, never correctness: the figure only decides where work runs."""
    if size < LEARN_FROM_BYTES:
        return cost
    seen = elapsed_ns / size
    return seen if seen > cost else 0.75 * cost + 0.25 * seen


def _every(period: int) -> Iterator[bool]:
    """``True`` for the first item and then every ``period``-th: the cheapest counter there is
    (one C call, and safe enough between threads: a lost count only shifts when timing
    happens)."""
    return itertools.cycle([True] + [False] * (period - 1))


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


_Owned = tuple[int, bytes]
"""Where a payload's decoding starts (see ``ChainCodec._starts``) and its data, read once on the
event loop."""


class _OverLoopLimit(Exception):
    """A payload decoded on the event loop passed the offload threshold: start it again on the
    executor, with the full decoded-size limit."""
