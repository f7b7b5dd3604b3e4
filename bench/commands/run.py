"""``codec-bench run``: plan, measure every layer, write results and the report. Ctrl-C keeps
what was measured, marked interrupted."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.commands.common import Subparsers, command, redact, say, writable_folder
from bench.corpus import catalog
from bench.errors import RoundTripError, UserError, exit_code, positive_int
from bench.keys import KEYS_ENV, run_keyring
from bench.layers.client import ClientCase, run_client_layer
from bench.layers.inprocess import Case, build_cases, run_rounds
from bench.layers.reference import reference_cases
from bench.plan import (
    BASELINE,
    NOISE_FLOOR,
    PROFILES,
    ClientPlan,
    CodecUnderTest,
    Profile,
    codecs_under_test,
)
from bench.progress import Progress
from bench.results import CorpusInfo, Layer, Results, environment, save, save_csv
from bench.results.environment import utc_now
from bench.temporal.cluster import ClusterOptions, connect
from bench.temporal.devserver import DevServer, DevServerError
from bench.temporal.worker_process import WORKER_MODULE, WorkerFailed, WorkerProcess, worker_argv

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

    @property
    def steps(self) -> int:
        client = (self.client.rounds + 1) * len(self.client_rows) * len(self.client_corpora)
        return len(self.cases) * (self.rounds + 2) + (client if self.run_client else 0)


@dataclass
class Outcome:
    """How the measuring went: what the client layer produced and why a run stopped early."""

    client_cases: list[ClientCase] = field(default_factory=list)
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
    rows = codecs_under_test(args.codec or profile.codecs, keyring, replicate=NOISE_FLOOR)
    corpora = [catalog.load(name) for name in (args.corpus or profile.corpora)]
    for corpus in corpora:
        if not corpus.payloads:
            raise UserError(f"corpus {corpus.name} holds no payloads; there is nothing to measure")
    client = ClientPlan(
        codecs=() if args.codec else profile.client.codecs,
        corpora=() if args.corpus else profile.client.corpora,
        rounds=args.client_rounds or profile.client.rounds,
        per_bucket=args.client_per_bucket or profile.client.per_bucket,
        concurrency=args.concurrency or profile.client.concurrency,
    )
    cluster = ClusterOptions.from_args(args)
    run_client = not args.no_client and (profile.client_by_default or args.client)
    if cluster.address is None and run_client and (cluster.api_key or _tls(cluster)):
        raise UserError(
            "--api-key and the --tls flags need --address: the embedded dev server speaks plain "
            "gRPC on loopback"
        )
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
            client.codecs or args.codec or profile.codecs, keyring, replicate=BASELINE
        ),
        client_corpora=[c for c in corpora if not client.corpora or c.name in client.corpora],
        key_env=key_env,
        run_client=run_client,
    )


def _tls(cluster: ClusterOptions) -> bool:
    return bool(cluster.tls or cluster.tls_cert or cluster.tls_key or cluster.tls_ca)


def _reach(args: argparse.Namespace, plan: Plan) -> None:
    """Connect to ``--address`` before anything is measured, so a wrong address costs seconds
    and one line rather than the whole in-process pass and a traceback."""
    cluster = ClusterOptions.from_args(args)
    if cluster.address is None or not plan.run_client:
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
    say(
        f"measuring {len(plan.cases)} cases ({len(plan.rows)} codecs, {len(plan.corpora)} "
        f"corpora, raw and codec layers) x {plan.rounds} rounds; Ctrl-C stops and keeps what "
        "was measured"
    )
    with Progress(plan.steps, "measuring") as progress:
        try:
            asyncio.run(run_rounds(plan.cases, plan.rounds, seed=args.seed, on_step=progress.step))
            if plan.run_client:
                _client_layer(args, plan, outcome, progress)
        except KeyboardInterrupt as stop:
            outcome.stopped = stop
            outcome.layers.setdefault(Layer.CLIENT, {"status": "not run (interrupted before it)"})
        except RoundTripError:
            raise
        except Exception as error:  # whatever stops the client layer, what was measured stays
            reason = one_line(error)
            outcome.failure = f"client layer stopped: {reason}"
            outcome.layers[Layer.CLIENT]["status"] = f"failed: {reason}"
    return outcome


def one_line(error: BaseException) -> str:
    """An exception as one line: its own text for the errors we raise, the type too for the
    rest (an RPCError's text alone can be a bare word)."""
    text = " ".join(str(error).split()) or "no message"
    if isinstance(error, (WorkerFailed, DevServerError, UserError)):
        return text
    return f"{type(error).__name__}: {text}"


def _client_layer(
    args: argparse.Namespace, plan: Plan, outcome: Outcome, progress: Progress
) -> None:
    """The client layer against ``--address`` or an embedded dev server; the server and the
    worker process are always stopped, whatever happens."""
    info = outcome.layers[Layer.CLIENT] = {
        "rounds": plan.client.rounds,
        "per_bucket": plan.client.per_bucket,
        "concurrency": plan.client.concurrency,
        "namespace": args.namespace,
        "status": "started",
    }
    cluster = ClusterOptions.from_args(args)
    server: DevServer | None = None
    worker: WorkerProcess | None = None
    try:
        if cluster.address is not None:
            info["server"] = f"existing cluster at {cluster.address}"
        else:
            server = DevServer(namespace=cluster.namespace).start()
            cluster = cluster.at(server.address)
            info["server"] = "embedded temporal server start-dev (in memory)"
            say(f"started Temporal dev server pid {server.pid} at {server.address}")
        prefix = args.task_queue_prefix or plan.run_id
        texts = [row.text for row in plan.client_rows]
        worker = WorkerProcess(cluster, prefix, texts, plan.key_env)
        say(f"started worker pid {worker.pid}")
        say(_join_line(cluster, prefix, plan.client_rows))
        asyncio.run(
            run_client_layer(
                plan.client_rows,
                plan.client_corpora,
                cluster,
                worker,
                prefix=prefix,
                plan=plan.client,
                into=outcome.client_cases,
                on_step=progress.step,
                seed=args.seed,
                also_watch=[] if server is None else [server],
            )
        )
        info["status"] = "complete"
    except KeyboardInterrupt:
        info["status"] = "interrupted"
        raise
    finally:
        if worker is not None:
            worker.close()
        if server is not None:
            server.stop()


def _join_line(cluster: ClusterOptions, prefix: str, rows: list[CodecUnderTest]) -> str:
    """The command that adds a worker to this run from another shell or machine."""
    argv = worker_argv(cluster, prefix, [row.text for row in rows])
    command = shlex.join(["python", "-m", WORKER_MODULE, *argv])
    keys = f"{KEYS_ENV}=<the same keys> " if any(row.facts.encrypts for row in rows) else ""
    api = "TEMPORAL_API_KEY=<the same key> " if cluster.api_key else ""
    return f"more workers may join: {keys}{api}{command}"


def _results(args: argparse.Namespace, plan: Plan, outcome: Outcome, started: str) -> Results:
    cases = [case.result() for case in plan.cases if case.samples.original_bytes]
    cases += [case.result() for case in outcome.client_cases if case.samples.latency_ns]
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
        client, address_help="HOST:PORT of an existing cluster instead of the embedded one"
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
    run.set_defaults(run=cmd_run)
