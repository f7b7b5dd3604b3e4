"""The timing engine: every case (layer x codec x corpus) timed payload by payload, the payloads
of all cases interleaved in a fresh random order each round, every round trip checked.

Why payload by payload across the round, not case by case: on a shared host the machine's speed
changes within seconds, so a case whose payloads ran back to back took one moment's speed as its
round's figure. Measured on this project's 2-core machine with a CPU-bound neighbour (``ci``
profile, 3 rounds a run, identical code), a codec's round-to-round spread fell from a log sd of
0.067 to 0.018, and the spread of its run means from 0.045 to 0.016 once divided by the
reference workloads (which are scattered over the round the same way).

Why not pytest-benchmark's loop: it runs all rounds of one benchmark before the next starts, so
on a shared machine drift lands on some codecs and not others; and it repeats one callable,
while a corpus holds many different payloads whose individual latencies we keep. The ideas are
the same (calibration, warm-up, rounds, raw samples kept): calls that take under
``MIN_BLOCK_NS`` are repeated in a block and the block is timed; longer calls are timed alone.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.common.v1 import Payload

from bench.codec_rows import CodecUnderTest
from bench.corpus.catalog import Corpus
from bench.errors import RoundTripError
from bench.results import CaseResult, CodecFacts, Layer, case_result
from bench.results.samples import InProcessSamples
from payload_codecs import serialize

MIN_BLOCK_NS = 20_000
"""Calls shorter than about this are repeated and timed as a block of a power of two of calls,
14-28 µs (perf_counter resolution and the timer's own cost would otherwise dominate)."""
MAX_REPEATS = 2_048
CALIBRATION_CALLS = 3
"""Single calls timed per payload and direction before the rounds; the fastest sets the block."""
ONE_CALL_NS = 4 * MIN_BLOCK_NS
"""A call at least this long is a block of one call: the fastest of more calls would have to be
5.7 times faster to change that."""


Call = Callable[[Any], Any]


@dataclass
class Case:
    """One thing to time: ``encode``/``decode`` over ``inputs``, sync (raw layer) or async (codec
    layer, as the SDK calls it on its event loop)."""

    layer: Layer
    label: str
    corpus: str
    library: str
    facts: CodecFacts
    inputs: Sequence[Any]
    encode: Call
    decode: Call
    is_async: bool
    same: Callable[[Any, Any], bool]
    size_of: Callable[[Any], int]
    samples: InProcessSamples = field(default_factory=InProcessSamples)
    _encoded: list[Any] = field(default_factory=list)
    _round: _Round = field(init=False)

    def __post_init__(self) -> None:
        self._round = _Round(len(self.inputs))

    def result(self) -> CaseResult:
        return case_result(
            self.samples,
            layer=self.layer,
            codec=self.label,
            corpus=self.corpus,
            library=self.library,
            facts=self.facts,
        )

    @property
    def name(self) -> str:
        return f"{self.layer} {self.label}"

    async def _call(self, fn: Call, arg: Any) -> Any:
        return (await fn(arg)) if self.is_async else fn(arg)

    async def _block(self, fn: Call, arg: Any, repeats: int) -> tuple[int, int, Any]:
        out = None
        cpu = time.process_time_ns()
        start = time.perf_counter_ns()
        if self.is_async:
            for _ in range(repeats):
                out = await fn(arg)
        else:
            for _ in range(repeats):
                out = fn(arg)
        wall = time.perf_counter_ns() - start
        return wall, time.process_time_ns() - cpu, out

    def _check(self, index: int, decoded: Any) -> None:
        if not self.same(decoded, self.inputs[index]):
            raise RoundTripError(
                f"{self.layer} layer, codec {self.label}, corpus {self.corpus}: payload "
                f"#{index} did not round-trip byte for byte"
            )

    async def prepare(self) -> None:
        """Warm up, record sizes, and calibrate how many calls each timed block makes."""
        s = self.samples
        self._encoded = []
        for index, item in enumerate(self.inputs):
            encoded = await self._call(self.encode, item)  # warm-up call, not timed
            self._check(index, await self._call(self.decode, encoded))
            encode_ns = await self._fastest(self.encode, item)
            decode_ns = await self._fastest(self.decode, encoded)
            self._encoded.append(encoded)
            s.original_bytes.append(self.size_of(item))
            s.encoded_bytes.append(self.size_of(encoded))
            s.encode_repeats.append(_repeats(encode_ns))
            s.decode_repeats.append(_repeats(decode_ns))

    async def _fastest(self, fn: Call, arg: Any) -> int:
        """The fastest of up to ``CALIBRATION_CALLS`` single calls. A call of several blocks'
        length is timed once: its block is one call whatever the others would say, and timing
        the large payloads three times was a third of the quick run's in-process time."""
        best = (await self._block(fn, arg, 1))[0]
        for _ in range(CALIBRATION_CALLS - 1):
            if best >= ONE_CALL_NS:
                break
            best = min(best, (await self._block(fn, arg, 1))[0])
        return best

    async def time_input(self, index: int) -> None:
        """Time the payload at ``index`` once (encode, then decode of that fresh output) and
        verify it; the round's row is kept only once :meth:`close_round` sees it whole."""
        s, now = self.samples, self._round
        wall, cpu, encoded = await self._block(
            self.encode, self.inputs[index], s.encode_repeats[index]
        )
        now.encode_ns[index] = wall
        now.encode_cpu_ns += cpu
        wall, cpu, decoded = await self._block(self.decode, encoded, s.decode_repeats[index])
        now.decode_ns[index] = wall
        now.decode_cpu_ns += cpu
        self._check(index, decoded)

    def close_round(self) -> None:
        """Append the round's rows; an interrupted round leaves no ragged row."""
        done, self._round = self._round, _Round(len(self.inputs))
        if None in done.encode_ns or None in done.decode_ns:
            return
        self.samples.encode_ns.append(done.encode_ns)  # type: ignore[arg-type]
        self.samples.decode_ns.append(done.decode_ns)  # type: ignore[arg-type]
        self.samples.encode_cpu_ns.append(done.encode_cpu_ns)
        self.samples.decode_cpu_ns.append(done.decode_cpu_ns)

    async def measure_memory(self) -> None:
        """Peak Python-heap growth over one untimed pass (outputs are counted; scratch memory
        that a native library allocates outside Python's allocator is not)."""
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            for item, encoded in zip(self.inputs, self._encoded, strict=True):
                await self._call(self.decode, await self._call(self.encode, item))
                await self._call(self.decode, encoded)
            self.samples.peak_memory_bytes = max(0, tracemalloc.get_traced_memory()[1] - base)
        finally:
            tracemalloc.stop()


class _Round:
    """A case's round in the making: wall time per payload (``None`` until timed) and CPU
    totals, for each direction."""

    def __init__(self, payloads: int) -> None:
        self.encode_ns: list[int | None] = [None] * payloads
        self.decode_ns: list[int | None] = [None] * payloads
        self.encode_cpu_ns = 0
        self.decode_cpu_ns = 0


def _repeats(single_ns: int) -> int:
    """Calls per timed block: a power of two, so that two runs calibrating the same payload
    from slightly different timings tend to time it in the same blocks (the block's first call
    is colder than the rest, so 3 calls a block against 4 is a difference between runs that no
    code change made). It helps less than hoped on a loaded host: two runs of identical code
    with a CPU-bound neighbour gave 38 % of payloads different blocks with any count, 35 % with
    powers of two, because the fastest of three calibration calls itself moves by 2x there."""
    wanted = MIN_BLOCK_NS / max(single_ns, 1)
    # The nearest power of two (blocks of 14-28 µs), not the next one up: rounding up took
    # 40 % more calls on average and made the quick run 20 s longer.
    return min(MAX_REPEATS, 1 << max(0, round(math.log2(wanted)))) if wanted > 1 else 1


def _payload_size(item: Any) -> int:
    if isinstance(item, list):
        return sum(payload.ByteSize() for payload in item)
    return len(item)


def _same_payloads(decoded: list[Payload], original: list[Payload]) -> bool:
    return decoded == original


def _same_bytes(decoded: bytes | memoryview, original: bytes) -> bool:
    return decoded == original


def build_cases(codecs: Sequence[CodecUnderTest], corpora: Sequence[Corpus]) -> list[Case]:
    """Codec-layer cases for every codec, and raw-layer cases for every distinct stage of our
    chains (each compressor, and AES-256-GCM), for every corpus."""
    cases: list[Case] = []
    for corpus in corpora:
        one_each = [[payload] for payload in corpus.payloads]
        blobs = [serialize(payload) for payload in corpus.payloads]
        raw_seen: set[str] = set()
        for row in codecs:
            chain = row.chain
            library = "" if chain is None else "; ".join(stage.library for stage in chain.stages)
            cases.append(
                Case(
                    Layer.CODEC,
                    row.label,
                    corpus.name,
                    library or "-",
                    row.facts,
                    one_each,
                    row.codec.encode,
                    row.codec.decode,
                    True,
                    _same_payloads,
                    _payload_size,
                )
            )
            if chain is None:
                continue
            replica = row.facts.replica
            for name, stage in zip(chain.spec.split("+"), chain.stages, strict=False):
                label = name if replica is None else f"{name} ({replica})"
                if label in raw_seen:
                    continue
                raw_seen.add(label)
                cases.append(
                    Case(
                        Layer.RAW,
                        label,
                        corpus.name,
                        stage.library,
                        CodecFacts.of_spec(name, replica),
                        blobs,
                        stage.raw_encode,
                        stage.raw_decode,
                        False,
                        _same_bytes,
                        _payload_size,
                    )
                )
    return cases


async def run_rounds(
    cases: Sequence[Case],
    rounds: int,
    *,
    seed: int = 0,
    on_step: Callable[[str, int], None] = lambda what, advance: None,
) -> int:
    """Prepare every case, then run ``rounds`` rounds with every case's payloads in a fresh
    random order each round (drift hits every case alike), then measure the codec layer's
    memory (what a worker holds; the raw layer's is not reported, and tracing is slow). Returns
    rounds completed; samples of completed work stay in the cases if interrupted."""
    order = random.Random(seed)
    for case in cases:
        await case.prepare()
        # Calibrating a payload costs about what timing it in a round does: counted so, the
        # progress's time left is right from the start (counted as one step a case, it said
        # "about 77,000 s left" while calibrating a 70 s run).
        on_step(f"calibrating {case.name}", len(case.inputs))
        await asyncio.sleep(0)
    completed = 0
    # Every payload of every case at its own place in the round (see the module's docstring).
    steps = [(case, index) for case in cases for index in range(len(case.inputs))]
    for _ in range(rounds):
        order.shuffle(steps)
        for case, index in steps:
            await case.time_input(index)
            on_step(f"round {completed + 1}: {case.name}", 1)
            # Codec calls rarely suspend, so yield here: Ctrl-C (which asyncio turns into a
            # cancellation) is delivered between cases rather than never.
            await asyncio.sleep(0)
        for case in cases:
            case.close_round()
        completed += 1
    for case in cases:
        if case.layer is Layer.CODEC:
            await case.measure_memory()
        on_step(f"memory {case.name}", 1)
    return completed
