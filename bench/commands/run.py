"""``codec-bench run``: plan, measure every layer, write results and the report. Ctrl-C keeps
what was measured, marked interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.commands.common import (
    Subparsers,
    command,
    redact,
    run_stoppable,
    say,
    size,
    writable_folder,
)
from bench.corpus import catalog
from bench.corpus.catalog import Corpus
from bench.errors import RoundTripError, UserError, exit_code, positive_int
from bench.keys import KEYS_ENV, run_keyring
from bench.layers.client import ClientCase, Route, run_client_layer, sample_payloads
from bench.layers.inprocess import Case, build_cases, run_rounds
from bench.layers.reading import (
    FRAME,
    DecodeLoad,
    Reading,
    browser_missing,
    find_chromium,
    headless_browser,
    plan_loads,
    plan_readings,
    run_reading_layer,
    write_histories,
)
from bench.layers.reference import reference_cases
from bench.plan import (
    BASELINE,
    NOISE_FLOOR,
    PROFILES,
    ClientPlan,
    CodecUnderTest,
    Profile,
    ReadingPlan,
    codecs_under_test,
)
from bench.progress import Progress
from bench.results import CorpusInfo, Layer, Results, environment, save, save_csv
from bench.results.buckets import size_text
from bench.results.environment import utc_now
from bench.temporal.cluster import TRANSPORTS, ClusterOptions, connect
from bench.temporal.codecserver import library_server
from bench.temporal.devserver import LIMITS, DevServer, DevServerError, free_ports
from bench.temporal.objectstore import (
    DEFAULT_BUCKET,
    LOCAL_CREDENTIALS,
    ObjectStoreError,
    S3Target,
    check_bucket,
    local_s3,
)
from bench.temporal.worker_process import WORKER_MODULE, WorkerFailed, WorkerProcess, worker_argv
from payload_codecs import DICTIONARIES_ENV, Dictionaries

EXIT_FAILED = 1
REACH_TIMEOUT_S = 15.0


@dataclass
class Plan:
    """What this run measures, decided before anything is timed."""

    run_id: str
    out: Path
    profile: Profile
    rounds: int
    rows: list[CodecUnderTest]
    corpora: list[catalog.Corpus]
    cases: list[Case]
    client: ClientPlan
    client_rows: list[CodecUnderTest]
    client_corpora: list[catalog.Corpus]
    key_env: dict[str, str]
    run_client: bool
    reading: ReadingPlan
    reading_rows: list[CodecUnderTest]
    reading_corpus: catalog.Corpus
    run_reading: bool
    browser: str | None
    """Chromium for the Web UI part of the reading layer; ``None``: the UI is not opened."""
    client_routes: int = 1
    """gRPC transports times storage variants each client codec runs over."""

    @property
    def steps(self) -> int:
        cases = len(self.client_rows) * len(self.client_corpora) * self.client_routes
        client = (self.client.rounds + 1) * cases
        reading = self.reading.rounds + 1
        return (
            len(self.cases) * (self.rounds + 2)
            + (client if self.run_client else 0)
            + (reading if self.run_reading else 0)
        )

    @property
    def servers(self) -> bool:
        """Whether a Temporal server is needed."""
        return self.run_client or self.run_reading


@dataclass
class Outcome:
    """How the measuring went: what the server layers produced and why a run stopped early."""

    client_cases: list[ClientCase] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    loads: list[DecodeLoad] = field(default_factory=list)
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: KeyboardInterrupt | None = None
    """Ctrl-C or SIGTERM, when one stopped the run."""
    failure: str | None = None

    @property
    def interrupted(self) -> bool:
        return self.stopped is not None


def _run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def _out_folder(args: argparse.Namespace, run_id: str) -> Path:
    out = Path(args.out) if args.out else Path("results") / run_id
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; --out names a folder for the results")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserError(
            f"{out} is not empty; choose another --out or pass --force to replace its files"
        )
    return out


def _plan(args: argparse.Namespace) -> Plan:
    profile = PROFILES[args.profile]
    run_id = _run_id()
    out = _out_folder(args, run_id)
    keyring, key_env = run_keyring()
    dictionaries, key_env = _dictionaries(args, key_env)
    rows = codecs_under_test(
        args.codec or profile.codecs, keyring, replicate=NOISE_FLOOR, dictionaries=dictionaries
    )
    corpora = [catalog.load(name) for name in (args.corpus or profile.corpora)]
    for corpus in corpora:
        if not corpus.payloads:
            raise UserError(f"corpus {corpus.name} holds no payloads; there is nothing to measure")
    client, client_corpora = _client_plan(args, profile, corpora)
    run_client = not args.no_client and (profile.client_by_default or args.client)
    run_reading = not args.no_reading and (profile.client_by_default or args.reading)
    _check_cluster(args, run_client or run_reading)
    reading = _reading_plan(args, profile)
    reading_rows = [
        row
        for row in codecs_under_test(
            reading.codecs or args.codec or profile.codecs, keyring, dictionaries=dictionaries
        )
        if row.chain is not None  # the codec server serves specs; a user's class it cannot
    ]
    _check_endpoints(args, reading_rows)
    writable_folder(out)
    return Plan(
        run_id=run_id,
        out=out,
        profile=profile,
        rounds=args.rounds or profile.rounds,
        rows=rows,
        corpora=corpora,
        cases=build_cases(rows, corpora) + reference_cases(),
        client=client,
        client_rows=codecs_under_test(
            client.codecs or args.codec or profile.codecs,
            keyring,
            replicate=BASELINE,
            dictionaries=dictionaries,
        ),
        client_corpora=client_corpora,
        key_env=key_env,
        run_client=run_client,
        reading=reading,
        reading_rows=reading_rows,
        reading_corpus=next((c for c in corpora if c.name in reading.corpora), corpora[0]),
        run_reading=run_reading,
        browser=None if args.no_ui or not run_reading or browser_missing() else find_chromium(),
        client_routes=(2 if args.grpc_compression == "both" else 1)
        * (1 + len(client.storage_thresholds)),
    )


def _dictionaries(
    args: argparse.Namespace, key_env: dict[str, str]
) -> tuple[Dictionaries | None, dict[str, str]]:
    """``--dictionaries``, loaded, and the environment that gives workers and codec servers
    the same folder."""
    if not args.dictionaries:
        return None, key_env
    folder = Path(args.dictionaries).resolve()
    return Dictionaries.from_dir(folder), {**key_env, DICTIONARIES_ENV: str(folder)}


def _client_plan(
    args: argparse.Namespace, profile: Profile, corpora: list[Corpus]
) -> tuple[ClientPlan, list[Corpus]]:
    """The client layer's plan and corpora; storage thresholds no sampled payload can reach
    are dropped."""
    client = ClientPlan(
        codecs=() if args.codec else profile.client.codecs,
        corpora=() if args.corpus else profile.client.corpora,
        rounds=args.client_rounds or profile.client.rounds,
        per_bucket=args.client_per_bucket or profile.client.per_bucket,
        concurrency=args.concurrency or profile.client.concurrency,
        storage_thresholds=()
        if args.no_storage
        else tuple(args.storage_threshold or profile.client.storage_thresholds),
    )
    chosen = [c for c in corpora if not client.corpora or c.name in client.corpora]
    return replace(client, storage_thresholds=reachable(client, chosen)), chosen


def _reading_plan(args: argparse.Namespace, profile: Profile) -> ReadingPlan:
    rounds = args.reading_rounds or profile.reading.rounds
    return ReadingPlan(
        codecs=() if args.codec else profile.reading.codecs,
        corpora=profile.reading.corpora,
        sizes=tuple(args.history_size or profile.reading.sizes),
        rounds=rounds,
        ui_sizes=tuple(args.history_size or profile.reading.ui_sizes),
        ui_rounds=min(args.reading_rounds or profile.reading.ui_rounds, rounds),
    )


def _check_cluster(args: argparse.Namespace, servers: bool) -> None:
    cluster = ClusterOptions.from_args(args)
    if servers and cluster.address is None and (cluster.api_key or _tls(cluster)):
        raise UserError(
            "--api-key and the --tls flags need --address: the embedded dev server speaks plain "
            "gRPC on loopback"
        )


def _check_endpoints(args: argparse.Namespace, rows: list[CodecUnderTest]) -> None:
    """``--codec-endpoint`` stands for one codec's server, ``--ui-url`` needs a cluster."""
    coded = [row.label for row in rows if not row.facts.baseline]
    if args.codec_endpoint and len(coded) != 1:
        raise UserError(
            f"--codec-endpoint decodes one codec, but the reading layer measures {len(coded)} "
            f"({', '.join(coded) or 'none'}); name that one codec with --codec"
        )
    if args.ui_url and not args.address:
        raise UserError("--ui-url needs --address: the embedded dev server serves its own Web UI")


