"""Decoders treat their input as hostile: a bounded decoded size, enforced while decoding in
every family and implementation; truncated input and trailing bytes are errors; concatenated
frames or members decode whole; the work moves off the event loop when a payload turns out
large."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import subprocess
import sys
import zlib

import lz4.frame
import pytest
import zstandard
from temporalio.api.common.v1 import Payload

import payload_codecs
from payload_codecs import (
    MAX_DECODED_SIZE,
    CodecOptions,
    DecodedSizeError,
    Keyring,
    PayloadDecodeError,
    from_spec,
    serialize,
)
from payload_codecs._compression import CorruptInput
from tests.codecs.helpers import COMPRESSIBLE, decode, encode, json_payload
from tests.processes import ROOT

LIMIT = 16 << 20
MEMORY_SLACK = 24 << 20
"""What decoding may hold beyond the limit: a zstd window for frames without a stated size
(8 MiB), one decoded piece held twice, the interpreter's own churn."""
COMPRESSION = [
    f"{family.name}@{impl}"
    for family in payload_codecs.families()
    if family.implementations
    for impl in family.implementations
]
BOMB_CASES = [
    (shape, spec)
    for shape, spec in [
        ("zstd-frames", "zstd@zstandard"),
        ("zstd-frames", "zstd@cramjam"),
        ("zstd-declared", "zstd@zstandard"),
        ("zstd-declared", "zstd@cramjam"),
        ("zstd-undeclared", "zstd@zstandard"),
        ("zstd-undeclared", "zstd@cramjam"),
        ("gzip", "gzip@zlib"),
        ("gzip", "gzip@cramjam"),
        ("gzip-members", "gzip@zlib"),
        ("gzip-members", "gzip@cramjam"),
        ("zlib", "zlib@zlib"),
        ("lz4-frames", "lz4@cramjam"),
        ("lz4-frames", "lz4@lz4"),
        ("lz4-declared", "lz4@lz4"),
        ("lz4-declared", "lz4@cramjam"),
        ("lz4-undeclared", "lz4@lz4"),
        ("lz4-undeclared", "lz4@cramjam"),
        ("snappy-framed", "snappy@cramjam"),
        ("snappy-raw", "snappy@cramjam"),
        ("snappy-raw", "snappy@cramjam-raw"),
    ]
]


def test_every_implementation_of_every_family_has_a_bomb_case() -> None:
    assert {spec for _, spec in BOMB_CASES} == set(COMPRESSION)


@pytest.mark.parametrize(("shape", "spec"), BOMB_CASES)
def test_a_bomb_fails_at_the_limit_with_memory_bounded_by_it(shape: str, spec: str) -> None:
    """Each bomb decodes to 256 MiB; with a 16 MiB limit the codec must stop with the size
    error, its peak memory within the limit plus a small constant, under a memory cap that
    turns a regression into a MemoryError rather than a dead machine."""
    error, growth = _decode_in_a_child(shape, spec, LIMIT)
    # Concatenated snappy streams of 1 MiB spend 17 chunks per MiB, one more than the limit
    # allows: refused for their count just as their content reaches the limit.
    assert error in ("DecodedSizeError", "FrameCountError")
    assert growth <= LIMIT + MEMORY_SLACK


def test_a_few_bytes_that_state_megabytes_cost_no_megabytes() -> None:
    """24 bytes of snappy that state 8 MiB, under a 64 MiB limit: the stated size is trusted
    for scheduling, never for memory; the buffer for it is touched only where it is written."""
    error, growth = _decode_in_a_child("snappy-framed-stating-8-mib", "snappy", 64 << 20)
    assert error == "PayloadDecodeError"
    assert growth < 2 << 20


@pytest.mark.parametrize("spec", ["zstd@zstandard", "zstd@cramjam"])
def test_a_zstd_frame_asking_for_a_huge_window_is_refused_before_it_is_allocated(
    spec: str,
) -> None:
    """A streamed frame asking for a 128 MiB window: both implementations refuse it without
    allocating the window (cramjam's libzstd used to, holding the limit plus the window)."""
    error, growth = _decode_in_a_child("zstd-large-window", spec, LIMIT)
    assert error == "PayloadDecodeError"
    assert growth < 8 << 20


