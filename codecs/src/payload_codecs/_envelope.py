"""Envelope encryption: payloads are encrypted with AES-256-GCM under data keys that a key
management service (KMS) makes and wraps, and each payload carries its data key wrapped.

The master key (the key-encryption key) never leaves the KMS; workers and codec servers hold
data keys in memory only, each within bounds. Encoding reuses one data key for at most
``DataKeyPolicy.max_age_s`` seconds, ``max_payloads`` payloads and ``max_bytes`` bytes, then asks
the KMS for another; decoding unwraps each data key once through the KMS and keeps it in a
bounded cache with a time to live. A provider (:class:`KeyProvider`) is the one place that
speaks to a KMS: AWS KMS and a local keyring are built in, and GCP KMS or Vault transit are one
class each.

No KMS call ever runs on an event loop: a stage that would need one there raises
:class:`KeyNotReady`, and the codec runs the call again on the executor. When the KMS cannot be
reached or refuses, encoding and decoding raise :class:`KeyServiceError`: nothing falls back to
plaintext or to a key past its bounds (the SDK fails the task, and retries it).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload

from payload_codecs._errors import KeyServiceError, PayloadDecryptionError
from payload_codecs._keyring import KEY_SIZE, Keyring
from payload_codecs._stages import (
    ENCODING,
    KEY_ID,
    NONCE_SIZE,
    EncryptionStage,
    Envelope,
    Stage,
    _text,
    open_sealed,
    seal,
)

ENVELOPE_ENCODING = b"binary/encrypted-envelope"
DATA_KEY = "encryption-data-key"
"""Metadata: the payload's data key, wrapped by the KMS (the key-encryption key's id is in
``encryption-key-id``, as ``aes256gcm`` writes it)."""
PROVIDER = "encryption-key-provider"
"""Metadata: which kind of KMS wrapped the data key (``aws-kms``, ``local``)."""
KMS_KEY_ENV = "PAYLOAD_CODEC_KMS_KEY_ID"
MAX_WRAPPED_SIZE = 6144
"""The largest wrapped data key sent to a KMS: AWS KMS's ciphertext limit. A payload naming a
larger one is refused before any call (a codec server decodes what a browser sends)."""
_LOCAL_CONTEXT = b"payload-codecs envelope data key"


@dataclass(frozen=True)
class DataKeyPolicy:
    """How long data keys live, on each side.

    Attributes:
        max_age_s: an encoding data key is replaced after this many seconds. Bounds what one
            leaked data key exposes, and how long a revoked KMS key keeps encrypting.
        max_payloads: ... or after encrypting this many payloads. Random 96-bit nonces should
            stay well under 2^32 encryptions per key (NIST SP 800-38D); a data key is one
            process's alone, so 2^20 leaves a margin of 4,096.
        max_bytes: ... or after encrypting this many bytes.
        cache_entries: unwrapped data keys a decoder keeps, least recently used first out.
        cache_ttl_s: an unwrapped data key is unwrapped again after this many seconds, so that a
            key disabled in the KMS stops decoding within this time.
        max_unwraps_per_call: data keys one decode call may ask the KMS to unwrap. A history
            page holds payloads of many worker processes, each with its own data keys, but a
            request naming thousands of unknown keys would turn one request into thousands of
            KMS calls (against a quota shared by the whole account).
    """

    max_age_s: float = 300.0
    max_payloads: int = 1 << 20
    max_bytes: int = 1 << 32
    cache_entries: int = 1000
    cache_ttl_s: float = 600.0
    max_unwraps_per_call: int = 128

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if not getattr(self, name) > 0:
                raise ValueError(f"DataKeyPolicy.{name} must be more than 0")
        if self.max_payloads > 1 << 32:
            raise ValueError("DataKeyPolicy.max_payloads must be at most 2^32 (random nonces)")

    @classmethod
    def from_env(cls, prefix: str = "PAYLOAD_CODEC_DATA_KEY_") -> DataKeyPolicy:
        """The defaults, with any of ``MAX_AGE_S``, ``MAX_PAYLOADS``, ``MAX_BYTES``,
        ``CACHE_ENTRIES``, ``CACHE_TTL_S`` and ``MAX_UNWRAPS_PER_CALL`` after ``prefix`` in the
        environment (how a worker in a container is configured)."""
        given: dict[str, Any] = {}
        for name, field in cls.__dataclass_fields__.items():
            text = os.environ.get(prefix + name.upper(), "").strip()
            if not text:
                continue
            kind = float if field.type == "float" else int
            try:
                given[name] = kind(text)
            except ValueError:
                what = "number" if kind is float else "whole number"
                raise ValueError(f"{prefix + name.upper()} is {text!r}, not a {what}") from None
        return cls(**given)


@dataclass(frozen=True)
class DataKey:
    """A fresh data key from a KMS: the key itself, wrapped, and the wrapping key's id."""

    plaintext: bytes
    wrapped: bytes
    key_id: str
    """The key-encryption key's id as the KMS names it (for AWS, the key's ARN)."""

    def __repr__(self) -> str:  # the key itself never reaches a log
        return f"DataKey(key_id={self.key_id!r}, wrapped={len(self.wrapped)} bytes)"


