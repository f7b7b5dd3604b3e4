"""What a key management service costs in the codec layer, side by side with static keys.

The timing rounds measure a codec warm: its data key made long before. What they cannot show is
what envelope encryption adds around them: the first call of a fresh process (a data key to make,
or to unwrap, through the KMS), how many KMS calls a thousand payloads take, and what a payload
costs once keys are cached. Here every encrypting codec of the run (``aes256gcm`` as the
comparison) is built afresh, as a new worker would, and called as the SDK calls it: one payload
per call, on an event loop.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from temporalio.api.common.v1 import Payload

from payload_codecs import ChainCodec, EnvelopeStage, from_spec

COLD_STARTS = 5
"""Fresh codecs timed for the first call; the median is reported."""
WARM_PAYLOADS = 1000
"""Payloads encoded and decoded one per call after the first, for calls and warm cost."""


def kms_costs(
    chains: Sequence[tuple[str, ChainCodec]], payloads: Sequence[Payload]
) -> dict[str, dict[str, Any]]:
    """For each encrypting codec (label, codec): cold and warm cost per payload and KMS calls
    per 1,000 payloads, each codec built afresh from its spec with the keys ``codec`` has."""
    sample = list(payloads[:WARM_PAYLOADS]) or [Payload(data=b"{}")]
    out: dict[str, dict[str, Any]] = {}
    for label, codec in chains:
        if not codec.encrypts:
            continue
        fresh = _fresh_maker(codec)
        out[label] = asyncio.run(_measure(fresh, sample))
    return out


def _fresh_maker(codec: ChainCodec) -> Callable[[], ChainCodec]:
    """Codecs like ``codec`` with nothing cached: the same stages' keys and providers."""
    envelope = _envelope(codec)

    def fresh() -> ChainCodec:
        if envelope is None:
            return codec  # static keys: nothing to fetch, so the same codec is as fresh
        return from_spec(codec.spec, kms=envelope.provider, data_keys=envelope.policy)

    return fresh


def _envelope(codec: ChainCodec) -> EnvelopeStage | None:
    return codec.keyed[0] if codec.keyed else None


async def _measure(fresh: Callable[[], ChainCodec], sample: list[Payload]) -> dict[str, Any]:
    cold_encode, cold_decode = [], []
    for _ in range(COLD_STARTS):
        writer, reader = fresh(), fresh()
        encoded, elapsed = await _timed(writer.encode, sample[:1])
        cold_encode.append(elapsed)
        cold_decode.append((await _timed(reader.decode, encoded))[1])
    writer, reader = fresh(), fresh()
    payloads = [sample[i % len(sample)] for i in range(WARM_PAYLOADS)]
    encoded, encode_s = [], 0.0
    for index, payload in enumerate(payloads):
        out, elapsed = await _timed(writer.encode, [payload])
        encoded += out
        encode_s += elapsed if index else 0.0  # the first call is the cold one above
    decode_s = 0.0
    for index, payload in enumerate(encoded):
        elapsed = (await _timed(reader.decode, [payload]))[1]
        decode_s += elapsed if index else 0.0
    envelope_w, envelope_r = _envelope(writer), _envelope(reader)
    return {
        "cold_encode_ms": statistics.median(cold_encode) * 1e3,
        "cold_decode_ms": statistics.median(cold_decode) * 1e3,
        "warm_encode_us": encode_s / (WARM_PAYLOADS - 1) * 1e6,
        "warm_decode_us": decode_s / (WARM_PAYLOADS - 1) * 1e6,
        "payloads": WARM_PAYLOADS,
        "generate_per_1000": 0 if envelope_w is None else envelope_w.calls["generate"],
        "unwrap_per_1000": 0 if envelope_r is None else envelope_r.calls["unwrap"],
        "provider": None if envelope_w is None else envelope_w.provider.describe(),
        "policy": None if envelope_w is None else asdict(envelope_w.policy),
    }


async def _timed(
    call: Callable[[Sequence[Payload]], Any], payloads: Sequence[Payload]
) -> tuple[list[Payload], float]:
    start = time.perf_counter()
    out: list[Payload] = await call(payloads)
    return out, time.perf_counter() - start
