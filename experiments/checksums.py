"""What the formats' own checksums cost here: zstd's content checksum (XXH64, 4 bytes of it)
and LZ4's content checksum and block checksums (xxHash-32), per payload size, encoding and
decoding, each against the same format without it, side by side in one process (best of many
rounds, in CPU time, with the two variants interleaved so that drift hits both alike). The
figures chose the defaults in ``payload_codecs._compression``.

    python -m experiments.checksums

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import lz4.frame
import zstandard
from bench.corpus.synthetic import json_payload

from payload_codecs import serialize

SIZES = (1 << 10, 16 << 10, 256 << 10, 4 << 20)
ROUNDS = 7


def _data(size: int) -> bytes:
    blob = serialize(json_payload(size))
    return blob[:size]


def _best(function: Callable[[], object], size: int) -> float:
    """CPU nanoseconds per byte of the best of ``ROUNDS`` batches of about 8 MiB."""
    repeat = max(1, (8 << 20) // size)
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time_ns()
        for _ in range(repeat):
            function()
        best = min(best, (time.process_time_ns() - start) / repeat)
    return best / size


def _zstd(checksum: bool) -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
    compressor = zstandard.ZstdCompressor(level=3, write_checksum=checksum)
    decompressor = zstandard.ZstdDecompressor()
    return compressor.compress, decompressor.decompress


def _lz4(content: bool, block: bool) -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
    def compress(data: bytes) -> bytes:
        return bytes(
            lz4.frame.compress(
                data,
                block_size=lz4.frame.BLOCKSIZE_MAX4MB,
                block_linked=False,
                content_checksum=content,
                block_checksum=block,
                store_size=True,
            )
        )

    return compress, lz4.frame.decompress


VARIANTS = {
    "zstd:3 content checksum": (_zstd(False), _zstd(True)),
    "lz4:1 content checksum": (_lz4(False, False), _lz4(True, False)),
    "lz4:1 block checksums": (_lz4(False, False), _lz4(False, True)),
}


def _pair(
    plain: Callable[[bytes], object],
    checked: Callable[[bytes], object],
    inputs: tuple[bytes, bytes],
    size: int,
) -> str:
    """Best ns per byte of content of each side, measured turn about twice; the change from
    plain to checked."""
    without = with_ = float("inf")
    for _ in range(2):
        without = min(without, _best(lambda: plain(inputs[0]), size))
        with_ = min(with_, _best(lambda: checked(inputs[1]), size))
    return f"{without:5.2f} -> {with_:5.2f} {100 * (with_ / without - 1):+4.0f}%"


def main() -> None:
    print(f"{'check':26} {'size':>9}  {'encode ns/B':>20}  {'decode ns/B':>20}")
    for name, (plain, checked) in VARIANTS.items():
        for size in SIZES:
            data = _data(size)
            encode = _pair(plain[0], checked[0], (data, data), size)
            frames = (plain[0](data), checked[0](data))
            decode = _pair(plain[1], checked[1], frames, size)
            print(f"{name:26} {size:>9,}  {encode:>20}  {decode:>20}")


if __name__ == "__main__":
    main()
