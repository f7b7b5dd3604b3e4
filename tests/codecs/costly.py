"""The pieces of input that cost a decoder most per byte, one family at a time: what
``test_linear_time`` builds hostile payloads from, and what ``python -m
experiments.input_costs`` measures each implementation's worst cost per input byte on."""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import cramjam
import lz4.frame
import zstandard

from payload_codecs._compression import SNAPPY_STREAM_IDENTIFIER


def _zlib_empty_blocks(wbits: int, count: int) -> bytes:
    """One deflate stream holding a byte and then ``count`` empty stored blocks."""
    obj = zlib.compressobj(6, zlib.DEFLATED, wbits)
    head = obj.compress(b"a") + obj.flush(zlib.Z_SYNC_FLUSH)
    return head + b"\x00\x00\x00\xff\xff" * count + obj.flush()


_SKIPPABLE = struct.pack("<II", 0x184D2A50, 0)
_CHUNK = bytes(cramjam.snappy.compress(b"a"))[len(SNAPPY_STREAM_IDENTIFIER) :]
PIECES: dict[str, dict[str, bytes]] = {
    "zstd": {
        "empty frame": zstandard.ZstdCompressor().compress(b""),
        "one-byte frame": zstandard.ZstdCompressor().compress(b"a"),
        "skippable frame": _SKIPPABLE,
        "frame of 4 KiB": zstandard.ZstdCompressor().compress(bytes(range(256)) * 16),
    },
    "lz4": {
        "empty frame": lz4.frame.compress(b""),
        "one-byte frame": lz4.frame.compress(b"a"),
        "skippable frame": _SKIPPABLE,
        "frame of 4 KiB": lz4.frame.compress(bytes(range(256)) * 16),
    },
    "gzip": {
        "empty member": gzip.compress(b"", mtime=0),
        "one-byte member": gzip.compress(b"a", mtime=0),
    },
    "zlib": {"empty stream": zlib.compress(b"")},
    "snappy": {
        "padding chunk": b"\xfe\x00\x00\x00",
        "skippable chunk": b"\x80\x00\x00\x00",
        "one-byte chunk": _CHUNK,
        "stream identifier": SNAPPY_STREAM_IDENTIFIER,
    },
}
WHOLE_STREAMS = {
    "gzip": lambda count: _zlib_empty_blocks(31, count),
    "zlib": lambda count: _zlib_empty_blocks(15, count),
}
"""Streams of a single frame whose size grows with ``count``."""


def repeated(family: str, names: list[str], size: int) -> bytes:
    """About ``size`` bytes of ``family``'s pieces ``names``, in that order, over and over
    (framed snappy after its stream identifier)."""
    unit = b"".join(PIECES[family][name] for name in names)
    head = SNAPPY_STREAM_IDENTIFIER if family == "snappy" else b""
    return head + unit * max(1, (size - len(head)) // len(unit))


def incompressible(family: str, size: int) -> bytes:
    """``size`` random bytes the way a streaming writer in ``family`` stores them (no stated
    size where the format allows it), which its decoders read at their slowest per byte."""
    data = os.urandom(size)
    if family == "zstd":
        obj = zstandard.ZstdCompressor(write_content_size=False).compressobj(size=-1)
        return obj.compress(data) + obj.flush()
    if family == "lz4":
        return bytes(lz4.frame.compress(data, store_size=False))
    if family in ("gzip", "zlib"):
        return zlib.compress(data, wbits=31 if family == "gzip" else 15)
    return bytes(cramjam.snappy.compress(data))
