"""Measuring a plan: the in-process layers, then the client and reading layers against the
user's cluster or an embedded dev server. Every process started here (dev server, worker,
codec servers, S3 server, browser) is stopped on every exit path; Ctrl-C and SIGTERM keep what
was measured."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from unittest import mock

from bench.cluster import API_KEY_ENV, ClusterOptions
from bench.codec_rows import CodecUnderTest
from bench.errors import InfrastructureFailure, RoundTripError, Terminated, UserError
from bench.keys import KEYS_ENV
from bench.layers.client import ClientCase, Route, run_client_layer
from bench.layers.inprocess import run_rounds
from bench.layers.kms import kms_costs
from bench.layers.reading import (
    DecodeLoad,
    Reading,
    browser_missing,
    headless_browser,
    plan_loads,
    plan_readings,
    run_reading_layer,
    write_histories,
)
from bench.outputs.kms_report import KMS
from bench.profiles import PROFILES
from bench.progress import Progress, say
from bench.results import Layer
from bench.results.buckets import size_text
from bench.results.samples import keep_complete_rounds
from bench.run.options import RunOptions
from bench.run.plan import Plan
from bench.temporal.codecserver import library_server
from bench.temporal.connect import connect
from bench.temporal.devserver import LIMITS, DevServer, free_ports
from bench.temporal.kms import LocalKms, kms_in, local_kms
from bench.temporal.objectstore import (
    LOCAL_CREDENTIALS,
    LocalS3,
    ObjectStoreError,
    S3Target,
    check_bucket,
    local_s3,
)
from bench.temporal.processes import Watchable, Watched, while_alive
from bench.temporal.worker_process import WORKER_MODULE, WorkerProcess, worker_argv
from payload_codecs import AwsKms, KeyServiceError, parse_spec

T = TypeVar("T")
REACH_TIMEOUT_S = 15.0


@dataclass
class Outcome:
    """How the measuring went: what the server layers produced, how each layer ran, and why
    a run stopped early."""

    client_cases: list[ClientCase] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    loads: list[DecodeLoad] = field(default_factory=list)
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: KeyboardInterrupt | None = None
    """Ctrl-C or SIGTERM, when one stopped the run."""
    failure: str | None = None
    """A server layer that failed, in one line; what was measured before it stays."""

    @property
    def interrupted(self) -> bool:
        return self.stopped is not None


def reach(plan: Plan) -> None:
    """Connect to the user's cluster (and check their S3 bucket) before anything is measured,
    so a wrong address costs seconds and one line rather than the in-process pass."""
    given = plan.options.client
    if given.s3_endpoint and plan.run_client and plan.client.storage_thresholds:
        try:
            check_bucket(_given_store(plan), os.environ)
        except ObjectStoreError as error:
            raise UserError(str(error)) from None
    cluster = plan.options.cluster
    if cluster.address is None or not plan.servers:
        return

    async def probe() -> None:
        await asyncio.wait_for(connect(cluster), REACH_TIMEOUT_S)

    try:
        asyncio.run(probe())
    except Exception as error:
        raise UserError(
            f"cannot reach Temporal at {cluster.address} (namespace {cluster.namespace}): "
            f"{one_line(error)}; check --address and the TLS flags, or leave --address out "
            "to measure against an embedded dev server"
        ) from None


@contextlib.contextmanager
def key_service(options: RunOptions) -> Iterator[LocalKms | None]:
    """The embedded KMS, when a codec of the run names ``envelope@aws-kms`` and the environment
    names no KMS key of the user's: moto's, behind a proxy of ``options.kms_delay_ms``, given
    to this process and every child through the standard AWS variables; stopped on exit."""
    profile = PROFILES.get(options.profile)
    texts = [*(options.codecs or (profile.codecs if profile else ()))]
    if profile is not None and not options.codecs:
        texts += [*profile.client.codecs, *profile.reading.codecs]
    wanted = any(_uses_aws_kms(text) for text in texts)
    if not wanted or kms_in(os.environ):
        if options.kms_delay_ms:
            raise UserError(
                "--kms-delay-ms delays the local KMS of envelope@aws-kms codecs; "
                + ("PAYLOAD_CODEC_KMS_KEY_ID names a KMS of yours" if wanted else "none is run")
            )
        yield None
        return
    with local_kms(options.kms_delay_ms) as kms, mock.patch.dict(os.environ, kms.env):
        delay = f", {options.kms_delay_ms:g} ms added to each call" if options.kms_delay_ms else ""
        say(f"started local KMS (moto) pid {kms.pid} at {kms.endpoint}{delay}")
        yield kms


def _uses_aws_kms(text: str) -> bool:
    try:
        stages = parse_spec(text)
    except ValueError:  # a user's factory, or a spec make_plan will refuse with one line
        return False
    return any(stage.family.providers and stage.implementation == AwsKms.name for stage in stages)


def measure(plan: Plan, kms: LocalKms | None = None) -> Outcome:
    """Every layer the plan asks for. A server layer that fails ends the measuring with
    ``Outcome.failure`` set; a round trip that does not match raises ``RoundTripError``."""
    outcome = Outcome(layers=plan.skipped())
    say(
        f"measuring {len(plan.cases)} cases ({len(plan.rows)} codecs, {len(plan.corpora)} "
        f"corpora, raw and codec layers) x {plan.rounds} rounds; Ctrl-C stops and keeps what "
        "was measured"
    )
    with Progress(plan.steps, "measuring", phases=plan.phases) as progress:
        try:
            run_stoppable(
                run_rounds(plan.cases, plan.rounds, seed=plan.options.seed, on_step=progress.step)
            )
            _kms_costs(plan, outcome, kms)
            if plan.servers:
                _server_layers(plan, outcome, progress, kms)
                _kms_calls(plan, outcome, kms)
        except KeyboardInterrupt as stop:
            outcome.stopped = stop
            for layer in (Layer.CLIENT, Layer.READING):
                outcome.layers.setdefault(layer, {"status": "not run (interrupted before it)"})
        except RoundTripError:
            raise
        except Exception as error:  # whatever stops a server layer, what was measured stays
            reason = one_line(error)
            running = next(
                (name for name, info in outcome.layers.items() if info.get("status") == "started"),
                Layer.CLIENT if plan.run_client else Layer.READING,
            )
            kept = _keep_complete_rounds(outcome, running)
            if isinstance(error, InfrastructureFailure | KeyServiceError):
                # Not a property of any codec or route: said as what it is, and the round it
                # broke off is dropped, so that no failure it caused is read as one.
                rounds = f"{kept} complete round{'s' * (kept != 1)} kept, "
                outcome.failure = (
                    f"{running} layer stopped: {reason}; {rounds}the one it broke off dropped: "
                    "the outage says nothing about the codecs; run again"
                )
                status = f"failed (infrastructure): {reason}"
            else:
                outcome.failure = f"{running} layer stopped: {reason}"
                status = f"failed: {reason}"
            outcome.layers.setdefault(running, {})["status"] = status
    return outcome


def _kms_costs(plan: Plan, outcome: Outcome, kms: LocalKms | None) -> None:
    """Cold and warm cost and KMS calls of every encrypting codec (see ``bench.layers.kms``)."""
    chains = [(row.label, row.chain) for row in plan.rows if row.chain]
    if not any(chain.keyed for _, chain in chains):
        return
    corpus = plan.corpora[0]
    say(f"measuring what the KMS costs: cold and warm encryption on corpus {corpus.name}")
    info = outcome.layers.setdefault(KMS, {})
    if kms is not None:
        info["service"] = f"local KMS (moto) at {kms.endpoint}"
        info["delay_ms"] = plan.options.kms_delay_ms
        kms.proxy.calls.take()
    info.update(corpus=corpus.name, codec=kms_costs(chains, corpus.payloads))


def _kms_calls(plan: Plan, outcome: Outcome, kms: LocalKms | None) -> None:
    """The KMS calls the client layer made (client, worker and codec servers together), as the
    embedded KMS's proxy counted them."""
    enveloped = {row.label for row in plan.client_rows if row.chain and row.chain.keyed}
    if kms is not None and plan.run_client and enveloped:
        workflows = sum(
            len(r)
            for case in outcome.client_cases
            if case.row.label in enveloped
            for r in case.samples.latency_ns
        )
        calls = kms.proxy.calls.take()
        outcome.layers.setdefault(KMS, {})["servers"] = {"workflows": workflows, "calls": calls}


