"""Interoperability with what real deployments write, each vector built in the test from the
other side's own recipe (Temporal docs, Go samples, Go SDK, Python samples)."""

from __future__ import annotations

import gzip
import os
import zlib

import cramjam
import lz4.frame
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload

import payload_codecs
from payload_codecs import SNAPPY_STREAM_IDENTIFIER, Keyring, PayloadDecodeError, from_spec
from payload_codecs._compression import _lz4_only_block
from tests.codecs.helpers import COMPRESSIBLE, decode, encode, json_payload, run_tool

ORIGINAL = json_payload(COMPRESSIBLE)
KEY = AESGCM.generate_key(bit_length=256)
KEYRING = Keyring({"sample-key": KEY}, active="sample-key")


def test_snappy_reads_the_python_docs_framed_stream_and_writes_it() -> None:
    # Temporal Python docs: encoding binary/snappy,
    # data=cramjam.snappy.compress(p.SerializeToString())
    docs = Payload(
        metadata={"encoding": b"binary/snappy"},
        data=bytes(cramjam.snappy.compress(ORIGINAL.SerializeToString())),
    )
    codec = from_spec("snappy")
    assert decode(codec, [docs]) == [ORIGINAL]
    [ours] = encode(codec, [ORIGINAL])
    assert ours.metadata["encoding"] == b"binary/snappy"
    assert ours.data.startswith(SNAPPY_STREAM_IDENTIFIER)
    # The docs' decoder: Payload.FromString(bytes(cramjam.snappy.decompress(p.data)))
    assert Payload.FromString(bytes(cramjam.snappy.decompress(ours.data))) == ORIGINAL


def test_snappy_reads_the_go_samples_raw_block() -> None:
    # Go samples: snappy.Encode(nil, proto.Marshal(p)), a raw block without stream framing.
    block = bytes(cramjam.snappy.compress_raw(ORIGINAL.SerializeToString()))
    assert not block.startswith(SNAPPY_STREAM_IDENTIFIER)
    go = Payload(metadata={"encoding": b"binary/snappy"}, data=block)
    assert decode(from_spec("snappy"), [go]) == [ORIGINAL]


def test_snappy_raw_writes_the_go_samples_raw_block() -> None:
    """``snappy@cramjam-raw`` writes what Go's ``snappy.Decode`` reads: a raw block, which
    starts with the uncompressed length as a varint, under the same encoding; the framed
    writer's readers (ours) read it too."""
    serialized = ORIGINAL.SerializeToString()
    [ours] = encode(from_spec("snappy@cramjam-raw"), [ORIGINAL])
    assert ours.metadata["encoding"] == b"binary/snappy"
    assert not ours.data.startswith(SNAPPY_STREAM_IDENTIFIER)
    length, shift = 0, 0
    for byte in ours.data:
        length |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    assert length == len(serialized)
    assert bytes(cramjam.snappy.decompress_raw(ours.data)) == serialized
    assert decode(from_spec("snappy"), [ours]) == [ORIGINAL]


@pytest.mark.parametrize("spec", ["zlib", "zlib:1", "zlib:9"])
def test_zlib_reads_and_writes_the_go_sdk_zlib_codec_format(spec: str) -> None:
    # Go SDK converter.NewZlibCodec: zlib.NewWriter over proto.Marshal(p), encoding binary/zlib,
    # and the original payload kept when the stream is not smaller.
    codec = from_spec(spec)
    for level in (0, 1, 6, 9):  # Go's writer may pick any level; stored blocks (0) included
        go = Payload(
            metadata={"encoding": b"binary/zlib"},
            data=zlib.compress(ORIGINAL.SerializeToString(), level),
        )
        assert decode(codec, [go]) == [ORIGINAL]
    [ours] = encode(codec, [ORIGINAL])
    assert ours.metadata["encoding"] == b"binary/zlib"
    # Go's decoder: zlib.NewReader(p.Data), io.ReadAll, proto.Unmarshal.
    assert Payload.FromString(zlib.decompress(ours.data)) == ORIGINAL


def test_zlib_keeps_incompressible_payloads_as_go_does() -> None:
    random_payload = Payload(metadata={"encoding": b"binary/plain"}, data=os.urandom(4096))
    assert encode(from_spec("zlib"), [random_payload]) == [random_payload]


@pytest.mark.parametrize("spec", ["gzip", "gzip:9@cramjam"])
def test_gzip_reads_and_writes_the_python_external_storage_sample_format(spec: str) -> None:
    sample = Payload(
        metadata={"encoding": b"binary/gzip"}, data=gzip.compress(ORIGINAL.SerializeToString())
    )
    codec = from_spec(spec)
    assert decode(codec, [sample]) == [ORIGINAL]
    [ours] = encode(codec, [ORIGINAL])
    assert Payload.FromString(gzip.decompress(ours.data)) == ORIGINAL


