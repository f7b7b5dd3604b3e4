"""Encryption keys by id: one active for encoding, all of them for decoding (key rotation).

Parsing key material is where secrets leak into logs: every message here names an entry by its
position, never by any part of what was written there, because what looks like an id may be a
key pasted without one.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_SIZE = 32
"""AES-256 key size in bytes."""
ROTATION_WARNING = 1 << 28
"""Encryptions under one key, in one process, after which the codec logs a warning once: random
96-bit nonces should stay well under 2^32 per key across all processes (NIST SP 800-38D), and a
fleet of 16 workers reaches that together."""
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ID_RULE = "letters, digits, '.', '_' and '-', at most 64, starting with a letter or digit"


class Keyring:
    """AES-256 keys by id; ``active`` names the key that encodes.

    The raw key bytes are not kept: only the cipher objects built from them, so no repr, message
    or results file can carry a key. Key ids are not secret; they travel in payload metadata.
    ``rotation_warning`` is the encryption count per key and process at which the codec warns
    (``None``: never).
    """

    __slots__ = ("_active", "_ciphers", "_uses", "rotation_warning")

    def __init__(
        self,
        keys: Mapping[str, bytes],
        active: str,
        *,
        rotation_warning: int | None = ROTATION_WARNING,
    ) -> None:
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
        self._uses = {key_id: itertools.count(1) for key_id in ciphers}
        self.rotation_warning = rotation_warning

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

    def uses(self, key_id: str) -> itertools.count[int]:
        """The counter of encryptions under ``key_id`` in this process, shared by every codec
        built on this keyring (``next()`` on it is atomic under the GIL)."""
        return self._uses[key_id]

    def __repr__(self) -> str:
        return f"Keyring(key_ids={list(self._ciphers)!r}, active={self._active!r})"

    @classmethod
    def generate(cls, key_id: str = "default") -> Keyring:
        """A keyring with one fresh random key: for benchmarks and tests, not for data you keep."""
        return cls({key_id: AESGCM.generate_key(bit_length=256)}, key_id)

    @classmethod
    def from_mapping(cls, encoded: Mapping[str, str], active: str | None = None) -> Keyring:
        """Keys given as standard base64 strings by id; ``active`` names the one that encrypts
        (required with several keys)."""
        return cls._parsed(list(encoded.items()), active, "the key mapping", "pass active=ID")

    @classmethod
    def _parsed(
        cls, items: list[tuple[str, Any]], active: str | None, source: str, naming: str
    ) -> Keyring:
        """Keys from ``(id, base64)`` pairs, every problem named by position in ``source``.
        With several keys the active one must be named (``naming`` says how): taking the first
        would let a key put first during a rotation encrypt before every reader holds it."""
        if not items:
            raise ValueError(f"{source} holds no keys; expected id=BASE64KEY")
        keys: dict[str, bytes] = {}
        for number, (key_id, text) in enumerate(items, start=1):
            where = f"entry {number} of {source}"
            if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
                raise ValueError(
                    f"{where}: the key id is not valid ({ID_RULE}); write id=BASE64KEY"
                )
            if key_id in keys:
                raise ValueError(f"{where}: its key id is given twice; every id must be unique")
            keys[key_id] = _decode_key(where, text)
        if active is not None and active not in keys:
            raise ValueError(f"the active key id is none of the {len(keys)} ids in {source}")
        if active is None and len(keys) > 1:
            raise ValueError(
                f"{source} holds {len(keys)} keys ({', '.join(keys)}) and none is named active: "
                f"{naming} to the id that encrypts new payloads (the others only decrypt)"
            )
        return cls(keys, active if active is not None else next(iter(keys)))

    @classmethod
    def from_env(
        cls,
        keys_var: str = "PAYLOAD_CODEC_KEYS",
        active_var: str = "PAYLOAD_CODEC_ACTIVE_KEY",
    ) -> Keyring:
        """Keys from the environment, as a worker in a container or a codec server reads them.

        ``keys_var`` holds ``id=BASE64[,id=BASE64...]`` (no spaces around ``=``); ``active_var``
        names the active id, required when there are several keys.
        """
        text = os.environ.get(keys_var, "").strip()
        if not text:
            raise ValueError(
                f"environment variable {keys_var} is empty or unset; set it to id=BASE64KEY"
            )
        items: list[tuple[str, Any]] = []
        for number, item in enumerate(text.split(","), start=1):
            key_id, sep, value = item.strip().partition("=")
            if not sep or not value:
                raise ValueError(
                    f"entry {number} of {keys_var} is not id=BASE64KEY; write "
                    f"{keys_var}=id=BASE64KEY[,id=BASE64KEY...]"
                )
            items.append((key_id, value))
        active = os.environ.get(active_var) or None
        return cls._parsed(items, active, keys_var, f"set {active_var}")

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, allow_insecure_permissions: bool = False
    ) -> Keyring:
        """Keys from a JSON file ``{"active": ID, "keys": {ID: BASE64}}`` (a mounted secret).

        Like ssh with a private key, a file that other users could read is refused unless
        ``allow_insecure_permissions``: chmod it 600 or 400 (in Kubernetes, ``defaultMode:
        0400`` on the secret volume).
        """
        name = os.fspath(path)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            top = json.loads(Path(path).read_text(encoding="utf-8"), object_pairs_hook=_Pairs)
            document = dict(top)
            keys, active = document["keys"], document.get("active")
            if not isinstance(keys, _Pairs) or not (active is None or isinstance(active, str)):
                raise TypeError
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not a keyring file"
            raise ValueError(
                f"cannot read keyring {name!r}: {reason}; "
                'expected JSON {"active": ID, "keys": {ID: BASE64KEY}}'
            ) from None
        if mode & 0o077 and not allow_insecure_permissions:
            raise ValueError(
                f"keyring {name!r} can be read by other users (mode {mode:04o}); "
                f"chmod 600 {name!r}, as ssh requires of private keys"
            )
        return cls._parsed(keys, active, f"keyring {name!r}", 'set "active"')


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its list of pairs, so that an id given twice is seen rather than
    silently replaced."""


def _decode_key(where: str, text: object) -> bytes:
    # Name the entry only: the text may be a nearly valid key.
    try:
        if not isinstance(text, str):
            raise TypeError
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError(f"{where}: the key is not standard base64 text") from None
    if len(key) != KEY_SIZE:
        raise ValueError(
            f"{where}: the key decodes to {len(key)} bytes; AES-256 needs {KEY_SIZE} "
            "(make one with: openssl rand -base64 32)"
        )
    return key