class KeyProvider(ABC):
    """One key management service: makes data keys and unwraps them. Calls block (they are
    made off the event loop) and raise :class:`KeyServiceError` when the service cannot be
    reached or refuses, :class:`PayloadDecryptionError` when a wrapped key is not one it
    wrapped."""

    name: str
    """The implementation name in a spec (``envelope@NAME``) and in payload metadata."""

    @abstractmethod
    def generate(self) -> DataKey:
        """A new 256-bit data key, wrapped under the provider's current key."""

    @abstractmethod
    def unwrap(self, wrapped: bytes, key_id: str) -> bytes:
        """The data key that ``wrapped`` (wrapped under ``key_id``) holds."""

    def describe(self) -> str:
        """Which service and key, for logs and results (never a secret)."""
        return self.name


class LocalKeys(KeyProvider):
    """A keyring as the key-encryption keys, for development and tests: data keys are wrapped
    with AES-256-GCM under the keyring's active key and unwrapped under the key their id names,
    so adding a new active key rotates while payloads under the older ones still decode."""

    name = "local"

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def generate(self) -> DataKey:
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_SIZE)
        active = self._keyring.active
        wrapped = nonce + self._keyring.cipher(active).encrypt(nonce, key, _LOCAL_CONTEXT)
        return DataKey(key, wrapped, active)

    def unwrap(self, wrapped: bytes, key_id: str) -> bytes:
        if key_id not in self._keyring.key_ids:
            raise PayloadDecryptionError(
                f"data key wrapped under key id {key_id!r}, which the keyring does not hold "
                f"(it holds {list(self._keyring.key_ids)}); add that key to decode it"
            )
        view = memoryview(wrapped)
        try:
            return self._keyring.cipher(key_id).decrypt(
                view[:NONCE_SIZE], view[NONCE_SIZE:], _LOCAL_CONTEXT
            )
        except (InvalidTag, ValueError):
            raise PayloadDecryptionError(
                f"data key wrapped under key id {key_id!r} failed authentication: it was "
                "altered, or wrapped with another key under this id"
            ) from None

    def describe(self) -> str:
        return f"local keyring (active key {self._keyring.active!r})"