def _keep_complete_rounds(outcome: Outcome, layer: str) -> int:
    """The failed layer's records cut to the rounds all of them completed (see
    :func:`keep_complete_rounds`); how many rounds are kept."""
    if layer == Layer.CLIENT:
        return keep_complete_rounds([case.samples for case in outcome.client_cases])
    readings = [reading.samples for reading in outcome.readings]
    return keep_complete_rounds([*readings, *(load.samples for load in outcome.loads)])


def run_stoppable(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, with SIGTERM handled the way asyncio handles Ctrl-C: the main task
    is cancelled, so every ``finally`` on the loop runs (children stopped, the browser closed),
    then :class:`Terminated` is raised. An exception raised from a signal handler at an
    arbitrary point of a running loop can leave a library's locks held and hang the cleanup."""
    previous = signal.getsignal(signal.SIGTERM)
    terminated = False

    async def guarded() -> T:
        task = asyncio.current_task()
        assert task is not None

        def on_sigterm() -> None:
            nonlocal terminated
            if not terminated:  # one is enough: a second would break off the cleanup
                terminated = True
                task.cancel()

        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_sigterm)
        return await main

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        if terminated:
            raise Terminated from None
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def one_line(error: BaseException) -> str:
    """An exception as one line: its own text for the errors we raise, the type too for the
    rest (an RPCError's text alone can be a bare word)."""
    text = " ".join(str(error).split()) or "no message"
    if isinstance(error, (InfrastructureFailure, UserError)):
        return text
    return f"{type(error).__name__}: {text}"


