"""What the PayloadCodec path adds to the bare compression call, side by side in one run.

The raw call is the family's :class:`~payload_codecs.Compressor` on the serialized payload; the
codec call is ``await codec.encode([payload])`` (and decode) as the SDK makes it, on a running
event loop. Both are interleaved round by round so machine drift hits them alike, and the best
round is kept (the least disturbed one), as lzbench does.
"""

from __future__ import annotations

import asyncio
import itertools
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.common.v1 import Payload

from payload_codecs import ChainCodec, RecordingCodec, serialize


@dataclass(frozen=True)
class Overhead:
    """Best time per payload of the raw call and of the codec call, in nanoseconds, and of the
    protobuf steps that any PayloadCodec adds to the raw call (the floor of what it adds)."""

    spec: str
    size: int
    raw_encode_ns: float
    codec_encode_ns: float
    raw_decode_ns: float
    codec_decode_ns: float
    protobuf_encode_ns: float = 0.0
    """Serializing the payload, and building the outer payload around the raw output."""
    protobuf_decode_ns: float = 0.0
    """Reading the outer payload's encoding and data, parsing each payload between a chain's
    stages and reading its encoding and data, and parsing the inner payload."""
    faults: tuple[float, ...] = field(default=(0.0, 0.0, 0.0, 0.0), kw_only=True)
    """Minor page faults per call, over all rounds: raw encode, codec encode, raw decode, codec
    decode. Where glibc returned freed buffers to the kernel, each call faults its pages in
    again, which can cost more than the work itself (see ``experiments/page_faults.py``)."""

    @property
    def encode_share(self) -> float:
        """Codec throughput as a share of raw throughput (1.0 = no overhead)."""
        return self.raw_encode_ns / self.codec_encode_ns

    @property
    def decode_share(self) -> float:
        return self.raw_decode_ns / self.codec_decode_ns

    @property
    def encode_ceiling(self) -> float:
        """The best encode share any PayloadCodec could reach here: the bare call plus the
        protobuf steps alone."""
        return self.raw_encode_ns / (self.raw_encode_ns + self.protobuf_encode_ns)

    @property
    def decode_ceiling(self) -> float:
        return self.raw_decode_ns / (self.raw_decode_ns + self.protobuf_decode_ns)


