"""Decompression bombs, built on the fly (nothing large is committed), and a child process that
decodes one under a memory limit and reports its peak memory.

``python -m tests.codecs.bombs SHAPE SPEC LIMIT`` prints one JSON line: the error the codec
raised and the growth of the process's peak resident memory while decoding.
"""

from __future__ import annotations

import json
import resource
import sys
import zlib
from collections.abc import Callable

import cramjam
import lz4.frame
import zstandard
from temporalio.api.common.v1 import Payload

from payload_codecs._stages import _data_header

MIB = 1 << 20
_ZEROS = bytes(MIB)
SIZE_MIB = 256
"""What every bomb decodes to: far above the limits the tests set."""


def _zstd_frames() -> bytes:
    return zstandard.ZstdCompressor(level=1).compress(_ZEROS) * SIZE_MIB


def _zstd_streamed(declare: bool) -> bytes:
    cctx = zstandard.ZstdCompressor(level=1, write_content_size=declare)
    obj = cctx.compressobj(size=SIZE_MIB * MIB if declare else -1)
    return b"".join(obj.compress(_ZEROS) for _ in range(SIZE_MIB)) + obj.flush()


def _zstd_large_window() -> bytes:
    """A streamed frame (no stated size) asking for a 128 MiB window: the decoder would
    allocate it before decoding anything."""
    params = zstandard.ZstdCompressionParameters.from_level(
        1, window_log=27, write_content_size=False
    )
    obj = zstandard.ZstdCompressor(compression_params=params).compressobj(size=-1)
    return b"".join(obj.compress(_ZEROS) for _ in range(SIZE_MIB)) + obj.flush()


def _deflate(wbits: int) -> bytes:
    obj = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return b"".join(obj.compress(_ZEROS) for _ in range(SIZE_MIB)) + obj.flush()


def _lz4_streamed(declare: bool) -> bytes:
    obj = lz4.frame.LZ4FrameCompressor(content_checksum=False)
    head = obj.begin(source_size=SIZE_MIB * MIB if declare else 0)
    body = b"".join(obj.compress(_ZEROS) for _ in range(SIZE_MIB))
    return bytes(head) + body + bytes(obj.flush())


def _snappy_raw_declaring_4_gib() -> bytes:
    return b"\xff\xff\xff\xff\x0f\x00\x00"  # varint 2^32 - 1, then nothing to back it


def _snappy_framed_stating(mib: int) -> bytes:
    """A framed stream of one compressed chunk whose block states ``mib`` MiB and holds one
    literal byte: 24 bytes that a decoder trusting the stated size would zero megabytes for."""
    # A snappy block starts with its length as a varint, as a protobuf length prefix is
    # written: the codec's own writer of one, without the field's tag byte.
    varint = _data_header(mib * MIB)[1:]
    body = b"\x00\x00\x00\x00" + varint + b"\x00a"  # CRC, length, one literal
    return b"\xff\x06\x00\x00sNaPpY" + bytes([0x00]) + len(body).to_bytes(3, "little") + body


BOMBS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "zstd-frames": ("binary/zstd", _zstd_frames),
    "zstd-declared": ("binary/zstd", lambda: _zstd_streamed(True)),
    "zstd-undeclared": ("binary/zstd", lambda: _zstd_streamed(False)),
    "zstd-large-window": ("binary/zstd", _zstd_large_window),
    "gzip": ("binary/gzip", lambda: _deflate(31)),
    "gzip-members": ("binary/gzip", lambda: zlib.compress(_ZEROS, 9, wbits=31) * SIZE_MIB),
    "zlib": ("binary/zlib", lambda: _deflate(15)),
    "lz4-frames": ("binary/lz4", lambda: bytes(cramjam.lz4.compress(_ZEROS)) * SIZE_MIB),
    "lz4-declared": ("binary/lz4", lambda: _lz4_streamed(True)),
    "lz4-undeclared": ("binary/lz4", lambda: _lz4_streamed(False)),
    "snappy-framed": ("binary/snappy", lambda: bytes(cramjam.snappy.compress(_ZEROS)) * SIZE_MIB),
    "snappy-raw": ("binary/snappy", _snappy_raw_declaring_4_gib),
    "snappy-framed-stating-8-mib": ("binary/snappy", lambda: _snappy_framed_stating(8)),
}


def bomb(shape: str) -> Payload:
    encoding, build = BOMBS[shape]
    return Payload(metadata={"encoding": encoding.encode()}, data=build())


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(f"{field}:"))
    return int(line.split()[1])


def _reset_peak() -> None:
    """Linux: writing 5 to clear_refs sets the peak resident size (VmHWM) to the current one,
    so the next peak is the decoder's alone."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def main() -> None:
    from payload_codecs import CodecOptions, PayloadDecodeError, from_spec

    shape, spec, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    codec = from_spec(spec, options=CodecOptions(max_decoded_size=limit))
    payload = bomb(shape)
    # A regression that allocates what the bomb asks for fails here instead of the machine.
    cap = _status_kib("VmData") * 1024 + 8 * limit + 256 * MIB
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    _reset_peak()
    before = _status_kib("VmRSS")
    try:
        codec.decode_sync([payload])
        error = "none"
    except PayloadDecodeError as caught:
        error = type(caught).__name__
    except MemoryError:
        error = "MemoryError"
    print(json.dumps({"error": error, "growth": (_status_kib("VmHWM") - before) * 1024}))


if __name__ == "__main__":
    main()