def _tls(cluster: ClusterOptions) -> bool:
    return bool(cluster.tls or cluster.tls_cert or cluster.tls_key or cluster.tls_ca)


def _reach(args: argparse.Namespace, plan: Plan) -> None:
    """Connect to ``--address`` (and check ``--s3-endpoint``'s bucket) before anything is
    measured, so a wrong address costs seconds and one line rather than the whole in-process
    pass and a traceback."""
    if args.s3_endpoint and plan.run_client and plan.client.storage_thresholds:
        try:
            check_bucket(_given_store(args), os.environ)
        except ObjectStoreError as error:
            raise UserError(str(error)) from None
    cluster = ClusterOptions.from_args(args)
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


def _measure(args: argparse.Namespace, plan: Plan) -> Outcome:
    outcome = Outcome()
    if not plan.run_client:
        why = "--no-client" if args.no_client else f"profile {plan.profile.name}; --client runs it"
        outcome.layers[Layer.CLIENT] = {"status": f"not run ({why})"}
    if not plan.run_reading:
        why = (
            "--no-reading" if args.no_reading else f"profile {plan.profile.name}; --reading runs it"
        )
        outcome.layers[Layer.READING] = {"status": f"not run ({why})"}
    say(
        f"measuring {len(plan.cases)} cases ({len(plan.rows)} codecs, {len(plan.corpora)} "
        f"corpora, raw and codec layers) x {plan.rounds} rounds; Ctrl-C stops and keeps what "
        "was measured"
    )
    with Progress(plan.steps, "measuring") as progress:
        try:
            run_stoppable(
                run_rounds(plan.cases, plan.rounds, seed=args.seed, on_step=progress.step)
            )
            if plan.servers:
                _server_layers(args, plan, outcome, progress)
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
            outcome.failure = f"{running} layer stopped: {reason}"
            outcome.layers.setdefault(running, {})["status"] = f"failed: {reason}"
    return outcome


