"""The client layer: each codec through a real Temporal client, server and worker.

For every sampled corpus payload a workflow takes it as input, untouched; an activity returns it
and the workflow returns it; the client checks that the result is the input. Measured per
workflow: round-trip latency, the history bytes the server stores (``history_size_bytes``), the
time spent inside the codec in the client and in the worker, and the worker's longest event-loop
stall; per round, throughput at a set concurrency. Codec cases are interleaved in a new random
order every round, so drift of the in-memory dev server hits all of them alike.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.common import RawValue

from bench.corpus.catalog import Corpus
from bench.layers.inprocess import RoundTripError
from bench.plan import ClientPlan, CodecUnderTest
from bench.results.buckets import bucket_of
from bench.temporal.cluster import ClusterOptions, connect
from bench.temporal.codectime import TimedCodec
from bench.temporal.processes import spawn, stop
from bench.temporal.worker import QUIET_PAYLOAD_BYTES, converter_for
from bench.temporal.workflows import RoundTripWorkflow, task_queue
from payload_codecs import Keyring

WORKFLOW_TIMEOUT = timedelta(seconds=120)
KEY_ID = "bench"


class WorkerFailed(RuntimeError):
    """The worker process died or stopped answering."""


def run_keys() -> tuple[Keyring, dict[str, str]]:
    """The run's keyring, and the environment that gives worker processes the same keys (keys
    never reach a file, log or result). ``PAYLOAD_CODEC_KEYS`` when set (so that workers on
    other machines can join the run), else a fresh random key."""
    if os.environ.get("PAYLOAD_CODEC_KEYS"):
        env = {
            name: os.environ[name]
            for name in ("PAYLOAD_CODEC_KEYS", "PAYLOAD_CODEC_ACTIVE_KEY")
            if name in os.environ
        }
        return Keyring.from_env(), env
    key = secrets.token_bytes(32)
    env = {"PAYLOAD_CODEC_KEYS": f"{KEY_ID}={base64.b64encode(key).decode()}"}
    return Keyring({KEY_ID: key}, KEY_ID), env


class WorkerProcess:
    """``python -m bench.temporal.worker`` as a child process, spoken to over stdin/stdout."""

    def __init__(
        self, cluster: ClusterOptions, prefix: str, texts: Sequence[str], env: dict[str, str]
    ) -> None:
        self._log = tempfile.NamedTemporaryFile(prefix="codec-bench-worker-", suffix=".log")  # noqa: SIM115
        command = [
            sys.executable,
            "-m",
            "bench.temporal.worker",
            "--address",
            cluster.address,
            "--namespace",
            cluster.namespace,
            "--task-queue-prefix",
            prefix,
        ]
        for text in texts:
            command += ["--codec", text]
        if cluster.tls:
            command.append("--tls")
        for flag, path in (
            ("--tls-cert", cluster.tls_cert),
            ("--tls-key", cluster.tls_key),
            ("--tls-ca", cluster.tls_ca),
        ):
            if path is not None:
                command += [flag, str(path)]
        child_env = {**os.environ, **env}
        if cluster.api_key:
            child_env["TEMPORAL_API_KEY"] = cluster.api_key
        self.process = spawn(
            command,
            env=child_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def _tail(self) -> str:
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace").strip().splitlines()
        return text[-1] if text else "no output"

    async def _answer(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        loop = asyncio.get_running_loop()
        try:
            line = await asyncio.wait_for(
                loop.run_in_executor(None, self.process.stdout.readline), timeout
            )
        except TimeoutError:
            raise WorkerFailed(f"worker pid {self.pid} stopped answering") from None
        if not line:
            code = self.process.wait()
            raise WorkerFailed(f"worker pid {self.pid} exited with code {code}: {self._tail()}")
        try:
            answer: dict[str, Any] = json.loads(line)
        except ValueError:
            raise WorkerFailed(f"worker pid {self.pid} sent {line[:80]!r}, not an answer") from None
        return answer

    async def ready(self, timeout: float = 60.0) -> None:
        await self._answer(timeout)

    async def take(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write("take\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerFailed(
                f"worker pid {self.pid} exited with code {self.process.wait()}: {self._tail()}"
            ) from None
        return await self._answer(30.0)

    async def watch(self) -> None:
        """Return never while the worker lives; raise :class:`WorkerFailed` once it is gone."""
        while self.process.poll() is None:
            await asyncio.sleep(0.2)
        raise WorkerFailed(
            f"worker pid {self.pid} exited with code {self.process.returncode}: {self._tail()}"
        )

    def close(self) -> None:
        if self.process.poll() is None and self.process.stdin is not None:
            try:
                self.process.stdin.write("exit\n")
                self.process.stdin.flush()
                self.process.wait(10)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                pass
        stop(self.process)
        self._log.close()


@dataclass
class ClientSamples:
    """Raw client-path samples of one codec and corpus; lists are per round, then per payload."""

    label: str
    corpus: str
    original_bytes: list[int]
    latency_ns: list[list[int]] = field(default_factory=list)
    history_bytes: list[list[int]] = field(default_factory=list)
    client_codec_ns: list[list[int]] = field(default_factory=list)
    worker_codec_ns: list[list[int]] = field(default_factory=list)
    worker_stall_ns: list[list[int]] = field(default_factory=list)
    throughput_wps: list[float] = field(default_factory=list)
    concurrency: int = 1
    errors: int = 0
    first_error: str | None = None
    workflow_ids: list[str] = field(default_factory=list)
    """Workflows of the last complete round, so a reviewer can look them up."""


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


@dataclass
class _Case:
    index: int
    row: CodecUnderTest
    client: Client
    timed: TimedCodec
    payloads: list[Payload]
    samples: ClientSamples
    task_queue: str

    def workflow_id(self, tag: str) -> str:
        return f"{self.task_queue}-{self.samples.corpus}-{tag}"


async def _one(case: _Case, payload: Payload, workflow_id: str) -> int:
    start = time.perf_counter_ns()
    handle = await case.client.start_workflow(
        RoundTripWorkflow.run,
        RawValue(payload),
        id=workflow_id,
        task_queue=case.task_queue,
        execution_timeout=WORKFLOW_TIMEOUT,
    )
    result = await handle.result(rpc_timeout=WORKFLOW_TIMEOUT)
    elapsed = time.perf_counter_ns() - start
    if not isinstance(result, RawValue) or result.payload != payload:
        raise RoundTripError(
            f"client layer, codec {case.row.label}, corpus {case.samples.corpus}: workflow "
            f"{workflow_id} returned a payload other than its input"
        )
    return elapsed


async def _sequential(case: _Case, worker: WorkerProcess, round_no: int) -> None:
    s = case.samples
    latency, history, client_ns, worker_ns, stall, ids = [], [], [], [], [], []
    await worker.take()
    case.timed.take()
    for position, payload in enumerate(case.payloads):
        workflow_id = case.workflow_id(f"r{round_no}-{position}")
        try:
            latency.append(await _one(case, payload, workflow_id))
            described = await case.client.get_workflow_handle(workflow_id).describe()
            history.append(described.raw_info.history_size_bytes)
        except RoundTripError:
            raise
        except Exception as error:  # a failed workflow is a measured outcome, not a crash
            s.errors += 1
            s.first_error = s.first_error or f"{type(error).__name__}: {error}"
            latency.append(-1)
            history.append(-1)
        spent = case.timed.take()
        client_ns.append(spent.encode_ns + spent.decode_ns)
        answer = await worker.take()
        times = answer["codecs"][case.index]
        worker_ns.append(times["encode_ns"] + times["decode_ns"])
        stall.append(answer["stall_ns"])
        ids.append(workflow_id)
    s.latency_ns.append(latency)
    s.history_bytes.append(history)
    s.client_codec_ns.append(client_ns)
    s.worker_codec_ns.append(worker_ns)
    s.worker_stall_ns.append(stall)
    s.workflow_ids = ids


async def _concurrent(case: _Case, round_no: int, concurrency: int) -> None:
    """Workflows per second with ``concurrency`` in flight, over at least two waves."""
    payloads = case.payloads * max(1, -(-2 * concurrency // len(case.payloads)))
    gate = asyncio.Semaphore(concurrency)

    async def one(position: int, payload: Payload) -> None:
        async with gate:
            await _one(case, payload, case.workflow_id(f"c{round_no}-{position}"))

    start = time.perf_counter()
    await asyncio.gather(*(one(i, p) for i, p in enumerate(payloads)))
    case.samples.throughput_wps.append(len(payloads) / (time.perf_counter() - start))


async def _while_alive(worker: WorkerProcess, work: Awaitable[None]) -> None:
    """Run ``work``, but stop it with :class:`WorkerFailed` as soon as the worker dies (its
    workflows would otherwise wait for their timeout)."""
    body = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(worker.watch())
    try:
        done, _ = await asyncio.wait({body, watch}, return_when=asyncio.FIRST_COMPLETED)
        if watch in done:
            body.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await body
            watch.result()
        body.result()
    finally:
        for task in (body, watch):
            task.cancel()


async def run_client_layer(
    rows: Sequence[CodecUnderTest],
    corpora: Sequence[Corpus],
    cluster: ClusterOptions,
    worker: WorkerProcess,
    *,
    prefix: str,
    plan: ClientPlan,
    into: list[ClientSamples],
    on_step: Callable[[str], None] = lambda _: None,
    seed: int = 0,
) -> None:
    """Measure every codec over sampled payloads of every corpus. Samples go into ``into`` as
    soon as the cases exist, so whatever was measured survives an interruption."""

    async def measure() -> None:
        base = await connect(cluster, warn_payload_bytes=QUIET_PAYLOAD_BYTES)
        await worker.ready()
        cases: list[_Case] = []
        for index, row in enumerate(rows):
            timed = TimedCodec(row.codec)
            client = Client(
                base.service_client,
                namespace=cluster.namespace,
                data_converter=converter_for(timed),
            )
            for corpus in corpora:
                payloads = sample_payloads(corpus, plan.per_bucket)
                samples = ClientSamples(row.label, corpus.name, [p.ByteSize() for p in payloads])
                samples.concurrency = plan.concurrency
                cases.append(
                    _Case(index, row, client, timed, payloads, samples, task_queue(prefix, index))
                )
        into.extend(case.samples for case in cases)
        # One unrecorded pass first: the first workflows on a fresh server and worker are slower
        # (connections, caches, the server's own warm-up), which would land on the first cases.
        for case in cases:
            for position, payload in enumerate(case.payloads):
                await _one(case, payload, case.workflow_id(f"w{position}"))
            on_step(f"client warm-up: {case.row.label} {case.samples.corpus}")
        order = random.Random(seed)
        for round_no in range(plan.rounds):
            shuffled = list(cases)
            order.shuffle(shuffled)
            for case in shuffled:
                await _sequential(case, worker, round_no)
                await _concurrent(case, round_no, plan.concurrency)
                on_step(f"client round {round_no + 1}: {case.row.label} {case.samples.corpus}")

    await _while_alive(worker, measure())
