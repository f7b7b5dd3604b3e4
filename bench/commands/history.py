"""``codec-bench history add|list|remove|report|check``: runs kept over time in one SQLite
file (``bench.history``), a dashboard of their series with the changes found in them, and a
check of the newest run against each series' last stable stretch for CI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.commands.common import Subparsers, add_json_flag, amount, command
from bench.commands.compare import EXIT_REGRESSION, series
from bench.errors import UserError
from bench.history import store
from bench.history.check import MIN_BASELINE, check, regressions
from bench.history.series import load as load_series
from bench.history.series import machines
from bench.outputs import history_report, render
from bench.progress import say
from bench.results import load


def cmd_add(args: argparse.Namespace) -> int:
    groups = [[load(path) for path in series(argument)] for argument in args.results]
    with store.opened(args.db, create=True) as connection:
        added = [
            store.add(connection, runs, label=args.label, commit=args.commit) for runs in groups
        ]
    for run in added:
        say(f"history: added run {run.id} ({run.run_id}, {run.processes} process(es)) to {args.db}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with store.opened(args.db) as connection:
        runs = store.runs(connection)
    if args.json:
        print(json.dumps([vars(run) for run in runs], indent=1))
        return 0
    print(render.markdown([history_report.runs_section(runs)], f"History {args.db}"))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with store.opened(args.db) as connection:
        run = store.remove(connection, args.which)
    say(f"history: removed run {run.id} ({run.run_id}) from {args.db}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    with store.opened(args.db) as connection:
        runs = store.runs(connection)
        found = {
            key: load_series(connection, key, normalize=args.normalize)
            for key in machines(connection)
        }
    if not runs:
        raise UserError(f"{args.db} holds no runs; add some: codec-bench history add RESULTS")
    page = history_report.write(runs, found, Path(args.out), normalized=args.normalize)
    say(f"history dashboard: {page.resolve()}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    with store.opened(args.db) as connection:
        runs = store.runs(connection)
        if not runs:
            raise UserError(f"{args.db} holds no runs; add some: codec-bench history add RESULTS")
        newest = max(runs, key=lambda r: (r.started, r.id))
        found = load_series(connection, newest.machine, normalize=args.normalize)
    findings = check(found, newest.id)
    if args.json:
        print(json.dumps(history_report.findings_json(newest, findings), indent=1))
    else:
        print(render.markdown([history_report.check_section(newest, findings)], "History check"))
    judged = [f for f in findings if f.p_value is not None]
    if not judged:
        say(
            f"codec-bench: the newest run ({newest.name}) was not judged: no series has "
            f"{MIN_BASELINE} runs on this machine before it; add more runs"
        )
        return 0
    slower = regressions(findings, args.fail_on_regression)
    for finding in slower:
        say(
            f"codec-bench: regression: {finding.series.label}: {finding.speedup - 1:+.1%} "
            f"[{(finding.low or 0) - 1:+.1%} .. {(finding.high or 0) - 1:+.1%}] against "
            f"{finding.runs} runs"
        )
    return EXIT_REGRESSION if slower else 0


def add_parser(sub: Subparsers) -> None:
    parser = command(sub, "history", "runs kept over time: add, list, remove, report, check")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = command(actions, "add", "add runs to the history (each argument is one run)")
    add.add_argument(
        "results",
        nargs="+",
        help="results files, run folders, or folders of runs (run --runs N: one run of N "
        "processes)",
    )
    add.add_argument("--label", default="", help="a name for the run (a version, a change)")
    add.add_argument("--commit", default="", help="the commit measured (default: the run's)")
    add.set_defaults(run=cmd_add)
    listing = command(actions, "list", "the runs in the history")
    add_json_flag(listing)
    listing.set_defaults(run=cmd_list)
    remove = command(actions, "remove", "remove one run")
    remove.add_argument(
        "which", metavar="RUN", help="its number in history list, its run id or its label"
    )
    remove.set_defaults(run=cmd_remove)
    report = command(actions, "report", "a dashboard of every series, with the changes found")
    report.add_argument("--out", required=True, help="folder for dashboard.html and its plots")
    report.set_defaults(run=cmd_report)
    gate = command(actions, "check", "the newest run against each series' last stable stretch")
    gate.add_argument(
        "--fail-on-regression",
        type=amount,
        default=10.0,
        metavar="PCT",
        help="exit 1 when a series' whole interval of speed lies more than PCT %% below",
    )
    add_json_flag(gate)
    gate.set_defaults(run=cmd_check)
    for action in (report, gate):
        action.add_argument(
            "--normalize",
            action="store_true",
            help="divide out each run's machine speed (its reference workloads) from in-process "
            "times",
        )
    for action in (add, listing, remove, report, gate):
        action.add_argument(
            "--db", type=Path, default=store.DEFAULT, help="the history file (SQLite)"
        )
