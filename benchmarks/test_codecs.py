"""Codec speed through pytest-benchmark, for CI jobs that track it the way pytest-benchmark users
do (``--benchmark-autosave``, ``--benchmark-compare-fail=min:10%``) and for the chart tools that
read its JSON. Not part of ``nox -s tests``: ``nox -s microbench`` runs it.

Each family's default spec, encode and decode, on the built-in ``sizes`` corpus (Temporal-shaped
JSON records of 1 KiB, 64 KiB, 256 KiB and 1 MiB), one payload per call through the codec's
synchronous path (the work the SDK's async call does, without the event loop). Grouped by
direction and size; ratio, sizes and median MB/s in ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bench.corpus import catalog
from temporalio.api.common.v1 import Payload

from payload_codecs import Keyring, from_spec

SPECS = ["snappy", "zstd:3", "lz4", "gzip:6", "zlib:6", "aes256gcm", "zstd:3+aes256gcm"]
KEYRING = Keyring.generate("microbench")


def _by_size() -> dict[str, Payload]:
    """The first payload of each size in the corpus, named by its size."""
    found: dict[str, Payload] = {}
    for payload in catalog.load("sizes").payloads:
        size = payload.ByteSize()
        label = f"{round(size / 1024)}KiB" if size < 1 << 20 else f"{round(size / (1 << 20))}MiB"
        found.setdefault(label, payload)
    return found


PAYLOADS = _by_size()


@pytest.mark.parametrize("size", list(PAYLOADS))
@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("side", ["encode", "decode"])
def test_codec(benchmark: Any, spec: str, size: str, side: str) -> None:
    codec = from_spec(spec, keyring=KEYRING)
    payload = PAYLOADS[size]
    [encoded] = codec.encode_sync([payload])
    work: Callable[[], list[Payload]] = (
        (lambda: codec.encode_sync([payload]))
        if side == "encode"
        else (lambda: codec.decode_sync([encoded]))
    )
    benchmark.group = f"{side} {size}"
    benchmark.extra_info.update(
        spec=codec.spec,
        original_bytes=payload.ByteSize(),
        encoded_bytes=encoded.ByteSize(),
        ratio=payload.ByteSize() / encoded.ByteSize(),
    )
    result = benchmark(work)
    assert codec.decode_sync(result) == [payload] if side == "encode" else result == [payload]
    if benchmark.stats is not None:  # None under --benchmark-disable
        median = benchmark.stats.stats.median
        benchmark.extra_info["mbps_median"] = payload.ByteSize() / median / 1e6
