"""Production options: minimum size, keep-the-original, work off the event loop."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest
from bench.loopstall import StallMonitor
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DefaultFailureConverter,
    DefaultFailureConverterWithEncodedAttributes,
)

from payload_codecs import (
    ChainCodec,
    CodecOptions,
    CompressionStage,
    Keyring,
    Stage,
    data_converter,
    from_spec,
)
from payload_codecs._codec import TIME_EVERY
from tests.codecs.helpers import COMPRESSIBLE, decode, encode, json_payload


def test_payloads_below_min_size_pass_through() -> None:
    small, large = json_payload(COMPRESSIBLE[:100]), json_payload(COMPRESSIBLE)
    codec = from_spec("zstd", options=CodecOptions(min_size=small.ByteSize() + 1))
    encoded = encode(codec, [small, large])
    assert encoded[0] == small
    assert encoded[1].metadata["encoding"] == b"binary/zstd"
    assert decode(codec, encoded) == [small, large]


def test_incompressible_payloads_are_kept_by_default_and_wrapped_on_request() -> None:
    noise = Payload(metadata={"encoding": b"binary/plain"}, data=os.urandom(2048))
    assert encode(from_spec("lz4"), [noise]) == [noise]
    always = from_spec("lz4", options=CodecOptions(keep_if_not_smaller=False))
    [wrapped] = encode(always, [noise])
    assert wrapped.metadata["encoding"] == b"binary/lz4"
    assert wrapped.ByteSize() > noise.ByteSize()
    assert decode(always, [wrapped]) == [noise]


def test_encryption_ignores_the_compression_options() -> None:
    options = CodecOptions(min_size=10**9, keep_if_not_smaller=True)
    codec = from_spec("aes256gcm", keyring=Keyring.generate(), options=options)
    [encrypted] = encode(codec, [json_payload(b"1")])
    assert encrypted.metadata["encoding"] == b"binary/encrypted"


@pytest.mark.parametrize(("field", "value"), [("min_size", -1), ("offload_after_us", -5)])
def test_negative_options_are_rejected(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        CodecOptions(**{field: value})  # type: ignore[arg-type]


class _ThreadRecorder(Stage):
    """A pass-through stage that records which thread ran it, taking ``seconds`` per call,
    with a stated prior of ``prior`` ns per byte."""

    encoding = b"binary/recorder"
    library = "test"

    def __init__(self, prior: float = 1.0, seconds: float = 0.0) -> None:
        self.threads: list[threading.Thread] = []
        self._prior = prior
        self._seconds = seconds

    def _work(self) -> None:
        self.threads.append(threading.current_thread())
        # CPU seconds, as the codec times its calls: a busy test machine only stretches them.
        until = time.thread_time() + self._seconds
        while time.thread_time() < until:
            pass

    def encode(self, blob: bytes) -> Payload | None:
        self._work()
        return Payload(metadata={"encoding": self.encoding}, data=blob)

    def decode(self, payload: Payload, data: bytes, max_size: int) -> bytes:
        self._work()
        return data

    def raw_encode(self, data: bytes) -> bytes:
        return data

    def raw_decode(self, data: bytes) -> bytes:
        return data

    def cost(self) -> tuple[float, float]:
        return self._prior, self._prior

    def on_loop(self) -> list[bool]:
        return [thread is threading.main_thread() for thread in self.threads]


@pytest.mark.parametrize(("size", "offloaded"), [(1000, False), (5000, True)])
def test_calls_expected_to_take_the_budget_or_more_run_off_the_event_loop(
    size: int, offloaded: bool
) -> None:
    """At 1 ns per byte, a 4.096 µs budget is 4,096 bytes."""
    recorder = _ThreadRecorder(prior=1.0)
    codec = ChainCodec([recorder], spec="recorder", options=CodecOptions(offload_after_us=4.096))
    original = [json_payload(b"x" * size)]
    assert decode(codec, encode(codec, original)) == original
    assert recorder.on_loop() == [not offloaded, not offloaded]


@pytest.mark.parametrize("hints_size", [True, False])
def test_a_stage_whose_size_is_only_a_hint_is_asked_it_before_decoding(hints_size: bool) -> None:
    """gzip's trailer hints at a size that its decoder does not enforce early: the codec asks,
    and sends a payload that hints at more than the loop's share straight to the executor.
    Other stages decode on the loop within that share, refusing a larger payload themselves."""

    class Hinting(_ThreadRecorder):
        def decoded_size(self, data: bytes) -> int:
            return 10 * len(data)

    recorder = Hinting(prior=1.0)
    recorder.hints_size = hints_size
    codec = ChainCodec([recorder], spec="recorder", options=CodecOptions(offload_after_us=10))
    encoded = encode(ChainCodec([_ThreadRecorder()], spec="recorder"), [json_payload(b"x" * 4000)])
    decode(codec, encoded)
    assert recorder.on_loop() == [not hints_size]


def test_a_stage_that_states_no_cost_stays_on_the_loop_and_still_decodes() -> None:
    """A prior of zero is a legal claim (work too cheap to measure): nothing to divide the
    budget by, so the loop's share is the whole decoded-size limit."""
    recorder = _ThreadRecorder(prior=0.0)
    codec = ChainCodec([recorder], spec="recorder")
    original = [json_payload(b"x" * 1000)]
    assert decode(codec, encode(codec, original)) == original
    assert recorder.on_loop() == [True, True]


