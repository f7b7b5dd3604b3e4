"""Encryption keys by id: one active for encoding, all of them for decoding (key rotation)."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_SIZE = 32
"""AES-256 key size in bytes."""


class Keyring:
    """AES-256 keys by id; ``active`` names the key that encodes.

    The raw key bytes are not kept: only the cipher objects built from them, so no repr, message
    or results file can carry a key. Key ids are not secret; they travel in payload metadata.
    """

    __slots__ = ("_active", "_ciphers")

    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        ciphers: dict[str, AESGCM] = {}
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not key_id:
                raise ValueError("key ids must be non-empty strings")
            if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
                raise ValueError(
                    f"key {key_id!r} must be {KEY_SIZE} bytes for AES-256, "
                    f"got {len(key) if isinstance(key, (bytes, bytearray)) else type(key).__name__}"
                )
            ciphers[key_id] = AESGCM(bytes(key))
        if active not in ciphers:
            raise ValueError(f"active key id {active!r} is not in the keyring {sorted(ciphers)}")
        self._ciphers = ciphers
        self._active = active

    @property
    def active(self) -> str:
        """Id of the key that encodes."""
        return self._active

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id the keyring can decode."""
        return tuple(self._ciphers)

    def cipher(self, key_id: str) -> AESGCM:
        """The cipher for ``key_id``; :class:`KeyError` if the keyring does not hold it."""
        return self._ciphers[key_id]

    def __repr__(self) -> str:
        return f"Keyring(key_ids={list(self._ciphers)!r}, active={self._active!r})"

    @classmethod
    def generate(cls, key_id: str = "default") -> Keyring:
        """A keyring with one fresh random key: for benchmarks and tests, not for data you keep."""
        return cls({key_id: AESGCM.generate_key(bit_length=256)}, key_id)

    @classmethod
    def from_mapping(cls, encoded: Mapping[str, str], active: str | None = None) -> Keyring:
        """Keys given as standard base64 strings by id; ``active`` defaults to the first id."""
        keys = {key_id: _decode_key(key_id, text) for key_id, text in encoded.items()}
        if not keys:
            raise ValueError("no keys given")
        return cls(keys, active if active is not None else next(iter(keys)))

    @classmethod
    def from_env(
        cls,
        keys_var: str = "PAYLOAD_CODEC_KEYS",
        active_var: str = "PAYLOAD_CODEC_ACTIVE_KEY",
    ) -> Keyring:
        """Keys from the environment, as a worker in a container or a codec server reads them.

        ``keys_var`` holds ``id=BASE64[,id=BASE64...]``; ``active_var`` names the active id and
        defaults to the first one.
        """
        text = os.environ.get(keys_var, "").strip()
        if not text:
            raise ValueError(
                f"environment variable {keys_var} is empty or unset; set it to id=BASE64KEY"
            )
        encoded: dict[str, str] = {}
        for item in text.split(","):
            key_id, sep, value = item.strip().partition("=")
            if not sep or not key_id:
                raise ValueError(f"{keys_var} must look like id=BASE64KEY[,id=BASE64KEY...]")
            encoded[key_id] = value
        return cls.from_mapping(encoded, os.environ.get(active_var) or None)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Keyring:
        """Keys from a JSON file ``{"active": ID, "keys": {ID: BASE64}}`` (a mounted secret)."""
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
            keys, active = document["keys"], document.get("active")
            if not isinstance(keys, dict):
                raise TypeError
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not a keyring file"
            raise ValueError(
                f"cannot read keyring {os.fspath(path)!r}: {reason}; "
                'expected JSON {"active": ID, "keys": {ID: BASE64KEY}}'
            ) from None
        return cls.from_mapping(keys, active)


def _decode_key(key_id: str, text: object) -> bytes:
    # The error names the id only: the text may be a nearly valid key.
    try:
        if not isinstance(text, str):
            raise TypeError
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError(f"key {key_id!r} is not standard base64 text") from None