def one_line(error: BaseException) -> str:
    """An exception as one line: its own text for the errors we raise, the type too for the
    rest (an RPCError's text alone can be a bare word)."""
    text = " ".join(str(error).split()) or "no message"
    if isinstance(error, (WorkerFailed, DevServerError, ObjectStoreError, UserError)):
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

    @property
    def where(self) -> str:
        if self.server is None:
            return f"existing cluster at {self.cluster.address}"
        return "embedded temporal server start-dev (in memory)"


def _server_layers(
    args: argparse.Namespace, plan: Plan, outcome: Outcome, progress: Progress
) -> None:
    """The client and reading layers against ``--address`` or an embedded dev server; the
    server, worker, codec servers and browser are always stopped, whatever happens."""
    cluster = ClusterOptions.from_args(args)
    with contextlib.ExitStack() as stack:
        site = Site(cluster, None, args.ui_url, stack)
        if cluster.address is None:
            [ui_port] = free_ports(1) if plan.browser else [None]
            server = stack.enter_context(DevServer(namespace=cluster.namespace, ui_port=ui_port))
            site = Site(cluster.at(server.address), server, server.ui_url or None, stack)
            say(f"started Temporal dev server pid {server.pid} at {server.address}")
        if plan.run_client:
            _client_layer(args, plan, outcome, progress=progress, site=site)
        if plan.run_reading:
            _reading_layer(args, plan, outcome, progress=progress, site=site)