@pytest.mark.parametrize("spec", ["zstd:3", "zstd:3@cramjam"])
def test_zstd_frames_are_standard_and_both_implementations_read_each_other(spec: str) -> None:
    [ours] = encode(from_spec(spec), [ORIGINAL])
    assert ours.data[:4] == b"\x28\xb5\x2f\xfd"  # zstd frame magic
    assert decode(from_spec("zstd@zstandard"), [ours]) == [ORIGINAL]
    assert decode(from_spec("zstd@cramjam"), [ours]) == [ORIGINAL]


def test_zstd_reads_frames_without_a_content_size() -> None:
    import zstandard

    streamed = zstandard.ZstdCompressor(write_content_size=False).compress(
        ORIGINAL.SerializeToString()
    )
    payload = Payload(metadata={"encoding": b"binary/zstd"}, data=streamed)
    assert decode(from_spec("zstd"), [payload]) == [ORIGINAL]


@pytest.mark.parametrize("spec", ["lz4", "lz4@cramjam"])
def test_lz4_writes_standard_frames_both_implementations_read(spec: str) -> None:
    [ours] = encode(from_spec(spec), [ORIGINAL])
    assert ours.data[:4] == b"\x04\x22\x4d\x18"  # LZ4 frame magic
    assert Payload.FromString(bytes(cramjam.lz4.decompress(ours.data))) == ORIGINAL
    assert decode(from_spec("lz4@lz4"), [ours]) == [ORIGINAL]
    assert decode(from_spec("lz4@cramjam"), [ours]) == [ORIGINAL]