class AwsKms(KeyProvider):
    """AWS KMS (or any service that speaks its API): GenerateDataKey with ``key_id``, Decrypt
    with the key id each payload names, so payloads under rotated or older keys decode.

    ``key_id`` is a key id, ARN or ``alias/NAME`` (default: ``PAYLOAD_CODEC_KMS_KEY_ID``). The
    endpoint, region and credentials come from the AWS SDK's standard configuration
    (``AWS_ENDPOINT_URL_KMS`` or ``AWS_ENDPOINT_URL``, ``AWS_REGION``, the usual variables and
    files) unless a boto3 ``client`` is given. Each call gives up after ``timeout_s`` to connect
    and to read, with one retry: a KMS that does not answer fails the task within seconds
    rather than holding a worker's thread."""

    name = "aws-kms"

    def __init__(
        self, key_id: str | None = None, *, client: Any = None, timeout_s: float = 5.0
    ) -> None:
        key_id = key_id or os.environ.get(KMS_KEY_ENV, "").strip()
        if not key_id:
            raise ValueError(
                f"envelope@aws-kms needs a KMS key: set {KMS_KEY_ENV} to a key id, ARN or "
                "alias/NAME, or pass AwsKms(key_id=...)"
            )
        self.key_id = key_id
        self._client = client if client is not None else _kms_client(timeout_s)

    def generate(self) -> DataKey:
        answer = self._call("GenerateDataKey", self.key_id, KeyId=self.key_id, KeySpec="AES_256")
        return DataKey(answer["Plaintext"], answer["CiphertextBlob"], answer["KeyId"])

    def unwrap(self, wrapped: bytes, key_id: str) -> bytes:
        answer = self._call("Decrypt", key_id, CiphertextBlob=wrapped, KeyId=key_id)
        plaintext: bytes = answer["Plaintext"]
        return plaintext

    def _call(self, operation: str, key_id: str, **arguments: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        method = (
            self._client.generate_data_key
            if operation == "GenerateDataKey"
            else (self._client.decrypt)
        )
        try:
            answer: dict[str, Any] = method(**arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "?")
            if code in _NOT_OURS:
                raise PayloadDecryptionError(
                    f"AWS KMS refused to unwrap the payload's data key under {key_id!r} ({code}): "
                    "it was altered, or wrapped by another key"
                ) from None
            raise KeyServiceError(
                f"AWS KMS {operation} with key {key_id!r} failed: {code}; check the key's state "
                "and this process's permissions"
            ) from None
        except BotoCoreError as error:
            raise KeyServiceError(
                f"AWS KMS {operation} with key {key_id!r} failed: {error}; check "
                "AWS_ENDPOINT_URL_KMS, the region and the network"
            ) from None
        return answer

    def describe(self) -> str:
        return f"AWS KMS at {self._client.meta.endpoint_url} (key {self.key_id})"


_NOT_OURS = {"InvalidCiphertextException", "IncorrectKeyException"}
"""KMS answers that mean the wrapped key is at fault, not the service."""


def _kms_client(timeout_s: float) -> Any:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    config = Config(
        connect_timeout=timeout_s, read_timeout=timeout_s, retries={"total_max_attempts": 2}
    )
    try:
        # A session of its own: boto3's default session is not safe to share between threads.
        return boto3.session.Session().client("kms", config=config)
    except NoRegionError:
        raise ValueError("envelope@aws-kms needs an AWS region: set AWS_REGION") from None


class KeyNotReady(KeyServiceError):
    """A KMS call is needed and this thread runs an event loop, where it would stall every task.
    :class:`ChainCodec` catches it and runs the call again on the executor; a caller of
    ``encode_sync``/``decode_sync`` sees it only when calling those on an event loop's
    thread."""

    def __init__(self) -> None:
        super().__init__(
            "a KMS call is needed and this thread runs an event loop; await the codec's encode "
            "or decode, or call encode_sync and decode_sync from another thread"
        )


class _Sealing:
    """An encoding data key with what it has encrypted so far."""

    __slots__ = ("bytes", "cipher", "envelope", "expires", "payloads")

    def __init__(self, key: DataKey, provider: str, max_age_s: float) -> None:
        self.cipher = AESGCM(key.plaintext)
        self.envelope = Envelope(
            {
                ENCODING: ENVELOPE_ENCODING,
                KEY_ID: key.key_id.encode(),
                DATA_KEY: key.wrapped,
                PROVIDER: provider.encode(),
            }
        )
        self.expires = time.monotonic() + max_age_s
        self.payloads = 0
        self.bytes = 0


class EnvelopeStage(Stage):
    """AES-256-GCM under KMS data keys: ``nonce(12) || ciphertext || tag(16)`` as ``aes256gcm``
    writes it, with the wrapped data key, the key-encryption key's id and the provider in the
    payload's metadata. ``calls`` counts what this stage asked of the KMS."""

    encoding = ENVELOPE_ENCODING
    encrypts = True
    library = f"{EncryptionStage.library} under KMS data keys"
    integrity = EncryptionStage.integrity

    def __init__(self, provider: KeyProvider, policy: DataKeyPolicy | None = None) -> None:
        self.provider = provider
        self.policy = policy or DataKeyPolicy()
        self.calls = {"generate": 0, "unwrap": 0}
        self._sealing: _Sealing | None = None
        self._lock = threading.Lock()
        """Guards ``_sealing``'s counts and the cache; never held across a KMS call."""
        self._renewing = threading.Lock()
        """Held by the one thread asking the KMS for a new encoding key."""
        self._cache: OrderedDict[tuple[bytes, bytes], tuple[AESGCM, float]] = OrderedDict()
        self._call = threading.local()

    def encode(self, blob: bytes) -> Payload:
        sealing, sealed = self._seal(blob)
        return sealing.envelope.wrap(sealed)

    def encode_serialized(self, blob: bytes) -> bytes:
        sealing, sealed = self._seal(blob)
        return sealing.envelope.serialized(sealed)

    def raw_encode(self, data: bytes) -> bytes:
        return self._seal(data)[1]

    def raw_decode(self, data: bytes) -> bytes:
        sealing = self._sealing
        if sealing is None:
            raise PayloadDecryptionError("no data key yet: raw_decode follows raw_encode")
        return open_sealed(sealing.cipher, data, "the current data key")

    def cost(self) -> tuple[float, float]:
        return 1.0, 1.0  # AES-GCM, as aes256gcm

    def _seal(self, data: bytes) -> tuple[_Sealing, bytes]:
        sealing = self._admit(len(data))
        return sealing, seal(sealing.cipher, data)

    def _admit(self, size: int) -> _Sealing:
        """The data key to encrypt ``size`` more bytes with, counted; a new one from the KMS
        when the current one would pass a bound (never on an event loop's thread)."""
        while True:
            with self._lock:
                sealing = self._sealing
                if sealing is not None and self._admits(sealing, size):
                    sealing.payloads += 1
                    sealing.bytes += size
                    return sealing
            if _on_event_loop():
                raise KeyNotReady
            with self._renewing:
                if self._sealing is sealing:  # no other thread renewed it meanwhile
                    self._sealing = self._renew()

    def _renew(self) -> _Sealing:
        """A new encoding key from the KMS, also cached for decoding: a worker often decodes
        what it encoded (an activity's result, in its own workflow)."""
        key = self.provider.generate()
        sealing = _Sealing(key, self.provider.name, self.policy.max_age_s)
        with self._lock:
            self.calls["generate"] += 1
            self._remember((key.key_id.encode(), key.wrapped), sealing.cipher)
        return sealing

    def _admits(self, sealing: _Sealing, size: int) -> bool:
        policy = self.policy
        return (
            sealing.payloads < policy.max_payloads
            and sealing.bytes + size <= policy.max_bytes
            and time.monotonic() < sealing.expires
        )

    def new_call(self) -> None:
        """Start counting unwraps for one decode call on this thread (see
        ``DataKeyPolicy.max_unwraps_per_call``)."""
        self._call.unwraps = 0

    def decode(self, payload: Payload, data: bytes, max_size: int) -> bytes:
        metadata = payload.metadata
        if KEY_ID not in metadata or DATA_KEY not in metadata:
            raise PayloadDecryptionError(
                f"envelope-encrypted payload lacks {KEY_ID!r} or {DATA_KEY!r} metadata; it was "
                "not written by an envelope codec"
            )
        raw_id, wrapped = metadata[KEY_ID], metadata[DATA_KEY]
        cipher = self._cipher(raw_id, wrapped, metadata)
        return open_sealed(cipher, data, f"a data key under {_text(raw_id)!r}")

    def _cipher(self, raw_id: bytes, wrapped: bytes, metadata: Any) -> AESGCM:
        """The unwrapped data key ``wrapped`` names: from the cache, else from the KMS."""
        entry = (raw_id, wrapped)
        with self._lock:
            cached = self._cache.get(entry)
            if cached is not None and cached[1] > time.monotonic():
                self._cache.move_to_end(entry)
                return cached[0]
        if _on_event_loop():
            raise KeyNotReady
        provider = metadata[PROVIDER].decode("utf-8", "replace") if PROVIDER in metadata else "?"
        if provider != self.provider.name:
            raise PayloadDecryptionError(
                f"payload's data key was wrapped by {provider!r}, this codec unwraps with "
                f"{self.provider.name!r}; decode it with envelope@{provider}"
            )
        if len(wrapped) > MAX_WRAPPED_SIZE:
            raise PayloadDecryptionError(
                f"payload's wrapped data key is {len(wrapped):,} bytes, more than any KMS "
                f"writes ({MAX_WRAPPED_SIZE:,}); it is not a data key"
            )
        self._count_unwrap()
        key = self.provider.unwrap(wrapped, _text(raw_id))
        if len(key) != KEY_SIZE:
            raise PayloadDecryptionError(f"unwrapped data key is {len(key)} bytes, not 32")
        cipher = AESGCM(key)
        with self._lock:
            self.calls["unwrap"] += 1
            self._remember(entry, cipher)
        return cipher

    def _remember(self, entry: tuple[bytes, bytes], cipher: AESGCM) -> None:
        """Cache ``cipher`` for ``entry`` (key id, wrapped key); the caller holds the lock."""
        self._cache[entry] = (cipher, time.monotonic() + self.policy.cache_ttl_s)
        self._cache.move_to_end(entry)
        while len(self._cache) > self.policy.cache_entries:
            self._cache.popitem(last=False)

    def _count_unwrap(self) -> None:
        done = getattr(self._call, "unwraps", 0)
        if done >= self.policy.max_unwraps_per_call:
            raise PayloadDecryptionError(
                f"the payloads name more than {self.policy.max_unwraps_per_call} data keys that "
                "are not cached; decode fewer at once, or raise "
                "DataKeyPolicy.max_unwraps_per_call"
            )
        self._call.unwraps = done + 1

    @property
    def cached_keys(self) -> int:
        """Unwrapped data keys held now."""
        return len(self._cache)


def _on_event_loop() -> bool:
    """Whether this thread runs an event loop (where a KMS call would stall every task)."""
    return asyncio._get_running_loop() is not None
