"""Envelope encryption against a real KMS API (moto's server on a free loopback port): data keys
come from GenerateDataKey, travel wrapped, are unwrapped once through Decrypt and cached within
bounds; a KMS that is gone or refuses fails closed; no KMS call ever waits on the event loop."""

from __future__ import annotations

import asyncio
import base64
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from bench.temporal.kms import KEY_ALIAS, LocalKms, local_kms
from temporalio.api.common.v1 import Payload

import payload_codecs
from payload_codecs import (
    AwsKms,
    ChainCodec,
    DataKeyPolicy,
    KeyNotReady,
    Keyring,
    KeyServiceError,
    LocalKeys,
    PayloadDecryptionError,
    from_spec,
)
from payload_codecs._envelope import DATA_KEY, MAX_WRAPPED_SIZE, PROVIDER

MARKER = b"ENVELOPE-PLAINTEXT-7d1e"
SPEC = "zstd:3+envelope@aws-kms"


@pytest.fixture(scope="module")
def kms() -> Iterator[LocalKms]:
    with local_kms() as started:
        yield started


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS settings of the host's: each codec is told its KMS by ``aws``."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def aws(kms: LocalKms, key_id: str | None = None, **policy: Any) -> ChainCodec:
    """The spec's codec on ``kms``, built as a worker builds it: the KMS's endpoint, region
    and credentials from the standard AWS variables, its key from ``PAYLOAD_CODEC_KMS_KEY_ID``
    (unless ``key_id``), data key bounds from ``policy``."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in kms.env.items():
            env.setenv(name, value)
        if key_id is not None:
            env.setenv(payload_codecs.KMS_KEY_ENV, key_id)
        return from_spec(SPEC, data_keys=DataKeyPolicy(**policy))


def payloads(count: int, size: int = 200) -> list[Payload]:
    """Payloads that do not compress (the byte bound counts what is encrypted)."""
    return [
        Payload(
            metadata={"encoding": b"json/plain"},
            data=MARKER + b"%06d" % i + random.Random(i).randbytes(size),
        )
        for i in range(count)
    ]


def one_by_one(codec: ChainCodec, items: list[Payload]) -> list[Payload]:
    """Encoded as the SDK calls a codec: one payload per call, on an event loop."""

    async def each() -> list[Payload]:
        return [(await codec.encode([item]))[0] for item in items]

    return asyncio.run(each())


def decoded(codec: ChainCodec, items: list[Payload]) -> list[Payload]:
    return asyncio.run(codec.decode(items))


def wrapped_keys(items: list[Payload]) -> list[bytes]:
    return [item.metadata[DATA_KEY] for item in items]


def test_payloads_round_trip_through_kms_data_keys_and_another_process_unwraps_each_once(
    kms: LocalKms,
) -> None:
    kms.proxy.calls.take()
    writer, reader = aws(kms), aws(kms)
    items = payloads(20)
    encoded = one_by_one(writer, items)
    assert all(MARKER not in item.SerializeToString() for item in encoded)
    first = encoded[0].metadata
    assert first["encoding"] == b"binary/encrypted-envelope"
    assert first["encryption-key-id"].decode() == kms.key_id
    assert first[PROVIDER] == b"aws-kms"
    assert len(set(wrapped_keys(encoded))) == 1  # one data key for all twenty
    assert decoded(reader, encoded) == items
    assert decoded(reader, encoded) == items
    assert kms.proxy.calls.take() == {"GenerateDataKey": 1, "Decrypt": 1}
    assert writer.stages[-1].calls == {"generate": 1, "unwrap": 0}  # type: ignore[attr-defined]
    assert decoded(writer, encoded) == items  # its own key is cached: no call
    assert kms.proxy.calls.take() == {}


def test_a_data_key_is_never_used_past_its_payload_byte_or_age_bound(kms: LocalKms) -> None:
    by_count = one_by_one(aws(kms, max_payloads=3), payloads(7))
    assert [len(set(wrapped_keys(by_count[i : i + 3]))) for i in (0, 3, 6)] == [1, 1, 1]
    assert len(set(wrapped_keys(by_count))) == 3

    by_bytes = one_by_one(aws(kms, max_bytes=1000), payloads(6, size=300))
    keys = wrapped_keys(by_bytes)
    assert [keys.count(key) for key in dict.fromkeys(keys)] == [2, 2, 2]

    aging = aws(kms, max_age_s=0.2)
    early = one_by_one(aging, payloads(2))
    time.sleep(0.3)
    late = one_by_one(aging, payloads(1))
    assert len(set(wrapped_keys(early))) == 1
    assert wrapped_keys(late) != wrapped_keys(early)[:1]
    assert decoded(aws(kms), early + late + by_count) == payloads(2) + payloads(1) + payloads(7)


def test_the_unwrapped_key_cache_is_bounded_in_entries_and_in_time(kms: LocalKms) -> None:
    items = payloads(3)
    encoded = one_by_one(aws(kms, max_payloads=1), items)  # three data keys
    reader = aws(kms, cache_entries=2, cache_ttl_s=0.3)
    stage: Any = reader.stages[-1]
    assert decoded(reader, encoded) == items
    assert stage.cached_keys == 2
    assert stage.calls["unwrap"] == 3
    assert decoded(reader, encoded[1:]) == items[1:]
    assert stage.calls["unwrap"] == 3  # the two newest stayed
    time.sleep(0.4)
    assert decoded(reader, encoded[1:]) == items[1:]
    assert stage.calls["unwrap"] == 5  # expired: unwrapped again


def test_payloads_under_a_rotated_key_still_decode(kms: LocalKms) -> None:
    client = kms.client()
    old = aws(kms, key_id=KEY_ALIAS)
    before = one_by_one(old, payloads(2))
    assert before[0].metadata["encryption-key-id"].decode() == kms.key_id  # the alias resolved
    new_key = client.create_key(Description="rotated")["KeyMetadata"]
    client.update_alias(AliasName=KEY_ALIAS, TargetKeyId=new_key["KeyId"])
    try:
        after = one_by_one(aws(kms, key_id=KEY_ALIAS), payloads(2))
        assert after[0].metadata["encryption-key-id"].decode() == new_key["Arn"]
        assert decoded(aws(kms, key_id=KEY_ALIAS), before + after) == payloads(2) * 2
    finally:
        client.update_alias(AliasName=KEY_ALIAS, TargetKeyId=kms.key_id)


def test_a_local_keyring_wraps_data_keys_and_rotates_by_its_active_key() -> None:
    old = Keyring.from_mapping({"k1": base64.b64encode(bytes(32)).decode()})
    rotated = Keyring.from_mapping(
        {"k1": base64.b64encode(bytes(32)).decode(), "k2": base64.b64encode(b"2" * 32).decode()},
        active="k2",
    )
    before = one_by_one(from_spec("lz4+envelope@local", keyring=old), payloads(2))
    after = one_by_one(from_spec("lz4+envelope@local", keyring=rotated), payloads(2))
    assert [p.metadata["encryption-key-id"] for p in before + after] == [b"k1"] * 2 + [b"k2"] * 2
    assert decoded(from_spec("lz4+envelope@local", keyring=rotated), before + after) == (
        payloads(2) * 2
    )
    with pytest.raises(PayloadDecryptionError, match="key id 'k2', which the keyring does not"):
        decoded(from_spec("lz4+envelope@local", keyring=old), after)


def test_a_kms_that_is_gone_fails_encode_and_decode_closed_even_after_a_key_ran_out() -> None:
    with local_kms() as short_lived:
        codec = aws(short_lived, max_payloads=2)
        encoded = one_by_one(codec, payloads(2))
        short_lived.process.kill()
        short_lived.process.wait()
        started = time.monotonic()
        with pytest.raises(KeyServiceError, match=r"AWS KMS GenerateDataKey .* failed"):
            one_by_one(codec, payloads(1))  # the data key is spent: no reuse past its bound
        with pytest.raises(KeyServiceError, match=r"AWS KMS Decrypt .* failed"):
            decoded(aws(short_lived), encoded)
        assert time.monotonic() - started < 30


def test_a_key_the_kms_refuses_is_an_error_on_both_sides(kms: LocalKms) -> None:
    """(moto does not refuse disabled keys, as AWS does; it refuses keys it does not know.)"""
    with pytest.raises(KeyServiceError, match="NotFoundException; check the key's state"):
        one_by_one(aws(kms, key_id="alias/no-such-key"), payloads(1))
    [item] = one_by_one(aws(kms), payloads(1))
    missing = kms.key_id.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises((KeyServiceError, PayloadDecryptionError)) as refused:
        decoded(aws(kms), [_tampered(item, encryption_key_id=missing.encode())])
    assert "00000000-0000" in str(refused.value)


def _tampered(item: Payload, **metadata: bytes) -> Payload:
    copy = Payload()
    copy.CopyFrom(item)
    for name, value in metadata.items():
        copy.metadata[name.replace("_", "-")] = value
    return copy


def test_hostile_metadata_is_refused_with_one_line_and_bounded_kms_calls(kms: LocalKms) -> None:
    [item] = one_by_one(aws(kms), payloads(1))
    wrapped = item.metadata[DATA_KEY]
    reader = aws(kms)
    cases = {
        "altered wrapped key": (
            _tampered(item, encryption_data_key=wrapped[:-1] + bytes([wrapped[-1] ^ 1])),
            "refused to unwrap",
        ),
        "oversized wrapped key": (
            _tampered(item, encryption_data_key=b"x" * (MAX_WRAPPED_SIZE + 1)),
            "more than any KMS writes",
        ),
        "another provider": (_tampered(item, encryption_key_provider=b"local"), "envelope@local"),
        "altered data": (_tampered(item), "failed authentication"),
    }
    cases["altered data"][0].data = item.data[:-1] + bytes([item.data[-1] ^ 1])
    for payload, message in cases.values():
        with pytest.raises(PayloadDecryptionError, match=message):
            decoded(reader, [payload])
    no_key = Payload(metadata={"encoding": b"binary/encrypted-envelope"}, data=b"x" * 40)
    with pytest.raises(PayloadDecryptionError, match="lacks"):
        decoded(reader, [no_key])

    five_keys = one_by_one(aws(kms, max_payloads=1), payloads(5))
    kms.proxy.calls.take()
    with pytest.raises(PayloadDecryptionError, match="more than 2 data keys that are not cached"):
        decoded(aws(kms, max_unwraps_per_call=2), five_keys)
    assert kms.proxy.calls.take() == {"Decrypt": 2}


def test_no_kms_call_ever_waits_on_the_event_loop(kms: LocalKms) -> None:
    """With the KMS 300 ms away, a task ticking every 5 ms on the same loop never waits much
    longer while encode and decode make their calls."""
    kms.proxy.delay_s = 0.3
    try:
        writer, reader = aws(kms), aws(kms)
        gaps: list[float] = []

        async def ticking(done: asyncio.Event) -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        async def main() -> list[Payload]:
            done = asyncio.Event()
            ticker = asyncio.create_task(ticking(done))
            encoded = await writer.encode(payloads(1))
            out = await reader.decode(encoded)
            done.set()
            await ticker
            return out

        started = time.perf_counter()
        assert asyncio.run(main()) == payloads(1)
        assert time.perf_counter() - started >= 0.6  # the two calls were made, and waited for
        assert max(gaps) < 0.15
    finally:
        kms.proxy.delay_s = 0.0


def test_the_sync_calls_refuse_to_call_the_kms_on_an_event_loops_thread(kms: LocalKms) -> None:
    codec = aws(kms)

    async def on_the_loop() -> None:
        codec.encode_sync(payloads(1))

    with pytest.raises(KeyNotReady, match="this thread runs an event loop"):
        asyncio.run(on_the_loop())
    assert codec.decode_sync(codec.encode_sync(payloads(1))) == payloads(1)  # off any loop


def test_no_key_reaches_a_repr_or_a_message(kms: LocalKms) -> None:
    provider = AwsKms(kms.key_id, client=kms.client())
    key = provider.generate()
    assert base64.b64encode(key.plaintext).decode() not in repr(key)
    assert key.plaintext.hex() not in repr(key)
    assert "plaintext" not in repr(key)
    local = LocalKeys(Keyring.generate("dev"))
    assert "dev" in local.describe()
    assert kms.key_id in provider.describe()
    policy = DataKeyPolicy()
    assert policy.max_payloads <= 1 << 32
    with pytest.raises(ValueError, match="max_payloads must be at most 2"):
        DataKeyPolicy(max_payloads=(1 << 32) + 1)


def test_the_policy_reads_a_containers_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYLOAD_CODEC_DATA_KEY_MAX_AGE_S", "60")
    monkeypatch.setenv("PAYLOAD_CODEC_DATA_KEY_MAX_PAYLOADS", "1000")
    assert DataKeyPolicy.from_env() == DataKeyPolicy(max_age_s=60.0, max_payloads=1000)
    monkeypatch.setenv("PAYLOAD_CODEC_DATA_KEY_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="MAX_BYTES is 'lots', not a whole number"):
        DataKeyPolicy.from_env()
    assert payload_codecs.family("envelope").encoding == "binary/encrypted-envelope"