def test_a_stage_slower_than_its_prior_goes_off_the_loop_after_one_large_call() -> None:
    """The prior says 64 KiB takes 6.5 µs; it takes 5 ms. The codec believes the call it
    timed, so the next call of that size runs on a thread; small calls stay on the loop."""
    recorder = _ThreadRecorder(prior=0.1, seconds=0.005)
    codec = ChainCodec([recorder], spec="recorder")
    large, small = [json_payload(b"x" * (64 << 10))], [json_payload(b"x" * 100)]
    encode(codec, large)
    assert codec.costs[0] > 50  # 5 ms over 64 KiB: about 76 ns per byte
    encode(codec, large)
    encode(codec, small)
    assert recorder.on_loop() == [True, False, True]


def test_a_chain_learns_its_decode_cost_per_byte_it_decodes_to() -> None:
    """An outer stage (encryption, say) states only the size of what it holds, the compressed
    payload; the loop's share limits the bytes each stage decodes to. So the codec learns per
    decoded byte: 10 ms over 1 MiB decoded is about 9.5 ns per byte, not 10 ms over the few
    hundred bytes that the outer stage holds."""
    outer = _ThreadRecorder(prior=0.0, seconds=0.01)
    codec = ChainCodec(
        [*from_spec("zstd:3").stages, outer],
        spec="zstd:3+recorder",
        options=CodecOptions(offload_after_us=0),
    )
    original = [json_payload(b"x" * (1 << 20))]
    decode(codec, encode(codec, original))
    per_decoded_byte = 0.01e9 / original[0].ByteSize()
    assert per_decoded_byte <= codec.costs[1] < 1.5 * per_decoded_byte


@pytest.mark.parametrize("way", ["encode", "decode"])
def test_large_calls_on_the_loop_are_timed_one_in_time_every_from_the_first(way: str) -> None:
    """The thread's CPU clock costs a system call per read: of 2 * TIME_EVERY large calls on
    the loop, the first and the (TIME_EVERY + 1)-th teach the codec, the others leave it be."""
    codec = ChainCodec(
        [_ThreadRecorder(prior=50.0)], spec="recorder", options=CodecOptions(offload_after_us=None)
    )
    large = [json_payload(b"x" * (64 << 10))]
    encoded = encode(ChainCodec([_ThreadRecorder()], spec="recorder"), large)
    side = 0 if way == "encode" else 1
    learned = []
    for _ in range(2 * TIME_EVERY):
        before = codec.costs[side]
        if way == "encode":
            encode(codec, large)
        else:
            decode(codec, encoded)
        learned.append(codec.costs[side] != before)
    assert [index for index, changed in enumerate(learned) if changed] == [0, TIME_EVERY]


def test_a_stage_faster_than_its_prior_comes_back_to_the_loop_gradually() -> None:
    """A pessimistic prior (1 µs per byte) sends 64 KiB to a thread; each fast call there
    lowers the estimate by a quarter of the way, so it returns to the loop after a few."""
    recorder = _ThreadRecorder(prior=1_000.0)
    codec = ChainCodec([recorder], spec="recorder")
    large = [json_payload(b"x" * (64 << 10))]
    for _ in range(40):
        encode(codec, large)
    on_loop = recorder.on_loop()
    assert on_loop[0] is False
    assert on_loop[-1] is True
    assert on_loop.index(True) > 1


