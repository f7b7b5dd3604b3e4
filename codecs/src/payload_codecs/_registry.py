"""The one table of codec families. Adding a compression codec is one :class:`Compressor`
subclass and one row here; nothing else changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from payload_codecs import _compression as c
from payload_codecs._envelope import AwsKms, KeyProvider, LocalKeys


class Kind(Enum):
    """What a family's stage does to a payload."""

    IDENTITY = "identity"
    COMPRESSION = "compression"
    ENCRYPTION = "encryption"


@dataclass(frozen=True)
class Levels:
    """The levels a family accepts, as inclusive ranges, and the one used when none is given."""

    ranges: tuple[tuple[int, int], ...]
    default: int

    def __contains__(self, level: object) -> bool:
        return isinstance(level, int) and any(lo <= level <= hi for lo, hi in self.ranges)

    def __str__(self) -> str:
        return ", ".join(f"{lo}..{hi}" if lo != hi else str(lo) for lo, hi in self.ranges)


@dataclass(frozen=True)
class Family:
    """One codec family as a spec string names it (``name[:level][@implementation]``)."""

    name: str
    kind: Kind
    summary: str
    encoding: str | None = None
    """Value of the payload's ``encoding`` metadata that this family writes and decodes."""
    levels: Levels | None = None
    """``None`` for families without levels."""
    implementations: Mapping[str, type[c.Compressor]] = field(default_factory=dict)
    """Compression implementations by name; the first one is the default."""
    providers: Mapping[str, type[KeyProvider]] = field(default_factory=dict)
    """Key management services by name, for envelope encryption; the first one is the
    default."""

    @property
    def choices(self) -> tuple[str, ...]:
        """What ``@implementation`` may name: compressors or key providers."""
        return (*self.implementations, *self.providers)

    @property
    def default_implementation(self) -> str | None:
        return next(iter(self.choices), None)

    def describe(self) -> str:
        """One line for listings: name, encoding, levels and implementations."""
        parts = [self.name.ljust(10), (self.encoding or "-").ljust(18)]
        if self.levels is not None:
            parts.append(f"levels {self.levels} (default {self.levels.default})")
        if self.choices:
            impls = ", ".join(
                f"{name} (default)" if name == self.default_implementation else name
                for name in self.choices
            )
            parts.append(f"implementations {impls}")
        return "  ".join([*parts, f"- {self.summary}"])


def _impls(*classes: type[c.Compressor]) -> dict[str, type[c.Compressor]]:
    return {cls.implementation: cls for cls in classes}


FAMILIES: tuple[Family, ...] = (
    Family("none", Kind.IDENTITY, "identity baseline: payloads unchanged"),
    Family(
        "snappy",
        Kind.COMPRESSION,
        "snappy framed stream (Python docs); @cramjam-raw writes the Go samples' raw block; "
        "both are read",
        encoding="binary/snappy",
        implementations=_impls(c.SnappyCramjam, c.SnappyRawCramjam),
    ),
    Family(
        "zstd",
        Kind.COMPRESSION,
        "Zstandard frame; negative levels trade ratio for speed",
        encoding="binary/zstd",
        levels=Levels(((-(1 << 17), -1), (1, 22)), default=3),
        implementations=_impls(c.ZstdZstandard, c.ZstdCramjam),
    ),
    Family(
        "lz4",
        Kind.COMPRESSION,
        "LZ4 frame; levels 3 and up are the slow high-compression mode",
        encoding="binary/lz4",
        levels=Levels(((1, 12),), default=1),
        implementations=_impls(c.Lz4Lz4, c.Lz4Cramjam),
    ),
    Family(
        "gzip",
        Kind.COMPRESSION,
        "gzip member (Python external-storage sample)",
        encoding="binary/gzip",
        levels=Levels(((1, 9),), default=6),
        implementations=_impls(c.GzipZlib, c.GzipCramjam),
    ),
    Family(
        "zlib",
        Kind.COMPRESSION,
        "zlib stream, interoperable with the Go SDK's converter.NewZlibCodec",
        encoding="binary/zlib",
        levels=Levels(((1, 9),), default=6),
        implementations=_impls(c.ZlibZlib),
    ),
    Family(
        "aes256gcm",
        Kind.ENCRYPTION,
        "AES-256-GCM, wire format of the official encryption samples; needs a keyring",
        encoding="binary/encrypted",
    ),
    Family(
        "envelope",
        Kind.ENCRYPTION,
        "AES-256-GCM under data keys a KMS makes and wraps (envelope encryption); "
        "@local wraps with a keyring, for development",
        encoding="binary/encrypted-envelope",
        providers={AwsKms.name: AwsKms, LocalKeys.name: LocalKeys},
    ),
)

_BY_NAME = {family.name: family for family in FAMILIES}


def families() -> tuple[Family, ...]:
    """Every codec family a spec string can name, in listing order."""
    return FAMILIES


def family(name: str) -> Family:
    """The family called ``name``; ``ValueError`` naming the valid ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown codec {name!r}; choose one of: {', '.join(_BY_NAME)}") from None