@dataclass
class Site:
    """Where the server layers run: the cluster, the embedded dev server (if any) and its Web
    UI, and the stack that stops every process they started."""

    cluster: ClusterOptions
    server: DevServer | None
    ui_url: str | None
    stack: contextlib.ExitStack
    kms: LocalKms | None = None
    """The run's local KMS, when it started one."""

    @property
    def where(self) -> str:
        if self.server is None:
            return f"existing cluster at {self.cluster.address}"
        return "embedded temporal server start-dev (in memory)"


def _server_layers(plan: Plan, outcome: Outcome, progress: Progress, kms: LocalKms | None) -> None:
    """The client and reading layers against the user's cluster or an embedded dev server; the
    server, worker, codec servers and browser are always stopped, whatever happens."""
    cluster = plan.options.cluster
    with contextlib.ExitStack() as stack:
        site = Site(cluster, None, plan.options.reading.ui_url, stack, kms)
        if cluster.address is None:
            [ui_port] = free_ports(1) if plan.browser else [None]
            server = stack.enter_context(DevServer(namespace=cluster.namespace, ui_port=ui_port))
            site = Site(cluster.at(server.address), server, server.ui_url or None, stack, kms)
            say(f"started Temporal dev server pid {server.pid} at {server.address}")
        if plan.run_client:
            _client_layer(plan, outcome, progress=progress, site=site)
        if plan.run_reading:
            _reading_layer(plan, outcome, progress=progress, site=site)


def _given_store(plan: Plan) -> S3Target:
    given = plan.options.client
    assert given.s3_endpoint is not None
    return S3Target(given.s3_endpoint.rstrip("/"), given.s3_bucket)


def _object_store(plan: Plan, site: Site) -> tuple[S3Target, dict[str, str]]:
    """Where offloaded payloads go, with the credentials for it: the user's S3 API with the
    AWS environment (its bucket checked by :func:`reach`), else moto's server started here."""
    if plan.options.client.s3_endpoint:
        return _given_store(plan), dict(os.environ)
    target = site.stack.enter_context(local_s3(plan.options.client.s3_bucket))
    say(f"started local S3 server (moto) pid {target.pid} at {target.endpoint}")
    return target, {**os.environ, **LOCAL_CREDENTIALS}


def _client_layer(plan: Plan, outcome: Outcome, *, progress: Progress, site: Site) -> None:
    cluster = site.cluster
    routes = plan.routes
    info = outcome.layers[Layer.CLIENT] = {
        "rounds": plan.client.rounds,
        "per_bucket": plan.client.per_bucket,
        "concurrency": plan.client.concurrency,
        "namespace": cluster.namespace,
        "server": site.where,
        "limits": LIMITS if site.server is not None else "the cluster's own (not read here)",
        "grpc_compression": ", ".join(dict.fromkeys(r.transport for r in routes)),
        "external_storage": _storage_info(plan),
        "status": "started",
    }
    prefix = plan.task_queue_prefix
    texts = [row.text for row in plan.client_rows]
    target, s3_env = (None, {}) if not plan.client.storage_thresholds else _object_store(plan, site)
    if target is not None:
        info["external_storage"] += f", bucket {target.bucket} at {target.endpoint}"
    clusters = {r: replace(cluster, grpc_compression=r.transport) for r in routes}
    workers: dict[Route, WorkerProcess] = {}
    try:
        for route, options in clusters.items():
            queues, extra = route.prefix(prefix), route.worker_argv(target)
            env = {**plan.key_env, **(s3_env if extra else {})}
            workers[route] = WorkerProcess(options, queues, texts, env, extra)
            say(f"started worker pid {workers[route].pid}")
            say(join_line(options, queues, plan.client_rows, extra))
        run_stoppable(
            run_client_layer(
                plan.client_rows,
                plan.client_corpora,
                clusters,
                workers,
                prefix=prefix,
                plan=plan.client,
                into=outcome.client_cases,
                on_step=progress.step,
                seed=plan.options.seed,
                also_watch=_watched(site, target),
                target=target,
                s3_env=s3_env,
            )
        )
        info["status"] = "complete"
    except KeyboardInterrupt:
        info["status"] = "interrupted"
        raise
    finally:
        for worker in workers.values():
            worker.close()