def reachable(plan: ClientPlan, corpora: Sequence[Corpus]) -> tuple[int, ...]:
    """The storage thresholds some sampled payload can reach: below all of them every payload
    stays inline, and an offloading route would measure the inline one again (and start an S3
    server for nothing)."""
    return tuple(
        threshold
        for threshold in plan.storage_thresholds
        if any(
            Route(threshold=threshold).candidates(sample_payloads(c, plan.per_bucket))
            for c in corpora
        )
    )


def _routes(args: argparse.Namespace, plan: Plan) -> list[Route]:
    transports = list(TRANSPORTS) if args.grpc_compression == "both" else [args.grpc_compression]
    thresholds: list[int | None] = [None, *plan.client.storage_thresholds]
    return [Route(t, threshold) for t in transports for threshold in thresholds]


def _given_store(args: argparse.Namespace) -> S3Target:
    return S3Target(args.s3_endpoint.rstrip("/"), args.s3_bucket)


def _object_store(args: argparse.Namespace, site: Site) -> tuple[S3Target, dict[str, str]]:
    """Where offloaded payloads go, with the credentials for it: ``--s3-endpoint`` with the
    AWS environment (its bucket checked first), else moto's server started here."""
    if args.s3_endpoint:  # its bucket was checked before measuring (_reach)
        return _given_store(args), dict(os.environ)
    target = site.stack.enter_context(local_s3(args.s3_bucket))
    say(f"started local S3 server (moto) pid {target.pid} at {target.endpoint}")
    return target, {**os.environ, **LOCAL_CREDENTIALS}


def _client_layer(
    args: argparse.Namespace, plan: Plan, outcome: Outcome, *, progress: Progress, site: Site
) -> None:
    cluster = site.cluster
    routes = _routes(args, plan)
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
    prefix = args.task_queue_prefix or plan.run_id
    texts = [row.text for row in plan.client_rows]
    target, s3_env = (None, {}) if not plan.client.storage_thresholds else _object_store(args, site)
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
            say(_join_line(options, queues, plan.client_rows, extra))
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
                seed=args.seed,
                also_watch=[] if site.server is None else [site.server],
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


def _storage_info(plan: Plan) -> str:
    thresholds = plan.client.storage_thresholds
    if not thresholds:
        return "off"
    return "S3 driver from " + ", ".join(size_text(t) for t in thresholds)


def _codec_urls(args: argparse.Namespace, plan: Plan, site: Site) -> dict[str, str | None]:
    """Each reading row's codec server: none for the baseline, ``--codec-endpoint`` when
    given, else the library's server started here for that spec (allowing the UI's origin)."""
    env = {**os.environ, **plan.key_env}
    origins = [site.ui_url] if site.ui_url else []
    urls: dict[str, str | None] = {}
    for row in plan.reading_rows:
        if row.facts.baseline:
            urls[row.label] = None
        elif args.codec_endpoint:
            urls[row.label] = args.codec_endpoint.rstrip("/")
        else:
            urls[row.label] = site.stack.enter_context(
                library_server(row.facts.spec, env, origins=origins)
            )
    return urls


def _reading_layer(
    args: argparse.Namespace, plan: Plan, outcome: Outcome, *, progress: Progress, site: Site
) -> None:
    info = outcome.layers[Layer.READING] = {
        "rounds": plan.reading.rounds,
        "sizes": list(plan.reading.sizes),
        "corpus": plan.reading_corpus.name,
        "server": site.where,
        "cli": "temporal workflow show --output json",
        "ui": _ui_status(args, plan, site.ui_url),
        "status": "started",
    }
    codec_urls = _codec_urls(args, plan, site)
    say(f"reading layer: codec servers at {', '.join(filter(None, codec_urls.values()))}")
    readings = plan_readings(
        plan.reading_rows, plan.reading_corpus, plan.reading.sizes, codec_urls, plan.run_id
    )
    loads = [] if args.codec_endpoint else plan_loads(plan.reading_rows, codec_urls, plan.reading)
    ui_url, browser = site.ui_url, plan.browser

    async def measure() -> None:
        await write_histories(readings, site.cluster, args.task_queue_prefix or plan.run_id)
        outcome.readings.extend(readings)
        outcome.loads.extend(loads)
        async with contextlib.AsyncExitStack() as stack:
            opened = None
            if browser is not None and ui_url is not None:
                opened = await stack.enter_async_context(
                    headless_browser(browser, ui_url, site.cluster.namespace)
                )
            await run_reading_layer(
                readings,
                site.cluster,
                plan.reading,
                browser=opened,
                loads=loads,
                on_step=progress.step,
                seed=args.seed,
            )

    try:
        run_stoppable(measure())
        info["status"] = "complete"
    except KeyboardInterrupt:
        info["status"] = "interrupted"
        raise


