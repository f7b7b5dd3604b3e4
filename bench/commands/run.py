"""``codec-bench run``: plan, measure, write results and the report. Ctrl-C keeps what was
measured, marked interrupted."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bench.corpus import catalog
from bench.errors import UserError, positive_int
from bench.layers.client import (
    ClientSamples,
    WorkerFailed,
    WorkerProcess,
    run_client_layer,
    run_keys,
)
from bench.layers.inprocess import build_cases, run_rounds
from bench.outputs import report
from bench.plan import PROFILES, ClientPlan, CodecUnderTest, codecs_under_test
from bench.results import environment
from bench.results import schema as results
from bench.results.environment import utc_now
from bench.temporal.cluster import ClusterOptions
from bench.temporal.devserver import DevServer, DevServerError

EXIT_INTERRUPTED = 130


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def _out_folder(args: argparse.Namespace, run_id: str) -> Path:
    out = Path(args.out) if args.out else Path("results") / run_id
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserError(
            f"{out} is not empty; choose another --out or pass --force to replace its files"
        )
    return out


def cmd_run(args: argparse.Namespace) -> int:
    profile = PROFILES[args.profile]
    rounds = args.rounds or profile.rounds
    run_id = _run_id()
    out = _out_folder(args, run_id)
    # A fresh random key unless PAYLOAD_CODEC_KEYS is set (so that workers elsewhere can join):
    # encryption cost does not depend on the key. The worker gets the keys in its environment.
    keyring, key_env = run_keys()
    rows = codecs_under_test(args.codec or profile.codecs, keyring)
    corpora = [catalog.load(name) for name in (args.corpus or profile.corpora)]
    for corpus in corpora:
        if not corpus.payloads:
            raise UserError(f"corpus {corpus.name} holds no payloads; there is nothing to measure")
    cases = build_cases(rows, corpora)
    client_plan = ClientPlan(
        codecs=() if args.codec else profile.client.codecs,
        corpora=() if args.corpus else profile.client.corpora,
        rounds=args.client_rounds or profile.client.rounds,
        per_bucket=args.client_per_bucket or profile.client.per_bucket,
        concurrency=args.concurrency or profile.client.concurrency,
    )
    client_rows = [r for r in rows if not client_plan.codecs or r.text in client_plan.codecs]
    client_corpora = [
        c for c in corpora if not client_plan.corpora or c.name in client_plan.corpora
    ]
    client_steps = (
        0 if args.no_client else (client_plan.rounds + 1) * len(client_rows) * len(client_corpora)
    )
    env = environment.collect()
    started = utc_now()
    _say(
        f"measuring {len(cases)} cases ({len(rows)} codecs, {len(corpora)} corpora, raw and codec "
        f"layers) x {rounds} rounds; Ctrl-C stops and keeps what was measured"
    )
    interrupted = False
    failure: str | None = None
    client_samples: list[ClientSamples] = []
    client_info: dict[str, object] = {"status": "not run (--no-client)"} if args.no_client else {}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        refresh_per_second=2,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("measuring", total=len(cases) * (rounds + 2) + client_steps)

        def step(what: str) -> None:
            progress.update(task, advance=1, description=what[:60])

        try:
            asyncio.run(run_rounds(cases, rounds, seed=args.seed, on_step=step))
            if not args.no_client:
                _client_layer(
                    args,
                    rows=client_rows,
                    corpora=client_corpora,
                    plan=client_plan,
                    key_env=key_env,
                    run_id=run_id,
                    into=client_samples,
                    info=client_info,
                    step=step,
                )
        except KeyboardInterrupt:
            interrupted = True
            client_info.setdefault("status", "not run (interrupted before it)")
        except (WorkerFailed, DevServerError) as error:
            failure = f"client layer stopped: {error}"
            client_info["status"] = f"failed: {error}"
    document = results.Results(
        run_id=run_id,
        started=started,
        finished=utc_now(),
        interrupted=interrupted,
        profile=profile.name,
        rounds_planned=rounds,
        rounds_completed=min((len(c.samples.encode_ns) for c in cases), default=0),
        command=["codec-bench", *args.argv],
        environment=env,
        corpora=[
            {
                "name": corpus.name,
                "digest": corpus.digest,
                "payload_count": len(corpus.payloads),
                "total_bytes": corpus.total_bytes,
                "provenance": dict(corpus.provenance),
                "skipped": dict(corpus.skipped),
            }
            for corpus in corpora
        ],
        cases=[results.case_result(case.samples) for case in cases if case.samples.original_bytes]
        + [results.client_case_result(s) for s in client_samples if s.latency_ns],
        extra={"client": client_info},
    )
    results.save(document, out / "results.json")
    results.save_csv(document, out / "results.csv")
    _, page = report.write_report(document, out)
    if failure is not None:
        print(f"codec-bench: error: {failure}; what was measured is in {out}", file=sys.stderr)
        return 1
    if interrupted:
        print(
            f"codec-bench: interrupted after {document.rounds_completed} of {rounds} rounds; "
            f"what was measured is in {out}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(f"results: {(out / 'results.json').resolve()}\nreport:  {page.resolve()}")
    return 0


def _client_layer(
    args: argparse.Namespace,
    *,
    rows: list[CodecUnderTest],
    corpora: list[catalog.Corpus],
    plan: ClientPlan,
    key_env: dict[str, str],
    run_id: str,
    into: list[ClientSamples],
    info: dict[str, object],
    step: Callable[[str], None],
) -> None:
    """Run the client layer against ``--address`` or an embedded dev server, and always stop
    the server and the worker process, whatever happens."""
    info.update(
        rounds=plan.rounds,
        per_bucket=plan.per_bucket,
        concurrency=plan.concurrency,
        namespace=args.namespace,
        status="started",
    )
    server: DevServer | None = None
    worker: WorkerProcess | None = None
    try:
        if args.address:
            address = args.address
            info["server"] = f"existing cluster at {address}"
        else:
            server = DevServer().start()
            address = server.address
            info["server"] = "embedded temporal server start-dev (in memory)"
            print(
                f"started Temporal dev server pid {server.pid} at {address}",
                file=sys.stderr,
                flush=True,
            )
        cluster = ClusterOptions(
            address,
            args.namespace,
            args.tls,
            args.tls_cert,
            args.tls_key,
            args.tls_ca,
            args.api_key,
        )
        prefix = args.task_queue_prefix or run_id
        texts = [row.text for row in rows]
        worker = WorkerProcess(cluster, prefix, texts, key_env)
        _say(f"started worker pid {worker.pid}")
        _say(
            "more workers may join: python -m bench.temporal.worker --address ADDRESS "
            f"--task-queue-prefix {prefix} " + " ".join(f"--codec {t}" for t in texts)
        )
        asyncio.run(
            run_client_layer(
                rows,
                corpora,
                cluster,
                worker,
                prefix=prefix,
                plan=plan,
                into=into,
                on_step=step,
                seed=args.seed,
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


def cmd_report(args: argparse.Namespace) -> int:
    document = results.load(args.results)
    folder = Path(args.out) if args.out else Path(args.results).parent
    markdown, page = report.write_report(document, folder)
    print(f"report: {page}\n        {markdown}")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="measure codecs over corpora; write results and a report")
    run.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default="quick",
        help="quick: defaults with and without AES; full: levels and all corpora",
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
        "client layer", "a real client, server and worker; default: an embedded dev server"
    )
    client.add_argument("--no-client", action="store_true", help="skip the client layer")
    client.add_argument("--address", help="HOST:PORT of an existing cluster instead")
    client.add_argument("--namespace", default="default")
    client.add_argument("--tls", action="store_true", help="connect with TLS")
    client.add_argument("--tls-cert", type=Path, help="client certificate (mTLS)")
    client.add_argument("--tls-key", type=Path, help="client private key (mTLS)")
    client.add_argument("--tls-ca", type=Path, help="server root CA certificate")
    client.add_argument("--api-key", help="Temporal Cloud API key; prefer TEMPORAL_API_KEY")
    client.add_argument(
        "--concurrency", type=positive_int, help="workflows in flight for throughput"
    )
    client.add_argument("--client-rounds", type=positive_int, help="client-layer rounds")
    client.add_argument("--client-per-bucket", type=positive_int, help="payloads per size bucket")
    client.add_argument(
        "--task-queue-prefix",
        help="task queues PREFIX-N (default: the run id); lets workers "
        "on other machines join the run",
    )
    run.set_defaults(run=cmd_run)
    rebuild = sub.add_parser("report", help="rebuild report.md and report.html from results.json")
    rebuild.add_argument("results", help="a results.json")
    rebuild.add_argument("--out", help="folder for the report (default: beside the results)")
    rebuild.set_defaults(run=cmd_report)
