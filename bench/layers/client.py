"""The client layer: each codec through a real Temporal client, server and worker.

For every sampled corpus payload a workflow takes it as input, untouched; an activity returns it
and the workflow returns it; the client checks that the result is the input. Measured per
workflow: round-trip latency, the history bytes the server stores (``history_size_bytes``), the
time spent inside the codec in the client and in the worker, and the worker's longest event-loop
stall; per round, throughput at a set concurrency. Each codec runs over one or more routes: gRPC
with or without gzip, payloads inline or offloaded to external storage (S3) from a threshold;
offloaded cases also count the references in the stored history and what reached the store.
Codec cases are interleaved in a new random order every round, so drift of the in-memory dev
server hits all of them alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.common import RawValue
from temporalio.service import RPCError, RPCStatusCode

from bench import results
from bench.cluster import DEFAULT_TRANSPORT, ClusterOptions
from bench.codec_rows import CodecUnderTest
from bench.corpus.catalog import Corpus
from bench.corpus.history import walk
from bench.errors import RoundTripError
from bench.profiles import ClientProfile
from bench.results import CaseResult, Layer, case_result
from bench.results.buckets import KIB, bucket_of, size_text
from bench.results.samples import FAILED, ClientSamples
from bench.temporal.codectime import TimedCodec
from bench.temporal.connect import QUIET_PAYLOAD_BYTES, connect
from bench.temporal.objectstore import (
    S3Target,
    StorageCounts,
    references,
    s3_client,
    with_storage,
)
from bench.temporal.processes import Watchable, while_alive
from bench.temporal.stages import stage_ns
from bench.temporal.worker_process import WorkerProcess
from bench.temporal.workflows import RoundTripWorkflow, task_queue
from payload_codecs import KeyServiceError, data_converter

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client

WORKFLOW_TIMEOUT = timedelta(seconds=120)
CODEC_GROWTH = 4 * KIB
"""More than any codec here adds to a payload (AES-GCM: 28 bytes and the key id's metadata)."""
LIBRARY = "temporal dev server or cluster"


def sample_payloads(corpus: Corpus, per_bucket: int) -> list[Payload]:
    """Up to ``per_bucket`` payloads from each size bucket, spread evenly over the corpus."""
    by_bucket: dict[str, list[Payload]] = {}
    for payload in corpus.payloads:
        by_bucket.setdefault(bucket_of(payload.ByteSize()).name, []).append(payload)
    chosen = []
    for payloads in by_bucket.values():
        step = max(1, len(payloads) // per_bucket)
        chosen += payloads[::step][:per_bucket]
    return chosen


@dataclass(frozen=True)
class Route(results.Route):
    """A route as the client layer measures it: the results' route, with its case variant, its
    workers' task queues and flags, and the payloads it can send differently from inline."""

    @property
    def variant(self) -> str:
        """Empty for the SDK's defaults (gzip, inline), so runs with and without other routes
        match."""
        parts = [] if self.transport == DEFAULT_TRANSPORT else [f"grpc {self.transport}"]
        if self.threshold is not None:
            parts.append(f"s3 from {size_text(self.threshold)}")
        return ", ".join(parts)

    def prefix(self, run_prefix: str) -> str:
        """Task-queue prefix of this route's worker: the run's for the default route, its own
        for the others, so that each workflow runs on a worker of its route."""
        default = self.transport == DEFAULT_TRANSPORT
        prefix = run_prefix if default else f"{run_prefix}-grpc-{self.transport}"
        return prefix if self.threshold is None else f"{prefix}-s3-{self.threshold}"

    def candidates(self, payloads: Sequence[Payload]) -> list[Payload]:
        """The payloads this route can send differently from inline: on an offloading route,
        those within :data:`CODEC_GROWTH` of the threshold or above (smaller ones stay inline
        whatever the codec does, and would measure the inline route again)."""
        if self.threshold is None:
            return list(payloads)
        return [p for p in payloads if p.ByteSize() >= self.threshold - CODEC_GROWTH]

    def worker_argv(self, target: S3Target | None) -> list[str]:
        """The worker flags that give it this route's storage."""
        if self.threshold is None or target is None:
            return []
        return ["--storage-threshold", str(self.threshold), *target.to_argv()]


@dataclass
class ClientCase:
    """One codec over one corpus's sampled payloads, with the samples measured so far."""

    index: int
    row: CodecUnderTest
    corpus: str
    client: Client
    timed: TimedCodec
    payloads: list[Payload]
    samples: ClientSamples
    task_queue: str
    route: Route = Route()
    storage: StorageCounts | None = None
    """What the client's storage driver did, on an offloading route."""

    @property
    def variant(self) -> str:
        return self.route.variant

    def workflow_id(self, tag: str) -> str:
        return f"{self.task_queue}-{self.corpus}-{tag}"

    def result(self) -> CaseResult:
        return case_result(
            self.samples,
            layer=Layer.CLIENT,
            codec=self.row.label,
            corpus=self.corpus,
            library=LIBRARY,
            facts=self.row.facts,
            variant=self.variant,
        )


@dataclass(frozen=True)
class Trip:
    """One workflow's round trip: its duration, and the wall clock as the client started it and
    as the result was in its hands (for the stages, against the server's event times)."""

    latency_ns: int
    sent_ns: int
    received_ns: int


async def _one(case: ClientCase, payload: Payload, workflow_id: str) -> Trip:
    sent, start = time.time_ns(), time.perf_counter_ns()
    handle = await case.client.start_workflow(
        RoundTripWorkflow.run,
        RawValue(payload),
        id=workflow_id,
        task_queue=case.task_queue,
        execution_timeout=WORKFLOW_TIMEOUT,
    )
    result = await handle.result(rpc_timeout=WORKFLOW_TIMEOUT)
    elapsed, received = time.perf_counter_ns() - start, time.time_ns()
    if not isinstance(result, RawValue) or result.payload != payload:
        raise RoundTripError(
            f"client layer, codec {case.row.label}, corpus {case.corpus}: workflow "
            f"{workflow_id} returned a payload other than its input"
        )
    return Trip(elapsed, sent, received)


UNREACHABLE = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.UNAUTHENTICATED})