def _ui_status(args: argparse.Namespace, plan: Plan, ui_url: str | None) -> str:
    if args.no_ui:
        return "not opened (--no-ui)"
    if plan.browser is None:
        return f"not opened ({browser_missing()})"
    return f"{ui_url} in headless {plan.browser}" if ui_url else "not opened (no --ui-url)"


def _join_line(
    cluster: ClusterOptions, prefix: str, rows: list[CodecUnderTest], extra: Sequence[str] = ()
) -> str:
    """The command that adds a worker to this run from another shell or machine."""
    argv = [*worker_argv(cluster, prefix, [row.text for row in rows]), *extra]
    command = shlex.join(["python", "-m", WORKER_MODULE, *argv])
    keys = f"{KEYS_ENV}=<the same keys> " if any(row.facts.encrypts for row in rows) else ""
    api = "TEMPORAL_API_KEY=<the same key> " if cluster.api_key else ""
    return f"more workers may join: {keys}{api}{command}"


def _results(args: argparse.Namespace, plan: Plan, outcome: Outcome, started: str) -> Results:
    cases = [case.result() for case in plan.cases if case.samples.original_bytes]
    cases += [case.result() for case in outcome.client_cases if case.samples.latency_ns]
    cases += [reading.result() for reading in outcome.readings if reading.samples.rounds]
    cases += [
        load.result(plan.reading_corpus.name) for load in outcome.loads if load.samples.rounds
    ]
    return Results(
        run_id=plan.run_id,
        started=started,
        finished=utc_now(),
        interrupted=outcome.interrupted,
        profile=plan.profile.name,
        rounds_planned=plan.rounds,
        rounds_completed=min((c.samples.rounds for c in plan.cases), default=0),
        command=["codec-bench", *redact(args.argv)],
        environment=environment.collect(),
        corpora=[
            CorpusInfo(
                name=corpus.name,
                digest=corpus.digest,
                payload_count=len(corpus.payloads),
                total_bytes=corpus.total_bytes,
                provenance=dict(corpus.provenance),
                skipped=dict(corpus.skipped),
            )
            for corpus in plan.corpora
        ],
        cases=cases,
        layers=outcome.layers,
    )


def history_size(text: str) -> int:
    """``--history-size``: a history holds its input's two payloads and its result besides
    its signals."""
    size = positive_int(text)
    if size < FRAME + 1:
        raise argparse.ArgumentTypeError(f"a history holds at least {FRAME + 1} payloads")
    return size


def cmd_run(args: argparse.Namespace) -> int:
    from bench.outputs import report  # matplotlib only for the commands that plot

    plan = _plan(args)
    _reach(args, plan)
    started = utc_now()
    outcome = _measure(args, plan)
    document = _results(args, plan, outcome, started)
    save(document, plan.out / "results.json")
    save_csv(document, plan.out / "results.csv")
    _, page = report.write_report(document, plan.out)
    if outcome.failure is not None:
        say(f"codec-bench: error: {outcome.failure}; what was measured is in {plan.out}")
        return EXIT_FAILED
    if outcome.stopped is not None:
        how = "stopped by SIGTERM" if exit_code(outcome.stopped) == 143 else "interrupted"
        say(
            f"codec-bench: {how} after {document.rounds_completed} of {plan.rounds} "
            f"rounds; what was measured is in {plan.out}"
        )
        return exit_code(outcome.stopped)
    print(f"results: {(plan.out / 'results.json').resolve()}\nreport:  {page.resolve()}")
    return 0