def _decode_in_a_child(shape: str, spec: str, limit: int) -> tuple[str, int]:
    """What ``python -m tests.codecs.bombs`` reports: the error's type name and the growth of
    peak memory, in bytes."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.codecs.bombs", shape, spec, str(limit)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    return report["error"], report["growth"]


def test_the_size_error_names_the_limit_and_what_to_change() -> None:
    data = zlib.compress(bytes(1 << 20), wbits=31)
    payload = Payload(metadata={"encoding": b"binary/gzip"}, data=data)
    codec = from_spec("gzip", options=CodecOptions(max_decoded_size=1000))
    with pytest.raises(DecodedSizeError, match="decoded-size limit of 1,000 bytes") as caught:
        codec.decode_sync([payload])
    assert "max_decoded_size" in str(caught.value)
    assert MAX_DECODED_SIZE == 64 << 20
    with pytest.raises(ValueError, match="max_decoded_size"):
        CodecOptions(max_decoded_size=0)


@pytest.mark.parametrize("spec", COMPRESSION)
def test_a_payload_at_the_limit_decodes_and_one_byte_more_does_not(spec: str) -> None:
    payload = json_payload(COMPRESSIBLE * 8)
    size = len(serialize(payload))
    exact = from_spec(spec, options=CodecOptions(max_decoded_size=size))
    assert decode(exact, encode(exact, [payload])) == [payload]
    short = from_spec(spec, options=CodecOptions(max_decoded_size=size - 1))
    with pytest.raises(DecodedSizeError):
        decode(short, encode(short, [payload]))


def _compressor(spec: str) -> payload_codecs.Compressor:
    [stage] = from_spec(spec).stages
    assert isinstance(stage, payload_codecs.CompressionStage)
    return stage.compressor


def _snappy_chunk_ends(stream: bytes) -> set[int]:
    """Where the chunks of a framed snappy stream end: the format has no end marker, so a
    stream cut there is a valid, shorter stream."""
    ends, position = set(), 0
    while position < len(stream):
        position += 4 + int.from_bytes(stream[position + 1 : position + 4], "little")
        ends.add(position)
    return ends


@pytest.mark.parametrize("spec", COMPRESSION)
@pytest.mark.parametrize("size", [40, 279_000])
def test_every_cut_of_a_stream_is_an_error_never_an_empty_or_short_result(
    spec: str, size: int
) -> None:
    compressor = _compressor(spec)
    original = (COMPRESSIBLE * (size // len(COMPRESSIBLE) + 1))[:size]
    whole = compressor.compress(original)
    assert bytes(compressor.decompress(whole, LIMIT)) == original
    valid = _snappy_chunk_ends(whole) if spec.startswith("snappy") else set()
    if spec.startswith(EMPTY_IS_EMPTY):
        valid.add(0)  # no bytes at all: the empty content (see the test below)
    step = max(1, len(whole) // 300)
    for cut in sorted({*range(0, len(whole), step), len(whole) - 1} - valid):
        try:
            result = compressor.decompress(whole[:cut], LIMIT)
        except CorruptInput:
            continue
        pytest.fail(f"cut at {cut} of {len(whole)} gave {len(result)} bytes without an error")


@pytest.mark.parametrize("spec", COMPRESSION)
def test_trailing_bytes_are_an_error(spec: str) -> None:
    compressor = _compressor(spec)
    whole = compressor.compress(COMPRESSIBLE)
    for tail in (b"\x00", b"garbage after the stream", whole[:7]):
        with pytest.raises(CorruptInput):
            compressor.decompress(whole + tail, LIMIT)


@pytest.mark.parametrize("spec", [s for s in COMPRESSION if not s.startswith("zlib")])
def test_concatenated_frames_or_members_decode_whole(spec: str) -> None:
    """What the zstd, LZ4, gzip and snappy framing formats say: a concatenation of frames
    (members, streams) holds the concatenation of their contents. 320,000 bytes of data were
    lost before. A raw snappy block has no framing: two of them are an error, never the
    first one alone."""
    compressor = _compressor(spec)
    first, second = COMPRESSIBLE * 2_000, bytes(range(256)) * 1_250
    both = compressor.compress(first) + compressor.compress(second)
    if spec.endswith("-raw"):
        with pytest.raises(CorruptInput):
            compressor.decompress(both, LIMIT)
        return
    assert bytes(compressor.decompress(both, LIMIT)) == first + second


EMPTY_IS_EMPTY = ("zstd", "snappy")
"""Formats whose writers in other languages write no bytes at all for empty content: Go's
framed snappy writer and klauspost/compress's zstd ``EncodeAll`` (a Payload that serializes to
nothing, so a Go codec writes an empty ``data``)."""


@pytest.mark.parametrize("spec", COMPRESSION)
def test_no_bytes_are_the_empty_content_only_where_foreign_writers_write_them(spec: str) -> None:
    compressor = _compressor(spec)
    if spec.startswith(EMPTY_IS_EMPTY):
        assert bytes(compressor.decompress(b"", LIMIT)) == b""
    else:
        with pytest.raises(CorruptInput):
            compressor.decompress(b"", LIMIT)


def test_a_snappy_stream_cut_at_a_chunk_boundary_cannot_be_told_from_a_shorter_one() -> None:
    """A limit of the framing format, kept for compatibility with the docs' codec: the stream
    identifier alone is the empty stream. The Payload parse after it catches most such cuts
    (the data field runs past the end); this one it cannot."""
    compressor = _compressor("snappy")
    whole = compressor.compress(COMPRESSIBLE)
    assert bytes(compressor.decompress(whole[:10], LIMIT)) == b""


def test_a_second_zlib_stream_is_trailing_data() -> None:
    """RFC 1950 defines one stream; Go's reader stops after it. Two are not a zlib stream."""
    compressor = _compressor("zlib")
    with pytest.raises(CorruptInput, match="follow the end"):
        compressor.decompress(zlib.compress(b"a") + zlib.compress(b"b"), LIMIT)


