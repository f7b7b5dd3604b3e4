"""``codec-bench stall``: the event loop's longest stall while a codec works on it, kept on the
loop, with default options, and offloaded (the monitor is ``bench.loopstall``)."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from bench.loopstall import StallMonitor


async def codec_stalls(
    codec: PayloadCodec, payloads: Sequence[Payload], repeats: int = 5
) -> tuple[list[int], list[int]]:
    """The loop's longest stall in nanoseconds during each of ``repeats`` calls of ``codec``
    encoding, then decoding, ``payloads``; every round trip is checked."""
    encodes: list[int] = []
    decodes: list[int] = []
    for _ in range(repeats):
        async with StallMonitor() as monitor:
            encoded = await codec.encode(payloads)
        assert monitor.result is not None
        encodes.append(monitor.result.longest_ns)
        async with StallMonitor() as monitor:
            decoded = await codec.decode(encoded)
        assert monitor.result is not None
        decodes.append(monitor.result.longest_ns)
        if list(decoded) != list(payloads):
            raise AssertionError(f"{codec!r} did not round-trip the payloads")
    return encodes, decodes
