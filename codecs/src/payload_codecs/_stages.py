"""One step of a codec chain: turns a serialized Payload into an outer Payload and back.

Stages work on the serialized inner Payload (``bytes``) rather than on Payload objects so that a
chain serializes each payload once per stage and never copies payload data needlessly.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload

from payload_codecs._compression import Compressor
from payload_codecs._errors import DecodedSizeError, PayloadDecodeError, PayloadDecryptionError
from payload_codecs._keyring import Keyring

_CRYPTOGRAPHY = importlib.metadata.version("cryptography")
_OPENSSL = openssl_backend.openssl_version_text()
ENCODING = "encoding"
KEY_ID = "encryption-key-id"
NONCE_SIZE = 12
TAG_SIZE = 16
_LOG = logging.getLogger("payload_codecs")
MAX_DECODED_SIZE = 64 << 20
"""Default decoded-size limit: 32 times Temporal's 2 MiB payload limit, room for JSON that
compresses 10-30x, while a hostile payload costs a worker or codec server at most this much."""


@dataclass(frozen=True)
class CodecOptions:
    """Production options of compression stages. Encryption ignores them: it always encrypts.

    Attributes:
        min_size: serialized payloads smaller than this many bytes are passed through without
            compression (tiny payloads rarely shrink and still cost a library call).
        keep_if_not_smaller: when compression does not make a payload smaller, keep the original
            payload, as the Go SDK's zlib codec does by default. The decoder does not care.
            Smaller means the whole stored payload, envelope included: a 40-byte payload that
            compresses to 35 bytes would still grow by its ``encoding`` metadata.
        offload_after_us: when one call's work is expected to take at least this many
            microseconds, it runs on the event loop's default executor instead of stalling the
            loop that the SDK calls codecs on. Expected: the call's bytes (decoded bytes on
            decode) times the chain's cost per byte, which starts from each stage's measured
            prior and follows what the codec's own large calls take. So fast work (AES-GCM, LZ4
            decoding) stays on the loop up to megabytes, while slow work (gzip:9, zstd:19) goes
            to a thread from tens of kilobytes. ``None`` never offloads, ``0`` always does.
            Handing work to a thread costs tens of microseconds, more than most small payloads
            take to encode.
        max_decoded_size: the most bytes one payload may decode to. Enforced while decoding,
            whatever the payload claims: a decompression bomb fails with
            :class:`DecodedSizeError` after at most this much memory. The default, 64 MiB, is 32
            times Temporal's 2 MiB payload limit: JSON that compresses even 30x under the limit
            still decodes.
    """

    min_size: int = 0
    keep_if_not_smaller: bool = True
    offload_after_us: float | None = 1000.0
    max_decoded_size: int = MAX_DECODED_SIZE

    def __post_init__(self) -> None:
        if self.min_size < 0:
            raise ValueError(f"min_size must be 0 or more, got {self.min_size}")
        if self.offload_after_us is not None and not self.offload_after_us >= 0:
            raise ValueError(f"offload_after_us must be 0 or more, got {self.offload_after_us}")
        if self.max_decoded_size < 1:
            raise ValueError(f"max_decoded_size must be 1 or more, got {self.max_decoded_size}")


class Stage(ABC):
    """One encoding step. ``encoding`` is the metadata value it writes and decodes."""

    encoding: bytes
    library: str
    """The library doing the work, with versions, for results."""

    encrypts: bool = False
    """Whether the stage encrypts (then failure messages should be encoded too)."""

    hints_size: bool = False
    """Whether :meth:`decoded_size` tells more than :meth:`decode` enforces on its own before
    any work: then the codec asks it before decoding even one payload, to send a payload that
    will decode large straight to the executor. A format that states its size refuses one over
    the limit it is given before decoding anything, so asking it first would repeat the read."""

    @abstractmethod
    def encode(self, blob: bytes) -> Payload | None:
        """The outer payload for serialized payload ``blob``, or ``None`` to leave it as is."""

    def encode_serialized(self, blob: bytes) -> bytes | None:
        """:meth:`encode`'s payload serialized, for the next stage of a chain; stages with a
        fixed envelope write those bytes directly, without a Payload in between."""
        encoded = self.encode(blob)
        return None if encoded is None else serialize(encoded)

    @abstractmethod
    def decode(self, payload: Payload, data: bytes, max_size: int) -> bytes | memoryview:
        """The serialized inner payload from ``payload`` (whose data is ``data``), which carries
        this stage's encoding, at most ``max_size`` bytes. Raises :class:`PayloadDecodeError`
        (:class:`DecodedSizeError` for a larger one) when it cannot."""

    def decoded_size(self, data: bytes) -> int:
        """What ``data`` is expected to decode to, to decide where the work runs (not trusted
        for memory: :meth:`decode` enforces its limit itself)."""
        return len(data)

    def cost(self) -> tuple[float, float]:
        """Expected nanoseconds per byte, encode (per input byte) and decode (per output
        byte), to decide where the work runs; unknown stages are assumed to run at 100 MB/s."""
        return 10.0, 10.0

    def input_cost(self) -> float:
        """Nanoseconds per input byte that decoding the costliest input of that size may take
        (see ``Compressor.input_cost``): the loop's share of a payload's bytes, whatever they
        state."""
        return 1.0

    @abstractmethod
    def raw_encode(self, data: bytes) -> bytes:
        """The bare bytes-to-bytes transform (no Payload around it), for the raw benchmark layer."""

    @abstractmethod
    def raw_decode(self, data: bytes) -> bytes | memoryview:
        """Inverse of :meth:`raw_encode`."""


class CompressionStage(Stage):
    """Compresses the serialized payload with one :class:`Compressor`."""

    def __init__(self, compressor: Compressor, encoding: str, options: CodecOptions) -> None:
        self.compressor = compressor
        self.library = compressor.library
        self.hints_size = compressor.hints_size
        self.encoding = encoding.encode()
        self._envelope = Envelope({ENCODING: self.encoding})
        self._min_size = options.min_size
        self._keep = options.keep_if_not_smaller
        self._limit = options.max_decoded_size

    def encode(self, blob: bytes) -> Payload | None:
        data = self._compressed(blob)
        return None if data is None else self._envelope.wrap(data)

    def encode_serialized(self, blob: bytes) -> bytes | None:
        data = self._compressed(blob)
        return None if data is None else self._envelope.serialized(data)

    def _compressed(self, blob: bytes) -> bytes | None:
        """The outer payload's data, or ``None`` when the payload stays as it is."""
        if len(blob) < self._min_size:
            return None
        data = self.compressor.compress(blob)
        size = self._envelope.size
        # The exact stored size only matters within a few bytes of the original (a field's
        # length prefix takes at most 5): the first test spares most calls the second.
        if (
            self._keep
            and size + len(data) + 6 >= len(blob)
            and self._envelope.stored(data) >= len(blob)
        ):
            return None
        return data

    def raw_encode(self, data: bytes) -> bytes:
        return self.compressor.compress(data)

    def raw_decode(self, data: bytes) -> bytes | memoryview:
        return self.compressor.decompress(data, self._limit)

    def decoded_size(self, data: bytes) -> int:
        size = self.compressor.decoded_size(data)
        return len(data) if size is None else size

    def cost(self) -> tuple[float, float]:
        return self.compressor.cost()

    def input_cost(self) -> float:
        return self.compressor.input_cost

    def decode(self, payload: Payload, data: bytes, max_size: int) -> bytes | memoryview:
        try:
            return self.compressor.decompress(data, max_size)
        except DecodedSizeError:
            raise
        except Exception as error:  # each library raises its own type; the caller needs one
            raise PayloadDecodeError(
                f"cannot decompress {self.encoding.decode()} payload of {len(data)} bytes: {error}"
            ) from None