def _best(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    """Nanoseconds and minor page faults (the whole process's: executor threads included) per
    call of ``fn``, over ``calls`` calls."""
    faults = _minor_faults()
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls, (_minor_faults() - faults) / calls


async def _best_async(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    faults = _minor_faults()
    start = time.perf_counter_ns()
    for _ in range(calls):
        await fn()  # type: ignore[misc]
    return (time.perf_counter_ns() - start) / calls, (_minor_faults() - faults) / calls


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def require_stages(codec: ChainCodec) -> None:
    """:class:`ValueError` unless ``codec`` has a stage, whose bare calls the codec path can be
    compared with."""
    if not codec.stages:
        raise ValueError(
            f"{codec.spec!r} has no stage: nothing to compare the codec path with; "
            "name a compression or encryption spec"
        )


async def measure_overhead(
    codec: ChainCodec, payload: Payload, rounds: int = 15, budget_ns: int = 1_000_000_000
) -> Overhead:
    """Codec time per payload against the bare library calls of all its stages, chained
    (compress, then encrypt what it gave; decrypt, then decompress)."""
    require_stages(codec)
    stages = codec.stages
    blob = serialize(payload)

    def raw_encode() -> bytes:
        data = blob
        for stage in stages:
            data = stage.raw_encode(data)
        return data

    def raw_decode() -> object:
        data: bytes | memoryview = raw_encoded
        for stage in reversed(stages):
            data = stage.raw_decode(bytes(data))
        return data

    raw_encoded = raw_encode()
    [encoded] = await codec.encode([payload])
    if (await codec.decode([encoded]))[0] != payload:
        raise AssertionError(f"{codec.spec!r} did not round-trip the payload")
    protobuf_encode, protobuf_decode = _protobuf_steps(codec, payload, blob, encoded, raw_encoded)

    # Batch calls so each timed block lasts about budget_ns / rounds: tiny calls are too short
    # to time alone.
    first, _ = _best(raw_encode, 1)
    calls = max(1, int(budget_ns / rounds / max(first, 1.0)))
    best = [float("inf")] * 6
    faults = [0.0] * 4
    for _ in range(rounds):
        samples = (
            _best(raw_encode, calls),
            await _best_async(lambda: codec.encode([payload]), calls),
            _best(raw_decode, calls),
            await _best_async(lambda: codec.decode([encoded]), calls),
            _best(protobuf_encode, calls),
            _best(protobuf_decode, calls),
        )
        best = [min(b, ns) for b, (ns, _) in zip(best, samples, strict=True)]
        # Faults of the first four: the raw and codec paths (the protobuf steps only set a floor).
        faults = [f + faulted / rounds for f, (_, faulted) in zip(faults, samples, strict=False)]
    return Overhead(codec.spec, len(payload.data), *best, faults=tuple(faults))


def _protobuf_steps(
    codec: ChainCodec, payload: Payload, blob: bytes, encoded: Payload, raw_encoded: bytes
) -> tuple[Callable[[], object], Callable[[], object]]:
    """The protobuf work of encoding ``payload`` (serialized: ``blob``) to ``encoded`` and back,
    without the stages' own: what any PayloadCodec in this wire format adds to the bare calls."""
    envelope = Payload()
    envelope.CopyFrom(encoded)
    envelope.ClearField("data")
    layers = _between_stages(codec, encoded)

    def protobuf_encode() -> Payload:
        serialize(payload)
        outer = Payload()
        outer.CopyFrom(envelope)
        outer.data = raw_encoded
        return outer

    def protobuf_decode() -> Payload:
        encoded.metadata.get("encoding")
        encoded.data  # noqa: B018 (reading it is the copy being timed)
        for layer in layers:
            between = Payload.FromString(layer)
            between.metadata.get("encoding")
            between.data  # noqa: B018
        return Payload.FromString(blob)

    return protobuf_encode, protobuf_decode


def _between_stages(codec: ChainCodec, encoded: Payload) -> list[bytes]:
    """The serialized payloads that decoding ``encoded`` meets between the chain's stages,
    outermost first: none for one stage, nor where an inner stage left the payload as it was.
    Parsing them is protobuf work that any chain in this wire format does."""
    layers = []
    order = codec.stages[::-1]
    payload = encoded
    for outer, inner in itertools.pairwise(order):
        if payload.metadata.get("encoding") != outer.encoding:
            break
        layer = bytes(outer.decode(payload, payload.data, codec.options.max_decoded_size))
        payload = Payload.FromString(layer)
        if payload.metadata.get("encoding") != inner.encoding:
            break
        layers.append(layer)
    return layers


def run_overhead(codec: ChainCodec, payload: Payload) -> Overhead:
    """:func:`measure_overhead` on a fresh event loop."""
    return asyncio.run(measure_overhead(codec, payload))


@dataclass(frozen=True)
class RecordingCost:
    """Best time per ``encode`` call of a codec, alone and wrapped in a RecordingCodec."""

    spec: str
    rate: float
    size: int
    plain_ns: float
    recording_ns: float


async def measure_recording_cost(
    codec: ChainCodec,
    payload: Payload,
    rate: float,
    folder: Path,
    *,
    rounds: int = 15,
    calls: int = 2000,
) -> RecordingCost:
    """What wrapping ``codec`` in a recording codec at ``rate`` adds to each encode call.

    The recorder writes into ``folder`` and is closed before returning.
    """
    recorder = RecordingCodec(folder / "recording-cost.corpus", inner=codec, rate=rate, seed=1)
    try:
        best = [float("inf")] * 2
        for _ in range(rounds):
            samples = (
                await _best_async(lambda: codec.encode([payload]), calls),
                await _best_async(lambda: recorder.encode([payload]), calls),
            )
            best = [min(b, ns) for b, (ns, _) in zip(best, samples, strict=True)]
    finally:
        recorder.close()
    return RecordingCost(codec.spec, rate, len(payload.data), *best)
