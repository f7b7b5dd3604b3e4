"""Bytes-to-bytes compression algorithms, one class per algorithm and implementation.

A :class:`Compressor` is what the raw benchmark layer times and what a compression stage wraps,
so the bytes a user measures are the bytes their workers write. Each class names the library and
native version that does the work, because "snappy" or "zstd" alone does not say which code ran.
"""

from __future__ import annotations

import threading
import zlib
from abc import ABC, abstractmethod
from typing import ClassVar

import cramjam
import zstandard

SNAPPY_STREAM_IDENTIFIER = b"\xff\x06\x00\x00sNaPpY"
"""First chunk of every snappy framed stream; a raw snappy block cannot start with it when it
holds a serialized Payload (which never starts with a zero byte)."""

_CRAMJAM = f"cramjam {cramjam.__version__}"


class Compressor(ABC):
    """One compression algorithm at one level, in one implementation.

    Instances are immutable and safe to share between threads: the codec runs large payloads on
    executor threads. ``decompress`` returns any bytes-like object (some libraries hand back their
    own buffer type); callers that need ``bytes`` convert it themselves, once.
    """

    implementation: ClassVar[str]
    """Short name used after ``@`` in a spec string."""

    library: ClassVar[str]
    """The library that does the work, with its version and the native code inside it."""

    def __init__(self, level: int | None) -> None:
        self.level = level

    @abstractmethod
    def compress(self, data: bytes) -> bytes:
        """Compress ``data`` into the family's wire format."""

    @abstractmethod
    def decompress(self, data: bytes | memoryview) -> bytes | memoryview:
        """Decompress what :meth:`compress` (or a peer implementation of the format) wrote."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level={self.level!r})"


class SnappyCramjam(Compressor):
    """Snappy framed stream out (what the Temporal Python docs write), framed or raw block in
    (the Go samples write a raw block with ``snappy.Encode``)."""

    implementation = "cramjam"
    library = f"{_CRAMJAM} (Rust snap crate, not Google's C++ snappy)"

    def compress(self, data: bytes) -> bytes:
        return bytes(cramjam.snappy.compress(data))

    def decompress(self, data: bytes | memoryview) -> memoryview:
        if data[: len(SNAPPY_STREAM_IDENTIFIER)] == SNAPPY_STREAM_IDENTIFIER:
            return memoryview(cramjam.snappy.decompress(data))
        return memoryview(cramjam.snappy.decompress_raw(data))


class ZstdZstandard(Compressor):
    """zstd frames with the content size in the header, via python-zstandard."""

    implementation = "zstandard"
    library = (
        f"zstandard {zstandard.__version__} (libzstd {'.'.join(map(str, zstandard.ZSTD_VERSION))})"
    )

    def __init__(self, level: int | None) -> None:
        super().__init__(level)
        self._local = _ZstdContexts(3 if level is None else level)

    def compress(self, data: bytes) -> bytes:
        return self._local.compressor.compress(data)

    def decompress(self, data: bytes | memoryview) -> bytes:
        decompressor = self._local.decompressor
        try:
            return decompressor.decompress(data)
        except zstandard.ZstdError:
            # Frames from streaming writers (other SDKs, the zstd CLI on a pipe) may omit the
            # content size that the one-shot call needs; the streaming reader does not need it.
            return decompressor.decompressobj().decompress(data)


class _ZstdContexts(threading.local):
    """zstandard's contexts are reusable (cheaper than new ones) but not thread safe: one pair
    per thread, made on the thread's first use."""

    def __init__(self, level: int) -> None:
        self.compressor = zstandard.ZstdCompressor(level=level)
        self.decompressor = zstandard.ZstdDecompressor()


class ZstdCramjam(Compressor):
    """zstd frames via cramjam (Rust bindings to libzstd)."""

    implementation = "cramjam"
    library = f"{_CRAMJAM} (zstd crate, bundled libzstd)"

    def compress(self, data: bytes) -> bytes:
        return bytes(cramjam.zstd.compress(data, level=self.level))

    def decompress(self, data: bytes | memoryview) -> memoryview:
        return memoryview(cramjam.zstd.decompress(data))


class Lz4Cramjam(Compressor):
    """LZ4 *frame* format (not block): the frame is self-describing (magic, content size,
    checksum) and is what every lz4 implementation reads without a side-channel length, so
    codec servers in Go (pierrec/lz4), Java (lz4-java) or the ``lz4`` CLI can decode it. Block
    format would save about 15 bytes per payload but needs a private length prefix."""

    implementation = "cramjam"
    library = f"{_CRAMJAM} (lz4 crate, bundled liblz4)"

    def compress(self, data: bytes) -> bytes:
        return bytes(cramjam.lz4.compress(data, level=self.level))

    def decompress(self, data: bytes | memoryview) -> memoryview:
        return memoryview(cramjam.lz4.decompress(data))


class GzipZlib(Compressor):
    """gzip (RFC 1952) single member via the standard library's zlib."""

    implementation = "zlib"
    library = f"python zlib (zlib {zlib.ZLIB_RUNTIME_VERSION})"

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, -1 if self.level is None else self.level, wbits=31)

    def decompress(self, data: bytes | memoryview) -> bytes:
        return zlib.decompress(data, wbits=31)


class GzipCramjam(Compressor):
    """gzip (RFC 1952) via cramjam."""

    implementation = "cramjam"
    library = f"{_CRAMJAM} (flate2 crate)"

    def compress(self, data: bytes) -> bytes:
        return bytes(cramjam.gzip.compress(data, level=self.level))

    def decompress(self, data: bytes | memoryview) -> memoryview:
        return memoryview(cramjam.gzip.decompress(data))


class ZlibZlib(Compressor):
    """zlib (RFC 1950) stream via the standard library: what Go's ``converter.NewZlibCodec``
    writes and reads."""

    implementation = "zlib"
    library = GzipZlib.library

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, -1 if self.level is None else self.level)

    def decompress(self, data: bytes | memoryview) -> bytes:
        return zlib.decompress(data)


class ZlibCramjam(Compressor):
    """zlib (RFC 1950) stream via cramjam."""

    implementation = "cramjam"
    library = GzipCramjam.library

    def compress(self, data: bytes) -> bytes:
        return bytes(cramjam.zlib.compress(data, level=self.level))

    def decompress(self, data: bytes | memoryview) -> memoryview:
        return memoryview(cramjam.zlib.decompress(data))