class EncryptionStage(Stage):
    """AES-256-GCM as the official Temporal samples lay it out: ``nonce(12) || ciphertext ||
    tag(16)``, no associated data, key id in the ``encryption-key-id`` metadata."""

    encoding = b"binary/encrypted"
    encrypts = True
    library = f"cryptography {_CRYPTOGRAPHY} AESGCM ({_OPENSSL})"
    integrity = "AES-GCM tag (any change is an authentication error)"

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._cipher = keyring.cipher(keyring.active)
        # By the id's bytes as the metadata carries them: decoding each payload's id to text to
        # look it up cost more than the lookup.
        self._ciphers = {key_id.encode(): keyring.cipher(key_id) for key_id in keyring.key_ids}
        self._active_id = keyring.active.encode()
        self._envelope = Envelope({ENCODING: self.encoding, KEY_ID: self._active_id})
        self._uses = keyring.uses(keyring.active)
        self._warn_at = keyring.rotation_warning

    def raw_encode(self, data: bytes) -> bytes:
        if next(self._uses) == self._warn_at:
            _LOG.warning(
                "key id %r has encrypted %d payloads in this process; with random 96-bit "
                "nonces, all processes together should stay well below 2^32 per key: rotate "
                "to a new active key",
                self._keyring.active,
                self._warn_at,
            )
        return seal(self._cipher, data)

    def raw_decode(self, data: bytes) -> bytes:
        return self._open(self._cipher, self._active_id, data)

    def cost(self) -> tuple[float, float]:
        # AES-GCM with AES-NI: 1.3-2.2 GB/s each way in the reference run, rounded up.
        return 1.0, 1.0

    def encode(self, blob: bytes) -> Payload:
        return self._envelope.wrap(self.raw_encode(blob))

    def decode(self, payload: Payload, data: bytes, max_size: int) -> bytes:
        metadata = payload.metadata
        # A protobuf map's ``get`` is a Python-level method: ``in`` then indexing (which alone
        # would insert a missing key) is 100 ns less.
        if KEY_ID not in metadata:
            raise PayloadDecryptionError(
                f"encrypted payload has no {KEY_ID!r} metadata; cannot choose a key"
            )
        raw_id = metadata[KEY_ID]
        cipher = self._ciphers.get(raw_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"encrypted payload uses key id {_text(raw_id)!r}, which the keyring does not "
                f"hold (it holds {list(self._keyring.key_ids)}); add that key to decode it"
            )
        return self._open(cipher, raw_id, data)

    def _open(self, cipher: AESGCM, raw_id: bytes, data: bytes) -> bytes:
        """``data`` decrypted with ``cipher``, the key that ``raw_id`` names in errors."""
        return open_sealed(cipher, data, f"key id {_text(raw_id)!r}")