@pytest.mark.parametrize("spec", ["lz4@lz4", "lz4@cramjam"])
@pytest.mark.parametrize("size", [0, 1 << 10, 200 << 10, 5 << 20], ids=["0", "1K", "200K", "5M"])
def test_every_lz4_writer_writes_independent_blocks_without_checksums_and_states_the_size(
    spec: str, size: int
) -> None:
    """What every LZ4 frame reader decodes: Go's pierrec/lz4 refuses linked blocks, and lz4js
    reads a block's checksum as data (both found with the peers in tests/languages)."""
    [stage] = from_spec(spec).stages
    frame = stage.raw_encode(bytes(range(256)) * (size // 256))
    flags = frame[4]
    assert flags & 0x20  # independent blocks
    assert not flags & 0x10  # no block checksums
    assert flags & 0x08 or size == 0  # the content size (liblz4 leaves out a size of 0)
    assert lz4.frame.decompress(frame) == bytes(range(256)) * (size // 256)


@pytest.mark.parametrize("spec", ["lz4@lz4", "lz4@cramjam"])
def test_lz4_frames_written_before_stay_readable(spec: str) -> None:
    """Until December 2026 lz4@lz4 linked the blocks of payloads over 4 MiB, and lz4@cramjam
    wrote cramjam's own frames: linked 64 KiB blocks, a checksum after each block and one
    after the content, no content size."""
    data = COMPRESSIBLE * 1300  # 5.6 MiB: two 4 MiB blocks
    linked = lz4.frame.compress(
        data, block_size=lz4.frame.BLOCKSIZE_MAX4MB, content_checksum=False, store_size=True
    )
    for old in (linked, bytes(cramjam.lz4.compress(data, level=1))):
        assert not old[4] & 0x20  # blocks linked
        assert bytes(_compressor(spec).decompress(old, 64 << 20)) == data


def _compressor(spec: str) -> payload_codecs.Compressor:
    [stage] = from_spec(spec).stages
    assert isinstance(stage, payload_codecs.CompressionStage)
    return stage.compressor


def test_the_default_lz4_frame_has_no_content_checksum_and_states_its_size() -> None:
    [ours] = encode(from_spec("lz4"), [ORIGINAL])
    flags = ours.data[4]
    assert not flags & 0x04  # content checksum: off, for decode speed
    assert flags & 0x08  # content size: on, so decoding allocates once


@pytest.mark.parametrize("size", [1 << 10, 3 << 20, 5 << 20], ids=["1 KiB", "3 MiB", "5 MiB"])
def test_lz4_frames_of_one_block_and_of_several_are_read_by_us_and_the_cli(size: int) -> None:
    # Up to 4 MiB the default writer makes one block, which decodes straight into its output;
    # above, several, which liblz4's frame decoder reads.
    records = (f'{{"id": {i}, "name": "user{i % 977}"}},'.encode() for i in range(size // 20))
    original = json_payload(b"".join(records)[:size])
    [ours] = encode(from_spec("lz4"), [original])
    assert lz4.frame.get_frame_info(ours.data)["block_size_id"] == (4 if size < 64 << 10 else 7)
    assert (_lz4_only_block(ours.data) is not None) == (size < 4 << 20)
    assert decode(from_spec("lz4@lz4"), [ours]) == [original]
    assert decode(from_spec("lz4@cramjam"), [ours]) == [original]
    assert _lz4_cli("-d", "-c", data=ours.data) == original.SerializeToString()


def _lz4_cli(*args: str, data: bytes) -> bytes:
    return run_tool("lz4", *args, data=data)


@pytest.mark.parametrize("spec", ["lz4", "lz4@cramjam", "lz4:9"])
def test_the_lz4_command_line_tool_reads_our_frames(spec: str) -> None:
    [ours] = encode(from_spec(spec), [ORIGINAL])
    assert _lz4_cli("-d", "-c", data=ours.data) == ORIGINAL.SerializeToString()


@pytest.mark.parametrize("cli_flags", [[], ["--content-size"], ["-BD", "--no-frame-crc"]])
def test_we_read_the_lz4_command_line_tools_frames_checksums_included(
    cli_flags: list[str],
) -> None:
    frame = _lz4_cli("-c", *cli_flags, data=ORIGINAL.SerializeToString())
    payload = Payload(metadata={"encoding": b"binary/lz4"}, data=frame)
    assert decode(from_spec("lz4@lz4"), [payload]) == [ORIGINAL]
    assert decode(from_spec("lz4@cramjam"), [payload]) == [ORIGINAL]
    corrupted = frame[:-5] + bytes([frame[-5] ^ 1]) + frame[-4:]
    if not cli_flags:  # the content checksum is verified when present
        with pytest.raises(PayloadDecodeError):
            decode(from_spec("lz4@lz4"), [Payload(metadata=payload.metadata, data=corrupted)])


def _sample_encrypt(payload: Payload, key_id: str, key: bytes) -> Payload:
    # The official samples: nonce = os.urandom(12)
    # data = nonce + AESGCM(key).encrypt(nonce, plaintext, None)
    nonce = os.urandom(12)
    return Payload(
        metadata={"encoding": b"binary/encrypted", "encryption-key-id": key_id.encode()},
        data=nonce + AESGCM(key).encrypt(nonce, payload.SerializeToString(), None),
    )


def test_aes256gcm_reads_the_official_samples_layout() -> None:
    sample = _sample_encrypt(ORIGINAL, "sample-key", KEY)
    assert decode(from_spec("aes256gcm", keyring=KEYRING), [sample]) == [ORIGINAL]


def test_aes256gcm_writes_what_the_official_samples_read() -> None:
    [ours] = encode(from_spec("aes256gcm", keyring=KEYRING), [ORIGINAL])
    assert dict(ours.metadata) == {
        "encoding": b"binary/encrypted",
        "encryption-key-id": b"sample-key",
    }
    assert len(ours.data) == 12 + len(ORIGINAL.SerializeToString()) + 16
    plaintext = AESGCM(KEY).decrypt(ours.data[:12], ours.data[12:], None)
    assert Payload.FromString(plaintext) == ORIGINAL


def test_nonces_are_fresh_for_every_payload() -> None:
    codec = from_spec("aes256gcm", keyring=KEYRING)
    encoded = encode(codec, [ORIGINAL] * 50)
    assert len({payload.data[:12] for payload in encoded}) == 50


@pytest.mark.parametrize(
    "spec", ["snappy", "zstd", "lz4", "gzip", "zlib", "aes256gcm", "zstd:3+aes256gcm"]
)
@pytest.mark.parametrize(
    "foreign",
    [
        Payload(metadata={"encoding": b"json/plain"}, data=b'{"a": 1}'),
        Payload(metadata={"encoding": b"binary/brotli"}, data=b"\x00\x01garbage"),
        Payload(metadata={"encoding": b"binary/null"}),
        Payload(data=b"no metadata at all"),
        Payload(
            metadata={"encoding": b"binary/encrypted-v2", "encryption-key-id": b"x"}, data=b"?"
        ),
    ],
)
def test_payloads_with_a_foreign_encoding_pass_through_every_decoder(
    spec: str, foreign: Payload
) -> None:
    codec = from_spec(spec, keyring=KEYRING)
    [decoded] = decode(codec, [foreign])
    assert decoded is foreign or decoded == foreign
    assert decoded.SerializeToString() == foreign.SerializeToString()
