"""Authenticated encryption failures are clear errors naming the key id, never the key."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from payload_codecs import (
    KEY_SIZE,
    Keyring,
    PayloadDecodeError,
    PayloadDecryptionError,
    from_spec,
)
from tests.codecs.helpers import COMPRESSIBLE, decode, encode, json_payload

KEY = bytes(range(KEY_SIZE))
OLD_KEY = bytes(range(100, 100 + KEY_SIZE))
KEYRING = Keyring({"k-2026": KEY, "k-2025": OLD_KEY}, active="k-2026")
ORIGINAL = json_payload(COMPRESSIBLE[:300])


def _forms_of(key: bytes) -> list[str]:
    return [key.hex(), base64.b64encode(key).decode(), repr(key), str(list(key))]


def _assert_no_key_in(text: str) -> None:
    for key in (KEY, OLD_KEY):
        for form in _forms_of(key):
            assert form not in text


def _encrypted() -> Payload:
    [payload] = encode(from_spec("aes256gcm", keyring=KEYRING), [ORIGINAL])
    return payload


def _with_data(payload: Payload, data: bytes) -> Payload:
    tampered = Payload()
    tampered.CopyFrom(payload)
    tampered.data = data
    return tampered


def test_flipping_any_bit_of_nonce_ciphertext_or_tag_is_an_error_naming_the_key_id() -> None:
    payload = _encrypted()
    data = payload.data
    codec = from_spec("aes256gcm", keyring=KEYRING)
    regions = {
        "nonce": range(0, 12),
        "ciphertext": range(12, len(data) - 16),
        "tag": range(len(data) - 16, len(data)),
    }
    for region, positions in regions.items():
        for position in positions:
            for bit in range(8):
                flipped = bytearray(data)
                flipped[position] ^= 1 << bit
                with pytest.raises(PayloadDecryptionError, match="key id 'k-2026'") as caught:
                    decode(codec, [_with_data(payload, bytes(flipped))])
                _assert_no_key_in(str(caught.value))
        assert positions, region


@pytest.mark.parametrize("keep", [0, 1, 12, 27, 28, 40])
def test_truncated_payloads_are_errors(keep: int) -> None:
    payload = _encrypted()
    with pytest.raises(PayloadDecryptionError, match="k-2026") as caught:
        decode(from_spec("aes256gcm", keyring=KEYRING), [_with_data(payload, payload.data[:keep])])
    _assert_no_key_in(str(caught.value))


def test_a_key_id_not_in_the_keyring_is_an_error_naming_it() -> None:
    payload = _encrypted()
    other = Keyring({"k-other": OLD_KEY}, active="k-other")
    with pytest.raises(PayloadDecryptionError, match=r"key id 'k-2026'.*does not hold") as caught:
        decode(from_spec("aes256gcm", keyring=other), [payload])
    _assert_no_key_in(str(caught.value))


def test_a_key_id_is_matched_by_the_bytes_the_metadata_carries() -> None:
    """Ids travel as UTF-8 in metadata; the keyring is looked up by those bytes, so an id
    beyond ASCII decodes, and bytes that only decode to an id with replacement characters do
    not pass for it."""
    accented = Keyring({"clé-2026": KEY}, active="clé-2026")
    codec = from_spec("aes256gcm", keyring=accented)
    [encrypted] = encode(codec, [ORIGINAL])
    assert encrypted.metadata["encryption-key-id"] == "clé-2026".encode()
    assert decode(codec, [encrypted]) == [ORIGINAL]
    replaced = Keyring({"cl\ufffd-2026": KEY}, active="cl\ufffd-2026")
    mangled = Payload()
    mangled.CopyFrom(encrypted)
    mangled.metadata["encryption-key-id"] = b"cl\xe9-2026"  # Latin-1, not UTF-8
    with pytest.raises(PayloadDecryptionError, match="does not hold"):
        decode(from_spec("aes256gcm", keyring=replaced), [mangled])


def test_the_wrong_key_under_the_right_id_is_an_error() -> None:
    payload = _encrypted()
    impostor = Keyring({"k-2026": OLD_KEY}, active="k-2026")
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        decode(from_spec("aes256gcm", keyring=impostor), [payload])


def test_a_payload_without_a_key_id_is_an_error() -> None:
    payload = Payload(metadata={"encoding": b"binary/encrypted"}, data=_encrypted().data)
    with pytest.raises(PayloadDecryptionError, match="encryption-key-id"):
        decode(from_spec("aes256gcm", keyring=KEYRING), [payload])


def test_rotated_keys_still_decode_old_payloads() -> None:
    old_ring = Keyring({"k-2025": OLD_KEY}, active="k-2025")
    [old] = encode(from_spec("zstd:3+aes256gcm", keyring=old_ring), [ORIGINAL])
    [new] = encode(from_spec("zstd:3+aes256gcm", keyring=KEYRING), [ORIGINAL])
    assert old.metadata["encryption-key-id"] == b"k-2025"
    assert new.metadata["encryption-key-id"] == b"k-2026"
    assert decode(from_spec("zstd:3+aes256gcm", keyring=KEYRING), [old, new]) == [
        ORIGINAL,
        ORIGINAL,
    ]


def test_corrupt_compressed_data_is_a_decode_error() -> None:
    for spec in ["snappy", "zstd", "lz4", "gzip", "zlib", "zstd@cramjam", "gzip@cramjam"]:
        encoding = from_spec(spec).stages[0].encoding
        bad = Payload(metadata={"encoding": encoding}, data=b"\x00not compressed data at all")
        with pytest.raises(PayloadDecodeError, match=encoding.decode()):
            decode(from_spec(spec), [bad])


def test_keys_appear_in_no_repr() -> None:
    codec = from_spec("zstd:3+aes256gcm", keyring=KEYRING)
    texts = [repr(KEYRING), str(KEYRING), repr(codec), repr(codec.stages), repr(codec.options)]
    for text in texts:
        _assert_no_key_in(text)
    assert repr(KEYRING) == "Keyring(key_ids=['k-2026', 'k-2025'], active='k-2026')"


@pytest.mark.parametrize(
    ("keys", "active", "message"),
    [
        ({"k": b"short"}, "k", "must be 32 bytes"),
        ({"k": KEY}, "missing", "active key id 'missing'"),
        ({}, "k", "at least one key"),
        ({"": KEY}, "", "non-empty"),
    ],
)
def test_invalid_keyrings_are_rejected_without_echoing_keys(
    keys: dict[str, bytes], active: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        Keyring(keys, active)
    _assert_no_key_in(str(caught.value))


def test_keyring_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = base64.b64encode(KEY).decode()
    old = base64.b64encode(OLD_KEY).decode()
    monkeypatch.setenv("PAYLOAD_CODEC_KEYS", f"k-2026={encoded}")
    assert Keyring.from_env().active == "k-2026"  # one key: it is the active one
    monkeypatch.setenv("PAYLOAD_CODEC_KEYS", f"k-2026={encoded}, k-2025={old}")
    # Several keys and none named active: refused, not "the first one" (a key put first during
    # a rotation would encrypt before every reader holds it).
    with pytest.raises(ValueError, match=r"holds 2 keys \(k-2026, k-2025\) and none is named"):
        Keyring.from_env()
    monkeypatch.setenv("PAYLOAD_CODEC_ACTIVE_KEY", "k-2025")
    ring = Keyring.from_env()
    assert ring.key_ids == ("k-2026", "k-2025")
    assert ring.active == "k-2025"
    [payload] = encode(from_spec("aes256gcm", keyring=Keyring.from_env()), [ORIGINAL])
    assert decode(from_spec("aes256gcm", keyring=KEYRING), [payload]) == [ORIGINAL]


def _no_fragment_of(secret: str, text: str) -> None:
    """Not even six characters of ``secret`` in a row appear in ``text``."""
    fragments = {secret[i : i + 6] for i in range(len(secret) - 5)}
    assert not {f for f in fragments if f in text}, text


B64 = base64.b64encode(KEY).decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (B64, "entry 1 of PAYLOAD_CODEC_KEYS is not id=BASE64KEY"),  # a key without an id
        (f"id:{B64}", "entry 1 of PAYLOAD_CODEC_KEYS is not id=BASE64KEY"),
        (B64.rstrip("="), "entry 1 of PAYLOAD_CODEC_KEYS is not id=BASE64KEY"),
        (f"{B64}={B64}", "entry 1 of PAYLOAD_CODEC_KEYS: the key is not standard base64"),
        (f"k={B64[:-3]}!!!", "entry 1 of PAYLOAD_CODEC_KEYS: the key is not standard base64"),
        (f"k={B64[:20]}", "entry 1 of PAYLOAD_CODEC_KEYS: the key decodes to 15 bytes"),
        (f"k={base64.b64encode(KEY[:16]).decode()}", "decodes to 16 bytes; AES-256 needs 32"),
        (f"a={B64},a={B64}", "entry 2 of PAYLOAD_CODEC_KEYS: its key id is given twice"),
        (f" a = {B64}", "entry 1 of PAYLOAD_CODEC_KEYS: the key id is not valid"),
        (f"a= {B64}", "entry 1 of PAYLOAD_CODEC_KEYS: the key is not standard base64"),
    ],
)
def test_bad_key_variables_are_errors_that_echo_no_fragment_of_the_value(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("PAYLOAD_CODEC_KEYS", value)
    with pytest.raises(ValueError, match=message) as caught:
        Keyring.from_env()
    _no_fragment_of(value.replace("id:", "").replace("a=", "").strip(), str(caught.value))
    _no_fragment_of(B64, str(caught.value))


def test_an_unset_key_variable_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYLOAD_CODEC_KEYS", raising=False)
    with pytest.raises(ValueError, match="PAYLOAD_CODEC_KEYS is empty or unset"):
        Keyring.from_env()
    monkeypatch.setenv("PAYLOAD_CODEC_KEYS", f"a={B64}")
    monkeypatch.setenv("PAYLOAD_CODEC_ACTIVE_KEY", "b")
    with pytest.raises(ValueError, match="the active key id is none of the 1 ids"):
        Keyring.from_env()


def _key_file(path: Path, keys: str, mode: int = 0o600) -> Path:
    path.write_text(f'{{"active": "k-2026", "keys": {{{keys}}}}}')
    path.chmod(mode)
    return path


def test_keyring_from_file(tmp_path: Path) -> None:
    path = _key_file(tmp_path / "keys.json", f'"k-2026": "{B64}"')
    assert Keyring.from_file(path).key_ids == ("k-2026",)
    path.write_text("not json")
    with pytest.raises(ValueError, match="not a keyring file"):
        Keyring.from_file(path)
    with pytest.raises(ValueError, match="cannot read keyring"):
        Keyring.from_file(tmp_path / "missing.json")


def test_a_key_file_others_can_read_is_refused_unless_allowed(tmp_path: Path) -> None:
    path = _key_file(tmp_path / "keys.json", f'"k-2026": "{B64}"', mode=0o644)
    with pytest.raises(ValueError, match=r"can be read by other users \(mode 0644\); chmod 600"):
        Keyring.from_file(path)
    assert Keyring.from_file(path, allow_insecure_permissions=True).active == "k-2026"
    path.chmod(0o640)
    with pytest.raises(ValueError, match="mode 0640"):
        Keyring.from_file(path)


def test_an_id_given_twice_in_a_key_file_is_an_error(tmp_path: Path) -> None:
    old = base64.b64encode(OLD_KEY).decode()
    path = _key_file(tmp_path / "keys.json", f'"k-2026": "{B64}", "k-2026": "{old}"')
    with pytest.raises(ValueError, match=r"entry 2 of keyring .*: its key id is given twice"):
        Keyring.from_file(path)


def test_a_warning_is_logged_once_when_a_key_nears_its_nonce_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ring = Keyring({"k": KEY}, "k", rotation_warning=3)
    codec = from_spec("aes256gcm", keyring=ring)
    with caplog.at_level("WARNING", logger="payload_codecs"):
        encode(codec, [ORIGINAL] * 5)
        encode(from_spec("zstd+aes256gcm", keyring=ring), [ORIGINAL] * 5)
    [record] = caplog.records
    assert "key id 'k' has encrypted 3 payloads in this process" in record.getMessage()
    assert "rotate" in record.getMessage()
    _assert_no_key_in(record.getMessage())


def test_generated_keyrings_are_random() -> None:
    codec_a = from_spec("aes256gcm", keyring=Keyring.generate("same-id"))
    codec_b = from_spec("aes256gcm", keyring=Keyring.generate("same-id"))
    [payload] = encode(codec_a, [ORIGINAL])
    with pytest.raises(PayloadDecryptionError):
        decode(codec_b, [payload])