def test_the_stall_monitor_sees_a_blocked_loop() -> None:
    async def block() -> int:
        async with StallMonitor() as monitor:
            time.sleep(0.05)  # holds the loop, as an inline codec would
        assert monitor.result is not None
        return monitor.result.longest_ns

    assert asyncio.run(block()) >= 45_000_000


def test_offloaded_codecs_leave_the_loop_free_for_other_tasks() -> None:
    """While a large, slow payload is being compressed, other tasks keep running."""
    big = [json_payload(os.urandom(1 << 20) + COMPRESSIBLE * 64)]
    codec = from_spec("gzip:9", options=CodecOptions(offload_after_us=0))

    async def run() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0)
                ticks += 1

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        await codec.encode(big)
        task.cancel()
        return ticks

    assert asyncio.run(run()) > 10


def test_compression_stage_exposes_its_compressor_for_the_raw_layer() -> None:
    [stage] = from_spec("zstd:7@cramjam").stages
    assert isinstance(stage, CompressionStage)
    assert stage.compressor.level == 7
    assert stage.compressor.implementation == "cramjam"
    assert "cramjam" in stage.compressor.library


def test_data_converter_encrypts_failures_when_the_chain_encrypts() -> None:
    encrypting = data_converter("zstd:3+aes256gcm", keyring=Keyring.generate())
    assert encrypting.failure_converter_class is DefaultFailureConverterWithEncodedAttributes
    assert isinstance(encrypting.payload_codec, ChainCodec)
    assert encrypting.payload_codec.spec == "zstd:3@zstandard+aes256gcm"
    plain = data_converter("zstd:3")
    assert plain.failure_converter_class is DefaultFailureConverter


def test_the_overhead_ceiling_is_the_share_the_protobuf_steps_alone_leave() -> None:
    from bench.probes.overhead import Overhead

    result = Overhead("lz4", 65536, 90.0, 120.0, 30.0, 50.0, 10.0, 20.0)
    assert result.encode_share == pytest.approx(0.75)
    assert result.encode_ceiling == pytest.approx(0.9)
    assert result.decode_share == pytest.approx(0.6)
    assert result.decode_ceiling == pytest.approx(0.6)


@pytest.mark.parametrize("spec", ["zstd:3", "aes256gcm", "lz4+aes256gcm"])
def test_overhead_measurement_reports_both_paths_for_every_codec_with_a_stage(spec: str) -> None:
    from bench.probes.overhead import measure_overhead

    payload = json_payload(COMPRESSIBLE)
    codec = from_spec(spec, keyring=Keyring.generate())
    result = asyncio.run(measure_overhead(codec, payload, rounds=2, budget_ns=2_000_000))
    assert result.spec == codec.spec
    assert result.size == len(COMPRESSIBLE)
    timings = (result.raw_encode_ns, result.codec_encode_ns)
    assert min(*timings, result.raw_decode_ns, result.codec_decode_ns) > 0
    assert min(result.protobuf_encode_ns, result.protobuf_decode_ns) > 0
    assert len(result.faults) == 4
    assert min(result.faults) >= 0
    with pytest.raises(ValueError, match="has no stage"):
        asyncio.run(measure_overhead(from_spec("none"), payload))


@pytest.mark.parametrize(
    ("spec", "data", "between"),
    [
        ("lz4", COMPRESSIBLE, []),
        ("lz4+aes256gcm", COMPRESSIBLE, [b"binary/lz4"]),
        ("lz4+aes256gcm", os.urandom(4096), []),  # not smaller: lz4 left it as it was
    ],
    ids=["one stage", "chain", "chain whose compression kept the payload"],
)
def test_the_protobuf_floor_of_a_chain_parses_the_payloads_between_its_stages(
    spec: str, data: bytes, between: list[bytes]
) -> None:
    """A chain's decoding parses the payload each inner stage wrote, with the protobuf runtime
    as any codec in this wire format would: part of the floor, not of what the codec adds."""
    from bench.probes.overhead import _between_stages

    codec = from_spec(spec, keyring=Keyring.generate())
    [encoded] = encode(codec, [json_payload(data)])
    layers = _between_stages(codec, encoded)
    assert [Payload.FromString(layer).metadata["encoding"] for layer in layers] == between