def test_a_zstd_frame_that_states_zero_bytes_is_still_checked() -> None:
    """python-zstandard returns b"" for such a frame without reading it."""
    empty = zstandard.ZstdCompressor().compress(b"")
    assert bytes(_compressor("zstd").decompress(empty, LIMIT)) == b""
    with pytest.raises(CorruptInput):
        _compressor("zstd").decompress(empty + b"junk", LIMIT)


@pytest.mark.parametrize("spec", ["lz4@lz4", "lz4@cramjam"])
@pytest.mark.parametrize("change", [-1, 1], ids=["one byte less", "one byte more"])
def test_an_lz4_frame_that_misstates_its_size_is_an_error(spec: str, change: int) -> None:
    """A one-block frame is decoded straight into a buffer of the size it states: the block
    must fill it exactly, whatever the header (with a checksum that fits) claims."""
    frame = _compressor("lz4@lz4").compress(COMPRESSIBLE)
    with pytest.raises(CorruptInput):
        _compressor(spec).decompress(_lz4_stating(frame, len(COMPRESSIBLE) + change), LIMIT)


@pytest.mark.parametrize("spec", ["lz4@lz4", "lz4@cramjam"])
def test_an_lz4_frame_with_a_wrong_header_checksum_is_an_error(spec: str) -> None:
    frame = _compressor("lz4@lz4").compress(COMPRESSIBLE)
    wrong = frame[:14] + bytes([frame[14] ^ 1]) + frame[15:]
    with pytest.raises(CorruptInput):
        _compressor(spec).decompress(wrong, LIMIT)


def _lz4_stating(frame: bytes, size: int) -> bytes:
    """``frame`` (a frame that states its size) stating ``size`` instead, with a header
    checksum that readers accept: one byte of a hash, found by trying all 256."""
    for check in range(256):
        candidate = frame[:6] + size.to_bytes(8, "little") + bytes([check]) + frame[15:]
        try:
            lz4.frame.get_frame_info(candidate)
        except RuntimeError:
            continue
        return candidate
    raise AssertionError("no header checksum fits")


