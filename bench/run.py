"""``codec-bench run``: plan, measure, write results and the report. Ctrl-C keeps what was
measured, marked interrupted."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bench import environment, report, results
from bench.corpus import catalog
from bench.errors import UserError
from bench.measure import build_cases, run_rounds
from bench.plan import PROFILES, codecs_under_test
from payload_codecs import Keyring

EXIT_INTERRUPTED = 130


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


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
    # A fresh random key per run: encryption cost does not depend on the key, and no real key
    # should ever sit in a benchmark.
    rows = codecs_under_test(args.codec or profile.codecs, Keyring.generate("bench"))
    corpora = [catalog.load(name) for name in (args.corpus or profile.corpora)]
    cases = build_cases(rows, corpora)
    env = environment.collect()
    started = _now()
    print(
        f"measuring {len(cases)} cases ({len(rows)} codecs, {len(corpora)} corpora, raw and codec "
        f"layers) x {rounds} rounds; Ctrl-C stops and keeps what was measured",
        file=sys.stderr,
        flush=True,
    )
    interrupted = False
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
        task = progress.add_task("measuring", total=len(cases) * (rounds + 2))

        def step(what: str) -> None:
            progress.update(task, advance=1, description=what[:60])

        try:
            asyncio.run(run_rounds(cases, rounds, seed=args.seed, on_step=step))
        except KeyboardInterrupt:
            interrupted = True
    document = results.Results(
        run_id=run_id,
        started=started,
        finished=_now(),
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
        cases=[results.case_result(case.samples) for case in cases if case.samples.original_bytes],
    )
    results.save(document, out / "results.json")
    results.save_csv(document, out / "results.csv")
    _, page = report.write_report(document, out)
    if interrupted:
        print(
            f"codec-bench: interrupted after {document.rounds_completed} of {rounds} rounds; "
            f"what was measured is in {out}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(f"results: {(out / 'results.json').resolve()}\nreport:  {page.resolve()}")
    return 0


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
    run.add_argument("--rounds", type=int, help="measured rounds (default: the profile's)")
    run.add_argument("--seed", type=int, default=0, help="seed of the case order")
    run.add_argument("--out", help="output folder (default results/<run-id>/)")
    run.add_argument("--force", action="store_true", help="write into a non-empty --out")
    run.set_defaults(run=cmd_run)
    rebuild = sub.add_parser("report", help="rebuild report.md and report.html from results.json")
    rebuild.add_argument("results", help="a results.json")
    rebuild.add_argument("--out", help="folder for the report (default: beside the results)")
    rebuild.set_defaults(run=cmd_report)
