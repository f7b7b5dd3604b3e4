"""A corpus at a glance: counts, sizes by bucket, encodings, what was skipped, where it came
from, and a quick compressibility estimate."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import zstandard
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload

from bench.results.buckets import (
    BUCKETS,
    LIMIT_BYTES,
    MIB,
    WARN_BYTES,
    amount_of_bytes,
    bucket_of,
)
from payload_codecs import CorpusFormatError

ESTIMATE_BYTES = 16 * MIB
"""Compressibility is estimated on the first this many bytes, so describe stays quick."""


@dataclass(frozen=True)
class Summary:
    payload_count: int
    total_bytes: int
    """Serialized payload bytes, metadata included: what a codec is handed."""
    buckets: dict[str, dict[str, int]]
    encodings: dict[str, int]
    skipped: dict[str, int]
    over_warning: int
    """Payloads above the server's 512 KiB warning size."""
    over_limit: int
    """Payloads above the server's 2 MiB limit."""
    zstd1_ratio: float | None
    """Original over compressed bytes with zstd level 1 on the sample; ``None`` when empty."""
    sample_bytes: int
    provenance: dict[str, Any]
    sha256: str = ""
    """Of the serialized payloads in order: the digest results record for the corpus."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        lines = [
            f"payloads      {self.payload_count}",
            f"total bytes   {self.total_bytes:,} ({amount_of_bytes(self.total_bytes)})",
            "size buckets  "
            + ", ".join(
                f"{name}: {stats['count']}"
                for name, stats in self.buckets.items()
                if stats["count"]
            ),
            "encodings     " + ", ".join(f"{name}: {n}" for name, n in self.encodings.items()),
            f"over 512 KiB  {self.over_warning}   over 2 MiB  {self.over_limit}",
            "skipped       " + (", ".join(f"{k}: {v}" for k, v in self.skipped.items()) or "none"),
        ]
        if self.zstd1_ratio is not None:
            lines.append(
                f"zstd:1 ratio  {self.zstd1_ratio:.2f} (quick estimate on "
                f"{self.sample_bytes / MIB:.1f} MiB)"
            )
        lines.append("provenance    " + ", ".join(f"{k}={v}" for k, v in self.provenance.items()))
        lines.append(f"sha256        {self.sha256}")
        return "\n".join(lines)


def summarize(
    blobs: Iterable[bytes], provenance: Mapping[str, Any], skipped: Mapping[str, int]
) -> Summary:
    """Summary of serialized payloads, read once as a stream."""
    buckets = {bucket.name: {"count": 0, "bytes": 0} for bucket in BUCKETS}
    encodings: Counter[str] = Counter()
    compressor = zstandard.ZstdCompressor(level=1)
    hasher = hashlib.sha256()
    count = total = warn = limit = sample = compressed = 0
    for blob in blobs:
        hasher.update(blob)
        size = len(blob)
        count += 1
        total += size
        stats = buckets[bucket_of(size).name]
        stats["count"] += 1
        stats["bytes"] += size
        warn += size > WARN_BYTES
        limit += size > LIMIT_BYTES
        try:
            encoding = Payload.FromString(blob).metadata.get("encoding", b"(none)")
        except DecodeError:
            raise CorpusFormatError(
                f"payload {count} of the corpus passes its checksum but is not a Payload; the "
                "file was not written by codec-bench"
            ) from None
        encodings[encoding.decode("utf-8", "replace")] += 1
        if sample < ESTIMATE_BYTES:
            sample += size
            compressed += len(compressor.compress(blob))
    return Summary(
        payload_count=count,
        total_bytes=total,
        buckets=buckets,
        encodings=dict(encodings.most_common()),
        skipped=dict(skipped),
        over_warning=warn,
        over_limit=limit,
        zstd1_ratio=round(sample / compressed, 4) if compressed else None,
        sample_bytes=sample,
        provenance=dict(provenance),
        sha256=hasher.hexdigest(),
    )
