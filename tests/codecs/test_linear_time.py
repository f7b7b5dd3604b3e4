"""No input costs a decoder much more than its size: hypothesis builds payloads from the
pieces that cost a decoder most per byte (empty and skippable frames, one-byte frames, padding
chunks, empty deflate blocks) and every implementation of every family must decode or refuse
each within a time linear in the payload's bytes, raising only its own errors.

A bound on time, where tests otherwise assert none, because the property is one of time: a
decoder that copied what follows each frame took 62.9 s on 2 MiB of empty zstd frames, and one
that read them all, without a cap on their count, 1.7 s; those that count take at most 14 ms
(6.5 ns a byte) on this project's noisy two-core machine, in CPU time, fifteen times under the
bound.
"""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payload_codecs
from payload_codecs import DecodedSizeError, FrameCountError, from_spec
from payload_codecs._compression import CorruptInput
from payload_codecs._errors import max_frames
from tests.codecs.costly import PIECES, WHOLE_STREAMS, repeated

LIMIT = 1 << 20
FIXED_NS = 20e6
"""CPU nanoseconds any one decode may take besides its per-byte share."""
NS_PER_BYTE = 100
"""CPU nanoseconds per input byte."""


SPECS = [
    f"{family.name}@{impl}"
    for family in payload_codecs.families()
    for impl in family.implementations
]


@st.composite
def hostile(draw: st.DrawFn, family: str) -> bytes:
    """Up to 2 MiB of one family's costliest pieces, repeated in a drawn order."""
    size = draw(st.integers(16 << 10, 2 << 20))
    if family in WHOLE_STREAMS and draw(st.booleans()):
        return WHOLE_STREAMS[family](size // 5)
    names = draw(st.lists(st.sampled_from(sorted(PIECES[family])), min_size=1, max_size=3))
    return repeated(family, names, size)


@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=12, derandomize=True)
@given(data=st.data())
def test_decoding_takes_time_linear_in_the_input_and_raises_only_its_own_errors(
    spec: str, data: st.DataObject
) -> None:
    [stage] = from_spec(spec).stages
    assert isinstance(stage, payload_codecs.CompressionStage)
    payload = data.draw(hostile(spec.partition("@")[0]))
    start = time.process_time_ns()
    with contextlib.suppress(CorruptInput, DecodedSizeError):
        stage.compressor.decompress(payload, LIMIT)
    elapsed = time.process_time_ns() - start
    assert elapsed < FIXED_NS + NS_PER_BYTE * len(payload), (
        f"{elapsed / 1e6:.0f} ms for {len(payload):,} bytes"
    )


@pytest.mark.parametrize(
    ("spec", "piece"),
    [
        ("zstd@zstandard", "empty frame"),
        ("zstd@cramjam", "skippable frame"),
        ("lz4@lz4", "one-byte frame"),
        ("lz4@cramjam", "empty frame"),
        ("gzip@zlib", "empty member"),
        ("gzip@cramjam", "empty member"),
        ("snappy@cramjam", "padding chunk"),
    ],
)
def test_a_payload_holds_at_most_sixteen_frames_and_one_per_64_kib_of_the_limit(
    spec: str, piece: str
) -> None:
    """Real writers put one frame in a payload, or one per 64 KiB of content or more (framed
    snappy's chunks, bgzip's members): at the limit's count a payload decodes, one more frame
    is refused, in every implementation alike."""
    [stage] = from_spec(spec).stages
    assert isinstance(stage, payload_codecs.CompressionStage)
    family = spec.partition("@")[0]
    unit = PIECES[family][piece]
    head = repeated(family, [piece], 0)[: -len(unit)]  # framed snappy's stream identifier
    allowed = head + unit * (max_frames(LIMIT) - (1 if head else 0))  # which is a chunk too
    stage.compressor.decompress(allowed, LIMIT)
    with pytest.raises(FrameCountError, match=f"more than {max_frames(LIMIT)} frames"):
        stage.compressor.decompress(allowed + unit, LIMIT)