def _watched(site: Site, target: S3Target | None) -> list[Watchable]:
    """The processes of this run a server layer depends on besides its workers: the embedded
    dev server, the local S3 server, the local KMS."""
    found: list[Watchable] = [] if site.server is None else [site.server]
    if isinstance(target, LocalS3):
        found.append(target)
    if site.kms is not None:
        found.append(site.kms)
    return found


def _storage_info(plan: Plan) -> str:
    thresholds = plan.client.storage_thresholds
    if not thresholds:
        return "off"
    return "S3 driver from " + ", ".join(size_text(t) for t in thresholds)


def _codec_urls(plan: Plan, site: Site, watched: list[Watched]) -> dict[str, str | None]:
    """Each reading row's codec server: none for the baseline, the user's codec endpoint when
    given, else the library's server started here for that spec (allowing the UI's origin),
    whose process goes into ``watched``."""
    env = {**os.environ, **plan.key_env}
    origins = [site.ui_url] if site.ui_url else []
    endpoint = plan.options.reading.codec_endpoint
    urls: dict[str, str | None] = {}
    for row in plan.reading_rows:
        if row.facts.baseline:
            urls[row.label] = None
        elif endpoint:
            urls[row.label] = endpoint.rstrip("/")
        else:
            urls[row.label] = site.stack.enter_context(
                library_server(row.facts.spec, env, origins=origins, watched=watched)
            )
    return urls


def _reading_layer(plan: Plan, outcome: Outcome, *, progress: Progress, site: Site) -> None:
    info = outcome.layers[Layer.READING] = {
        "rounds": plan.reading.rounds,
        "sizes": list(plan.reading.sizes),
        "corpus": plan.reading_corpus.name,
        "server": site.where,
        "cli": "temporal workflow show --output json",
        "ui": _ui_status(plan, site.ui_url),
        "status": "started",
    }
    if plan.reading_notes:
        info["fitted"] = "; ".join(plan.reading_notes)
    watched: list[Watched] = []
    codec_urls = _codec_urls(plan, site, watched)
    say(f"reading layer: codec servers at {', '.join(filter(None, codec_urls.values()))}")
    readings = plan_readings(
        plan.reading_rows, plan.reading_corpus, plan.reading.sizes, codec_urls, plan.run_id
    )
    given = plan.options.reading
    loads = [] if given.codec_endpoint else plan_loads(plan.reading_rows, codec_urls, plan.reading)
    try:
        work = _read(plan, site, readings, loads, outcome, on_step=progress.step)
        run_stoppable(while_alive([*_watched(site, None), *watched], work))
        info["status"] = "complete"
    except KeyboardInterrupt:
        info["status"] = "interrupted"
        raise


async def _read(
    plan: Plan,
    site: Site,
    readings: list[Reading],
    loads: list[DecodeLoad],
    outcome: Outcome,
    *,
    on_step: Callable[[str], None],
) -> None:
    await write_histories(readings, site.cluster, plan.task_queue_prefix)
    outcome.readings.extend(readings)
    outcome.loads.extend(loads)
    async with contextlib.AsyncExitStack() as stack:
        opened = None
        if plan.browser is not None and site.ui_url is not None:
            opened = await stack.enter_async_context(
                headless_browser(plan.browser, site.ui_url, site.cluster.namespace)
            )
        await run_reading_layer(
            readings,
            site.cluster,
            plan.reading,
            browser=opened,
            loads=loads,
            on_step=on_step,
            seed=plan.options.seed,
        )


def _ui_status(plan: Plan, ui_url: str | None) -> str:
    if not plan.options.reading.ui:
        return "not opened (--no-ui)"
    if plan.browser is None:
        return f"not opened ({browser_missing()})"
    return f"{ui_url} in headless {plan.browser}" if ui_url else "not opened (no --ui-url)"


def join_line(
    cluster: ClusterOptions, prefix: str, rows: Sequence[CodecUnderTest], extra: Sequence[str] = ()
) -> str:
    """The command that adds a worker to this run from another shell or machine."""
    argv = [*worker_argv(cluster, prefix, [row.text for row in rows]), *extra]
    command = shlex.join(["python", "-m", WORKER_MODULE, *argv])
    keys = f"{KEYS_ENV}=<the same keys> " if any(row.facts.encrypts for row in rows) else ""
    api = f"{API_KEY_ENV}=<the same key> " if cluster.api_key else ""
    return f"more workers may join: {keys}{api}{command}"
