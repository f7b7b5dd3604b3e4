"""Every spec round-trips arbitrary payloads; chains decode in the reverse order of encoding."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload

from payload_codecs import CodecOptions, Keyring, from_spec, serialize
from payload_codecs._stages import Envelope
from tests.codecs.helpers import COMPRESSIBLE, decode, encode, json_payload

KEYRING = Keyring.generate("test-key")
SPECS = [
    "none",
    "snappy",
    "zstd:3",
    "zstd:-5",
    "zstd:19@cramjam",
    "lz4",
    "lz4:9",
    "gzip:6@zlib",
    "gzip:1@cramjam",
    "zlib:6",
    "gzip:9@cramjam",
    "aes256gcm",
    "zstd:3+aes256gcm",
    "lz4+aes256gcm",
    "snappy+aes256gcm",
]
CODEC_ENCODINGS = {
    b"binary/snappy",
    b"binary/zstd",
    b"binary/lz4",
    b"binary/gzip",
    b"binary/zlib",
    b"binary/encrypted",
}


@st.composite
def payload_data(draw: st.DrawFn) -> bytes:
    """Empty, small arbitrary, or up to 4 MiB of random, repetitive or mixed bytes."""
    kind = draw(st.sampled_from(["small", "random", "repetitive", "mixed"]))
    if kind == "small":
        return draw(st.binary(max_size=4096))
    size = draw(st.integers(0, 4 << 20))
    rng = random.Random(draw(st.integers(0, 2**32)))
    if kind == "random":
        return rng.randbytes(size)
    if kind == "repetitive":
        return (COMPRESSIBLE * (size // len(COMPRESSIBLE) + 1))[:size]
    chunks = [
        rng.randbytes(512) if rng.random() < 0.5 else COMPRESSIBLE[:512]
        for _ in range(size // 512 + 1)
    ]
    return b"".join(chunks)[:size]


# Payloads as a payload converter makes them: any metadata, but never already in a codec's own
# encoding (no converter writes those).
metadata = st.dictionaries(
    st.text(max_size=20),
    st.binary(max_size=40),
    max_size=4,
).filter(lambda m: m.get("encoding") not in CODEC_ENCODINGS)
payloads = st.lists(
    st.builds(lambda m, d: Payload(metadata=m, data=d), metadata, payload_data()),
    min_size=1,
    max_size=3,
)


@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=25)
@given(originals=payloads)
def test_every_spec_round_trips_arbitrary_payloads(spec: str, originals: list[Payload]) -> None:
    codec = from_spec(spec, keyring=KEYRING)
    encoded = encode(codec, originals)
    assert len(encoded) == len(originals)
    assert decode(codec, encoded) == originals


@pytest.mark.parametrize("spec", SPECS)
def test_empty_payloads_and_empty_lists_round_trip(spec: str) -> None:
    codec = from_spec(spec, keyring=KEYRING)
    empty = [Payload(), Payload(metadata={"encoding": b"binary/null"})]
    assert decode(codec, encode(codec, empty)) == empty
    assert encode(codec, []) == []
    assert decode(codec, []) == []


@pytest.mark.parametrize("spec", SPECS)
def test_sync_and_async_paths_agree(spec: str) -> None:
    codec = from_spec(spec, keyring=KEYRING, options=CodecOptions(offload_after_us=0))
    original = [json_payload(COMPRESSIBLE)]
    assert codec.decode_sync(encode(codec, original)) == original
    assert decode(codec, codec.encode_sync(original)) == original


def test_chain_encodes_in_order_and_decodes_in_reverse() -> None:
    original = json_payload(COMPRESSIBLE)
    [outer] = encode(from_spec("zstd:3+aes256gcm", keyring=KEYRING), [original])
    assert outer.metadata["encoding"] == b"binary/encrypted"
    # Peel the layers one codec at a time: encryption is outermost, compression inside.
    [middle] = decode(from_spec("aes256gcm", keyring=KEYRING), [outer])
    assert middle.metadata["encoding"] == b"binary/zstd"
    [inner] = decode(from_spec("zstd:3"), [middle])
    assert inner == original
    # A compression codec alone does not touch the encrypted layer.
    assert decode(from_spec("zstd:3"), [outer]) == [outer]


def test_chain_encrypts_payloads_that_compression_kept_as_they_were() -> None:
    tiny = json_payload(b"1")
    [outer] = encode(from_spec("zstd:3+aes256gcm", keyring=KEYRING), [tiny])
    [middle] = decode(from_spec("aes256gcm", keyring=KEYRING), [outer])
    assert middle == tiny
    assert decode(from_spec("zstd:3+aes256gcm", keyring=KEYRING), [outer]) == [tiny]


def test_encode_does_not_mutate_its_input() -> None:
    original = json_payload(COMPRESSIBLE)
    snapshot = original.SerializeToString()
    encode(from_spec("zstd:3+aes256gcm", keyring=KEYRING), [original])
    assert original.SerializeToString() == snapshot


def test_decode_does_not_mutate_its_input() -> None:
    # Indexing a protobuf map inserts a missing key: a codec must only read metadata.
    codec = from_spec("zstd:3+aes256gcm", keyring=KEYRING)
    unencoded = Payload(metadata={"note": b"no encoding"}, data=b"x")
    [encrypted] = encode(codec, [json_payload(COMPRESSIBLE)])
    snapshots = [unencoded.SerializeToString(), encrypted.SerializeToString()]
    for payloads in ([unencoded], [encrypted], [unencoded, encrypted]):  # one payload, a batch
        decode(codec, payloads)
    assert [unencoded.SerializeToString(), encrypted.SerializeToString()] == snapshots


@pytest.mark.parametrize("length", [0, 1, 127, 128, 16_383, 16_384, 2_097_152])
@pytest.mark.parametrize(
    "metadata",
    [{"encoding": b"binary/zstd"}, {"encoding": b"binary/encrypted", "encryption-key-id": b"k"}],
    ids=["one entry", "two entries"],
)
def test_an_envelope_writes_what_the_protobuf_runtime_writes(
    metadata: dict[str, bytes], length: int
) -> None:
    # A chain hands the next stage the serialized envelope written by hand; it must be the
    # runtime's bytes exactly, or compressed sizes and the stored payloads would differ.
    envelope = Envelope(metadata)
    data = random.Random(length).randbytes(length)
    assert envelope.serialized(data) == serialize(envelope.wrap(data))
    assert envelope.stored(data) == envelope.wrap(data).ByteSize()


def test_encoding_is_byte_identical_in_every_process() -> None:
    """Metadata map order differs between processes unless serialization sorts it; compressed
    bytes (and so stored sizes) must not."""
    import subprocess
    import sys

    program = (
        "import asyncio, sys\n"
        "from temporalio.api.common.v1 import Payload\n"
        "from payload_codecs import from_spec\n"
        "p = Payload(metadata={f'key-{i}': bytes([i]) * 9 for i in range(12)}, data=b'x' * 300)\n"
        "[e] = asyncio.run(from_spec('zstd:3').encode([p]))\n"
        "sys.stdout.write(e.data.hex())\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(4)
    }
    assert len(outputs) == 1