def _stops_the_run(error: Exception) -> bool:
    """Whether ``error`` is no outcome of the codec: a wrong answer, the cluster gone, or the
    key management service failing (a codec that cannot get its keys fails closed, which says
    nothing of the codec)."""
    if isinstance(error, RPCError):
        return error.status in UNREACHABLE
    return isinstance(error, RoundTripError | KeyServiceError)


@dataclass
class _Round:
    """One case's records of one sequential round, filled workflow by workflow."""

    latency: list[int] = field(default_factory=list)
    history: list[int] = field(default_factory=list)
    client_ns: list[int] = field(default_factory=list)
    worker_ns: list[int] = field(default_factory=list)
    stall: list[int] = field(default_factory=list)
    stages: list[list[int]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    stored: list[list[int]] = field(default_factory=list)

    def failed(self, s: ClientSamples, error: Exception) -> None:
        s.errors += 1
        text = f"{type(error).__name__}: {error}"
        s.first_error = s.first_error or text
        if not s.payload_errors:
            s.payload_errors = [""] * len(s.original_bytes)
        position = len(self.latency)  # the payload this workflow carried, in sampling order
        s.payload_errors[position] = s.payload_errors[position] or text
        self.latency.append(FAILED)
        self.history.append(FAILED)
        self.stages.append([])

    def keep(self, s: ClientSamples) -> None:
        s.latency_ns.append(self.latency)
        s.history_bytes.append(self.history)
        s.client_codec_ns.append(self.client_ns)
        s.worker_codec_ns.append(self.worker_ns)
        s.worker_stall_ns.append(self.stall)
        s.stage_ns.append(self.stages)
        s.workflow_ids = self.ids
        if self.stored:
            s.offloaded.append([row[0] for row in self.stored])
            s.s3_objects.append([row[1] for row in self.stored])
            s.s3_bytes.append([row[2] for row in self.stored])
            s.storage_ns.append([row[3] for row in self.stored])


async def _workflow(
    case: ClientCase, worker: WorkerProcess, record: _Round, position: int, round_no: int
) -> None:
    """One recorded round trip of the payload at ``position``, and what it stored."""
    workflow_id = case.workflow_id(f"r{round_no}-{position}")
    handle = case.client.get_workflow_handle(workflow_id)
    history = None
    try:
        trip = await _one(case, case.payloads[position], workflow_id)
        record.latency.append(trip.latency_ns)
        record.history.append((await handle.describe()).raw_info.history_size_bytes)
        history = await handle.fetch_history()
        record.stages.append(stage_ns(history.events, trip.sent_ns, trip.received_ns))
    except Exception as error:  # a failed workflow is a measured outcome, not a crash
        if _stops_the_run(error):
            raise
        record.failed(case.samples, error)
    spent = case.timed.take()
    record.client_ns.append(spent.encode_ns + spent.decode_ns)
    answer = await worker.take()
    times = answer["codecs"][case.index]
    record.worker_ns.append(times["encode_ns"] + times["decode_ns"])
    record.stall.append(answer["stall_ns"])
    record.ids.append(workflow_id)
    if case.storage is not None:
        record.stored.append(_stored(case, answer["storage"][case.index], history))


async def _paired_round(
    group: Sequence[ClientCase],
    workers: Mapping[Route, WorkerProcess],
    round_no: int,
    order: random.Random,
) -> None:
    """One sequential round of cases that carry the same payloads (one route and corpus):
    payload by payload, every codec in a new random order, so each codec's round trip has the
    baseline's of the same payload, minutes apart at most, to be compared with."""
    records = [_Round() for _ in group]
    for case in group:
        await workers[case.route].take()
        case.timed.take()
        if case.storage is not None:
            case.storage.take()
    for position in range(len(group[0].payloads)):
        for index in order.sample(range(len(group)), len(group)):
            case = group[index]
            await _workflow(case, workers[case.route], records[index], position, round_no)
    for case, record in zip(group, records, strict=True):
        record.keep(case.samples)


def _stored(
    case: ClientCase, worker: Mapping[str, int], history: WorkflowHistory | None
) -> list[int]:
    """``[references in the stored history, objects written, bytes written, ns in storage
    calls]`` of one workflow, client and worker together; references are FAILED when the
    workflow failed (its history may not exist)."""
    assert case.storage is not None
    client = case.storage.take()
    offloaded = FAILED
    if history is not None:
        offloaded = len(references(p for event in history.events for _, p, _ in walk(event)))
    return [
        offloaded,
        client.put_objects + worker["put_objects"],
        client.put_bytes + worker["put_bytes"],
        client.storage_ns + worker["storage_ns"],
    ]


async def _warm(case: ClientCase, payload: Payload, workflow_id: str) -> None:
    """An unrecorded round trip. A payload that a limit rejects fails here as it will in the
    recorded rounds, which record why; only a lost cluster or a wrong answer stops the run."""
    try:
        await _one(case, payload, workflow_id)
    except Exception as error:
        if _stops_the_run(error):
            raise


async def _concurrent(case: ClientCase, round_no: int, concurrency: int) -> None:
    """Workflows per second with ``concurrency`` in flight, over at least two waves."""
    payloads = case.payloads * max(1, -(-2 * concurrency // len(case.payloads)))
    gate = asyncio.Semaphore(concurrency)

    async def one(position: int, payload: Payload) -> bool:
        async with gate:
            try:
                await _one(case, payload, case.workflow_id(f"c{round_no}-{position}"))
            except Exception as error:
                if _stops_the_run(error):
                    raise
                return False  # counted as not completed; the sequential pass records why
            return True

    start = time.perf_counter()
    completed = await asyncio.gather(*(one(i, p) for i, p in enumerate(payloads)))
    elapsed = time.perf_counter() - start
    case.samples.throughput_wps.append(sum(completed) / elapsed)


async def _cases(
    rows: Sequence[CodecUnderTest],
    corpora: Sequence[Corpus],
    routes: Mapping[Route, ClusterOptions],
    prefix: str,
    plan: ClientProfile,
    *,
    store: tuple[S3Target, S3Client] | None,
) -> list[ClientCase]:
    cases: list[ClientCase] = []
    for route, cluster in routes.items():
        base = await connect(cluster, warn_payload_bytes=QUIET_PAYLOAD_BYTES)
        for index, row in enumerate(rows):
            timed = TimedCodec(row.codec)
            converter = data_converter(timed)
            counts = None
            if route.threshold is not None and store is not None:
                counts = StorageCounts()
                converter = with_storage(converter, store[1], store[0], route.threshold, counts)
            client = Client(
                base.service_client, namespace=cluster.namespace, data_converter=converter
            )
            queue = task_queue(route.prefix(prefix), index)
            for corpus in corpora:
                payloads = route.candidates(sample_payloads(corpus, plan.per_bucket))
                if not payloads:
                    continue
                samples = ClientSamples(
                    [p.ByteSize() for p in payloads],
                    concurrency=plan.concurrency,
                    transport=route.transport,
                    storage_threshold=route.threshold,
                    paired=True,
                )
                cases.append(
                    ClientCase(
                        index,
                        row,
                        corpus.name,
                        client,
                        timed,
                        payloads,
                        samples,
                        queue,
                        route,
                        counts,
                    )
                )
    return cases


async def run_client_layer(
    rows: Sequence[CodecUnderTest],
    corpora: Sequence[Corpus],
    routes: Mapping[Route, ClusterOptions],
    workers: Mapping[Route, WorkerProcess],
    *,
    prefix: str,
    plan: ClientProfile,
    into: list[ClientCase],
    on_step: Callable[[str], None] = lambda _: None,
    seed: int = 0,
    also_watch: Sequence[Watchable] = (),
    target: S3Target | None = None,
    s3_env: Mapping[str, str] | None = None,
) -> None:
    """Measure every codec over sampled payloads of every corpus, over each route of
    ``routes`` (each with its worker in ``workers``; offloading routes store in ``target`` with
    the credentials in ``s3_env``), all cases interleaved. Cases go into ``into`` as soon as
    they exist, so whatever was measured survives an interruption."""

    async def measure() -> None:
        async with contextlib.AsyncExitStack() as stack:
            store = None
            if target is not None:
                store = (target, await stack.enter_async_context(s3_client(target, s3_env or {})))
            await _measure(await _cases(rows, corpora, routes, prefix, plan, store=store))

    async def _measure(cases: list[ClientCase]) -> None:
        for worker in workers.values():
            await worker.ready()
        into.extend(cases)
        # One unrecorded pass first: the first workflows on a fresh server and worker are slower
        # (connections, caches, the server's own warm-up), which would land on the first cases.
        for case in cases:
            for position, payload in enumerate(case.payloads):
                await _warm(case, payload, case.workflow_id(f"w{position}"))
            on_step(f"client warm-up: {case.row.label} {case.corpus}")
        order = random.Random(seed)
        groups: dict[tuple[Route, str], list[ClientCase]] = {}
        for case in cases:
            groups.setdefault((case.route, case.corpus), []).append(case)
        for round_no in range(plan.rounds):
            for group in order.sample(list(groups.values()), len(groups)):
                await _paired_round(group, workers, round_no, order)
                on_step(f"client round {round_no + 1}: {group[0].corpus} {group[0].variant}")
        # Throughput passes after every sequential round, never between them: the workflows of
        # a burst leave the dev server busy for a while, and the next sequential workflows then
        # waited 25-50 ms for their tasks where 5 ms is usual (17-33 % of them, against 0-5 %).
        for round_no in range(plan.throughput_passes):
            for case in order.sample(cases, len(cases)):
                await _concurrent(case, round_no, plan.concurrency)
                on_step(f"client throughput {round_no + 1}: {case.row.label} {case.corpus}")

    await while_alive([*workers.values(), *also_watch], measure())
