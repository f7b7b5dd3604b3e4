"""Corruption is an error wherever the format can tell: a flipped bit in a payload of a codec
that says it detects corruption never decodes to other bytes. Which codecs detect it is stated
per implementation (``Compressor.integrity``) and shown by ``codec-bench codecs``."""

from __future__ import annotations

import random

import pytest

import payload_codecs
from payload_codecs import from_spec
from payload_codecs._compression import CorruptInput
from tests.codecs.helpers import COMPRESSIBLE

CHECKED = [
    "snappy@cramjam",
    "zstd@zstandard",
    "zstd@cramjam",
    "lz4:1:checksum@lz4",
    "lz4:1:checksum@cramjam",
    "lz4:9:checksum",
    "gzip@zlib",
    "gzip@cramjam",
    "zlib@zlib",
]
UNCHECKED = ["snappy@cramjam-raw", "lz4@lz4", "lz4@cramjam"]


def _compressor(spec: str) -> payload_codecs.Compressor:
    [stage] = from_spec(spec).stages
    assert isinstance(stage, payload_codecs.CompressionStage)
    return stage.compressor


def test_every_implementation_says_whether_it_detects_corruption() -> None:
    every = {
        f"{family.name}@{impl}"
        for family in payload_codecs.families()
        for impl in family.implementations
    }
    named = {spec.replace(":1:checksum", "") for spec in CHECKED + UNCHECKED if "9" not in spec}
    assert named == every
    assert all(_compressor(spec).integrity for spec in CHECKED)
    assert not any(_compressor(spec).integrity for spec in UNCHECKED)


@pytest.mark.parametrize("spec", CHECKED)
@pytest.mark.parametrize("size", [100, 300_000], ids=["100 B", "300 KB"])
def test_a_flipped_bit_is_an_error_never_other_bytes(spec: str, size: int) -> None:
    """A storage or memory fault in a compressed-only history: 600 single-bit flips spread
    over the whole payload, each an error or (a bit the format does not use) the original."""
    compressor = _compressor(spec)
    original = (COMPRESSIBLE * (size // len(COMPRESSIBLE) + 1))[:size]
    frame = compressor.compress(original)
    rng = random.Random(size)
    for _ in range(600):
        bit = rng.randrange(len(frame) * 8)
        flipped = bytearray(frame)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            decoded = bytes(compressor.decompress(bytes(flipped), 64 << 20))
        except (CorruptInput, payload_codecs.DecodedSizeError):
            continue
        assert decoded == original, f"bit {bit} of {len(frame) * 8} decoded to other bytes"


@pytest.mark.parametrize("spec", UNCHECKED)
def test_without_a_checksum_some_flipped_bit_decodes_to_other_bytes(spec: str) -> None:
    """Why the option and the statement exist: the test above would fail for these."""
    compressor = _compressor(spec)
    frame = compressor.compress(COMPRESSIBLE)
    silent = 0
    for bit in range(len(frame) * 8):
        flipped = bytearray(frame)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            silent += bytes(compressor.decompress(bytes(flipped), 64 << 20)) != COMPRESSIBLE
        except (CorruptInput, payload_codecs.DecodedSizeError):
            continue
    assert silent > 0


def test_the_checksum_option_is_only_for_codecs_that_leave_it_out() -> None:
    assert from_spec("lz4:checksum").spec == "lz4:1:checksum@lz4"
    with pytest.raises(ValueError, match="takes no :checksum option"):
        from_spec("zstd:3:checksum")
