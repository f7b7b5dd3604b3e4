"""Payload size buckets. Small payloads behave very differently from large ones (per-call cost
dominates, ratios are worse), so every figure is broken down by these."""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB
WARN_BYTES = 512 * KIB
"""The Temporal server warns about payloads above this size."""
LIMIT_BYTES = 2 * MIB
"""The Temporal server rejects payloads above this size."""


@dataclass(frozen=True)
class Bucket:
    """Serialized payload sizes in ``[low, high)``."""

    name: str
    low: int
    high: int

    def __contains__(self, size: object) -> bool:
        return isinstance(size, int) and self.low <= size < self.high


BUCKETS: tuple[Bucket, ...] = (
    Bucket("<1KiB", 0, KIB),
    Bucket("1-16KiB", KIB, 16 * KIB),
    Bucket("16-256KiB", 16 * KIB, 256 * KIB),
    Bucket("256KiB-1MiB", 256 * KIB, MIB),
    Bucket("1-2MiB", MIB, LIMIT_BYTES + 1),
    Bucket(">2MiB", LIMIT_BYTES + 1, 1 << 62),
)
_BY_NAME = {bucket.name: bucket for bucket in BUCKETS}


def size_text(size: int) -> str:
    """``256 KiB``, ``1 MiB``, ``512 B``: a size limit or threshold as people write it."""
    for unit, scale in (("MiB", MIB), ("KiB", KIB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def amount_of_bytes(count: float | None, mib_digits: int = 1) -> str:
    """``1.5 MiB``, ``3.0 KiB``, ``512 B``; ``-`` for no figure. Tables of sizes near a limit
    (4.00 against 4.07 MiB) ask for more digits in MiB."""
    if count is None:
        return "-"
    if abs(count) >= 1 << 20:
        return f"{count / (1 << 20):,.{mib_digits}f} MiB"
    if abs(count) >= 1 << 10:
        return f"{count / (1 << 10):,.1f} KiB"
    return f"{count:,.0f} B"


def bucket_of(size: int) -> Bucket:
    """The bucket that holds a payload of ``size`` serialized bytes."""
    for bucket in BUCKETS:
        if size in bucket:
            return bucket
    raise ValueError(f"negative size {size}")


def parse_buckets(text: str) -> tuple[Bucket, ...]:
    """Comma-separated bucket names; ``ValueError`` naming the valid ones otherwise."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in _BY_NAME]
    if unknown or not names:
        raise ValueError(
            f"unknown size bucket {', '.join(unknown) or repr(text)}; choose from: "
            f"{', '.join(_BY_NAME)}"
        )
    return tuple(_BY_NAME[name] for name in names)