def add_parser(sub: Subparsers) -> None:
    run = command(sub, "run", "measure codecs over corpora; write results and a report")
    run.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="quick",
        help="quick: defaults with and without AES; full: levels and all corpora; ci: "
        "defaults in-process only, for a speed gate",
    )
    run.add_argument(
        "--codec",
        action="append",
        help="codec spec or package.module:factory (repeatable; replaces the profile's)",
    )
    run.add_argument(
        "--corpus",
        action="append",
        help=f"built-in name ({', '.join(catalog.BUILTIN)}) or corpus file (repeatable)",
    )
    run.add_argument("--rounds", type=positive_int, help="measured rounds (default: the profile's)")
    run.add_argument("--seed", type=int, default=0, help="seed of the case order")
    run.add_argument(
        "--dictionaries",
        help="folder of zstd dictionaries (codec-bench dict train) for specs like "
        "zstd:3:dict=NAME; every layer, worker and codec server loads it",
    )
    run.add_argument("--out", help="output folder (default results/<run-id>/)")
    run.add_argument("--force", action="store_true", help="write into a non-empty --out")
    client = run.add_argument_group(
        f"{Layer.CLIENT} layer", "a real client, server and worker; default: an embedded dev server"
    )
    client.add_argument("--no-client", action="store_true", help="skip the client layer")
    client.add_argument(
        "--client", action="store_true", help="run the client layer in a profile that skips it"
    )
    ClusterOptions.add_arguments(
        client,
        address_help="HOST:PORT of an existing cluster instead of the embedded one",
        transports=(*TRANSPORTS, "both"),
    )
    client.add_argument(
        "--concurrency", type=positive_int, help="workflows in flight for throughput"
    )
    client.add_argument("--client-rounds", type=positive_int, help="client-layer rounds")
    client.add_argument("--client-per-bucket", type=positive_int, help="payloads per size bucket")
    client.add_argument(
        "--task-queue-prefix",
        help="task queues PREFIX-N (default: the run id); lets workers on other machines join",
    )
    _add_storage_arguments(client)
    _add_reading_arguments(run)
    run.set_defaults(run=cmd_run)


def _add_storage_arguments(client: argparse._ArgumentGroup) -> None:
    client.add_argument(
        "--storage-threshold",
        type=size,
        action="append",
        help="also run each codec with external storage (S3) for payloads of at least this size "
        "after the codec, e.g. 256KiB (repeatable; default: the profile's)",
    )
    client.add_argument("--no-storage", action="store_true", help="no external-storage routes")
    client.add_argument(
        "--s3-endpoint",
        help="an S3 API (http(s)://HOST:PORT) for external storage instead of a local moto "
        "server; credentials from the AWS environment",
    )
    client.add_argument(
        "--s3-bucket", default=DEFAULT_BUCKET, help="bucket for offloaded payloads (must exist)"
    )


def _add_reading_arguments(run: argparse.ArgumentParser) -> None:
    reading = run.add_argument_group(
        f"{Layer.READING} layer",
        "histories read through the codec server by the temporal CLI and the Web UI",
    )
    reading.add_argument("--no-reading", action="store_true", help="skip the reading layer")
    reading.add_argument(
        "--reading", action="store_true", help="run the reading layer in a profile that skips it"
    )
    reading.add_argument("--reading-rounds", type=positive_int, help="reading-layer rounds")
    reading.add_argument(
        "--history-size",
        type=history_size,
        action="append",
        help="payloads per history read (repeatable; default: the profile's)",
    )
    reading.add_argument("--no-ui", action="store_true", help="do not open the Web UI")
    reading.add_argument(
        "--ui-url",
        help="Web UI of the --address cluster (its origin must be allowed by the codec server)",
    )
    reading.add_argument(
        "--codec-endpoint",
        help="an existing codec server (http://HOST:PORT) for the one codec measured, instead of "
        "one started here",
    )