def test_snappy_without_keep_if_not_smaller_round_trips_an_empty_payload() -> None:
    codec = from_spec("snappy", options=CodecOptions(keep_if_not_smaller=False))
    [encoded] = encode(codec, [Payload()])
    assert encoded.metadata["encoding"] == b"binary/snappy"
    assert encoded.data == payload_codecs.SNAPPY_STREAM_IDENTIFIER
    assert decode(codec, [encoded]) == [Payload()]


class _CountingExecutor(concurrent.futures.ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.jobs = 0

    def submit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.jobs += 1
        return super().submit(*args, **kwargs)


def _executor_jobs(spec: str, payload: Payload, options: CodecOptions) -> int:
    codec = from_spec(spec, keyring=Keyring.generate(), options=options)
    [encoded] = encode(codec, [payload])

    async def run() -> int:
        executor = _CountingExecutor()
        asyncio.get_running_loop().set_default_executor(executor)
        assert await codec.decode([encoded]) == [payload]
        return executor.jobs

    return asyncio.run(run())


@pytest.mark.parametrize("spec", ["zstd", "lz4", "gzip", "zlib", "snappy", "zstd+aes256gcm"])
def test_the_decoded_size_decides_where_decoding_runs(spec: str) -> None:
    """4 MiB of zeros compress to a few KiB: counting compressed bytes kept it on the loop.
    Formats that state their size go off the loop at once; the others are stopped on the loop
    at the loop's share (the budget over the cost per byte) and finished on the executor."""
    options = CodecOptions(keep_if_not_smaller=False)
    large = Payload(metadata={"encoding": b"binary/plain"}, data=bytes(4 << 20))
    small = json_payload(COMPRESSIBLE)
    assert _executor_jobs(spec, large, options) == 1
    assert _executor_jobs(spec, small, options) == 0


@pytest.mark.parametrize("spec", ["zstd@zstandard", "zstd@cramjam", "lz4@cramjam"])
def test_a_payload_is_judged_by_its_bytes_too_whatever_it_states(spec: str) -> None:
    """A small frame, then 256 KiB that a decoder must walk through (a skippable frame): it
    states a few bytes, but bytes cost time whatever they hold, so it is decoded on the
    executor, where these decoders' costliest input of that size would be over budget."""
    codec = from_spec(spec)
    [stage] = codec.stages
    small = json_payload(COMPRESSIBLE)
    [writer] = from_spec(spec.partition("@")[0]).stages  # one that states the size
    frame = writer.raw_encode(serialize(small))
    skippable = (0x184D2A50).to_bytes(4, "little") + (256 << 10).to_bytes(4, "little")
    data = frame + skippable + bytes(256 << 10)
    payload = Payload(metadata={"encoding": stage.encoding}, data=data)
    assert stage.decoded_size(data) < 8192

    async def jobs() -> int:
        executor = _CountingExecutor()
        asyncio.get_running_loop().set_default_executor(executor)
        assert await codec.decode([payload]) == [small]
        return executor.jobs

    assert asyncio.run(jobs()) == 1


def test_a_limit_error_on_the_loop_is_not_retried_past_the_real_limit() -> None:
    bomb = Payload(metadata={"encoding": b"binary/zlib"}, data=zlib.compress(bytes(1 << 20)))
    # A budget that keeps the bomb's compressed bytes on the loop with a loop share of twice
    # their size, well under the real limit.
    cost = from_spec("zlib").costs[1]
    budget_us = 2 * len(bomb.data) * cost / 1e3
    options = CodecOptions(offload_after_us=budget_us, max_decoded_size=4096)
    codec = from_spec("zlib", options=options)
    with pytest.raises(DecodedSizeError, match="4,096"):
        decode(codec, [bomb])


def test_corrupt_input_is_a_payload_decode_error_at_the_codec() -> None:
    codec = from_spec("lz4")
    bad = Payload(metadata={"encoding": b"binary/lz4"}, data=b"\x04\x22\x4d\x18garbage")
    with pytest.raises(PayloadDecodeError, match="cannot decompress binary/lz4"):
        decode(codec, [bad])
