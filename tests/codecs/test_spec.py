"""Spec strings name a codec or a chain; mistakes name the valid choices."""

from __future__ import annotations

import re

import pytest

import payload_codecs
from payload_codecs import Keyring, Kind, from_spec, parse_spec


def test_every_family_is_listed_with_its_levels_and_implementations() -> None:
    names = [family.name for family in payload_codecs.families()]
    assert names == ["none", "snappy", "zstd", "lz4", "gzip", "zlib", "aes256gcm", "envelope"]
    assert payload_codecs.family("envelope").choices == ("aws-kms", "local")
    zstd = payload_codecs.family("zstd")
    assert zstd.levels is not None
    assert zstd.levels.default == 3
    assert [level in zstd.levels for level in (-5, 0, 1, 22, 23)] == [
        True,
        False,
        True,
        True,
        False,
    ]
    assert list(zstd.implementations) == ["zstandard", "cramjam"]
    assert "levels -131072..-1, 1..22 (default 3)" in zstd.describe()


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("none", "none"),
        ("snappy", "snappy@cramjam"),
        ("snappy@cramjam-raw", "snappy@cramjam-raw"),
        ("zstd", "zstd:3@zstandard"),
        ("zstd:3@cramjam", "zstd:3@cramjam"),
        ("zstd:-5", "zstd:-5@zstandard"),
        ("lz4", "lz4:1@lz4"),
        ("gzip:6@zlib", "gzip:6@zlib"),
        ("zstd:3+aes256gcm", "zstd:3@zstandard+aes256gcm"),
        ("lz4+aes256gcm", "lz4:1@lz4+aes256gcm"),
    ],
)
def test_spec_fills_in_default_levels_and_implementations(spec: str, canonical: str) -> None:
    codec = from_spec(spec, keyring=Keyring.generate())
    assert codec.spec == canonical
    assert from_spec(codec.spec, keyring=Keyring.generate()).spec == canonical


def test_stages_are_in_encoding_order() -> None:
    stages = parse_spec("zstd:3+aes256gcm")
    assert [stage.family.kind for stage in stages] == [Kind.COMPRESSION, Kind.ENCRYPTION]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "brotli",
            "unknown codec 'brotli'; choose one of: none, snappy, zstd, lz4, gzip, zlib, aes256gcm",
        ),
        ("zstd:23", "valid levels: -131072..-1, 1..22"),
        ("zstd:0", "valid levels: -131072..-1, 1..22"),
        ("gzip:fast", "not a whole number; valid levels: 1..9"),
        ("zstd@libzstd", "valid: zstandard, cramjam"),
        ("snappy:2", "codec 'snappy' takes no level"),
        ("aes256gcm+zstd", "put compression first"),
        ("zstd++lz4", "empty stage"),
        ("", "empty codec spec"),
    ],
)
def test_bad_specs_raise_value_error_naming_the_valid_choices(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        from_spec(spec)


def test_a_chain_that_encrypts_needs_a_keyring() -> None:
    with pytest.raises(ValueError, match="encrypts with a keyring but none was given"):
        from_spec("zstd:3+aes256gcm")
    with pytest.raises(ValueError, match="encrypts with a keyring but none was given"):
        from_spec("zstd:3+envelope@local")


def test_envelope_encryption_names_its_key_service_and_needs_keys_only_from_a_keyring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert [payload_codecs.needs_keyring(s) for s in ("zstd:3", "aes256gcm")] == [False, True]
    assert payload_codecs.needs_keyring("lz4+envelope@local")
    assert not payload_codecs.needs_keyring("lz4+envelope@aws-kms")
    assert str(payload_codecs.parse_spec("envelope")[0]) == "envelope@aws-kms"
    with pytest.raises(ValueError, match="unknown implementation 'vault' of 'envelope'"):
        payload_codecs.parse_spec("zstd:3+envelope@vault")
    with pytest.raises(ValueError, match="compresses after encrypting"):
        payload_codecs.parse_spec("envelope@local+zstd:3")
    monkeypatch.delenv(payload_codecs.KMS_KEY_ENV, raising=False)
    with pytest.raises(ValueError, match="set PAYLOAD_CODEC_KMS_KEY_ID"):
        from_spec("zstd:3+envelope@aws-kms")
    local = payload_codecs.LocalKeys(payload_codecs.Keyring.generate())
    with pytest.raises(ValueError, match="names envelope@aws-kms but the key provider given is"):
        from_spec("zstd:3+envelope@aws-kms", kms=local)


@pytest.mark.parametrize(
    ("family", "low", "high"), [("zstd", 1, 19), ("gzip", 1, 9), ("zlib", 1, 9), ("lz4", 1, 12)]
)
def test_levels_change_what_is_written(family: str, low: int, high: int) -> None:
    """A level is behaviour, not a label: every implementation writes smaller output at its
    high level than at its low one on compressible data (an implementation that ignored its
    level would write the same bytes)."""
    from payload_codecs import families
    from payload_codecs._stages import CompressionStage

    data = b"".join(b"%d:%s;" % (i % 977, b"abcdefgh"[i % 8 :] * 3) for i in range(40_000))
    for impl in families()[[f.name for f in families()].index(family)].implementations:
        sizes = []
        for level in (low, high):
            [stage] = from_spec(f"{family}:{level}@{impl}").stages
            assert isinstance(stage, CompressionStage)
            sizes.append(len(stage.compressor.compress(data)))
        assert sizes[1] < sizes[0], f"{family}@{impl}: level {high} wrote {sizes}"