def seal(cipher: AESGCM, data: bytes) -> bytes:
    """``nonce(12) || ciphertext || tag(16)``: ``data`` encrypted with ``cipher`` under a fresh
    random nonce, as the official samples lay it out."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + cipher.encrypt(nonce, data, None)


def open_sealed(cipher: AESGCM, data: bytes, which: str) -> bytes:
    """``nonce(12) || ciphertext || tag(16)`` decrypted with ``cipher``; ``which`` names the
    key in errors (never the key itself)."""
    if len(data) < NONCE_SIZE + TAG_SIZE:
        raise PayloadDecryptionError(
            f"encrypted payload ({which}) is {len(data)} bytes, shorter than nonce and tag "
            f"({NONCE_SIZE + TAG_SIZE}); it is truncated"
        )
    view = memoryview(data)
    try:
        return cipher.decrypt(view[:NONCE_SIZE], view[NONCE_SIZE:], None)
    except InvalidTag:
        raise PayloadDecryptionError(
            f"encrypted payload ({which}) failed authentication: it was altered, truncated, or "
            "encrypted with another key under this id"
        ) from None


def _text(raw_id: bytes) -> str:
    """A key id from payload metadata, as text for a message, whatever bytes it holds."""
    return raw_id.decode("utf-8", "replace")


class Envelope:
    """A stage's outer payload: fixed metadata around the data it writes."""

    def __init__(self, metadata: dict[str, bytes]) -> None:
        self._template = Payload(metadata=metadata)
        self._prefix = serialize(self._template)
        self.size = len(self._prefix)
        """Serialized size of the metadata alone."""

    def wrap(self, data: bytes) -> Payload:
        """The outer payload holding ``data``."""
        # Copying a prepared message is about four times cheaper than building the metadata
        # map anew, which matters for the many small payloads of a typical workflow.
        payload = Payload()
        payload.CopyFrom(self._template)
        payload.data = data
        return payload

    def serialized(self, data: bytes) -> bytes:
        """``serialize(self.wrap(data))``, byte for byte, written directly: the metadata, then
        field 2 (``data``, length-delimited); proto3 leaves an empty field out."""
        if not data:
            return self._prefix
        return b"".join((self._prefix, _data_header(len(data)), data))

    def stored(self, data: bytes) -> int:
        """Serialized size of the outer payload holding ``data``."""
        return self.size + (len(_data_header(len(data))) + len(data) if data else 0)


def _data_header(length: int) -> bytes:
    """Payload field 2's tag (wire type 2) and its length as a varint."""
    # Payloads under 16 KiB, most of them, take a branch without the loop: 0.17 us instead of
    # 0.28 us, on every chained encode.
    if length < 0x4000:
        return (
            bytes((0x12, length))
            if length < 0x80
            else bytes((0x12, length & 0x7F | 0x80, length >> 7))
        )
    out = bytearray(b"\x12")
    while length > 0x7F:
        out.append(length & 0x7F | 0x80)
        length >>= 7
    out.append(length)
    return bytes(out)


def serialize(payload: Payload) -> bytes:
    """The payload's bytes, the same in every process. The protobuf runtime writes map entries
    (the metadata) in an order that differs between processes, which would make compressed
    sizes differ from run to run; sorting costs a few hundred nanoseconds, so it is only asked
    for when there is more than one entry to order."""
    if len(payload.metadata) > 1:
        return payload.SerializeToString(deterministic=True)
    return payload.SerializeToString()
