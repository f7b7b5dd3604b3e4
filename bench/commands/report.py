"""``codec-bench report RESULTS.json``: rebuild report.md and report.html from the file alone."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.commands.common import Subparsers, command
from bench.results import load


def cmd_report(args: argparse.Namespace) -> int:
    from bench.outputs import report  # matplotlib is loaded only by commands that plot

    document = load(args.results)
    folder = Path(args.out) if args.out else Path(args.results).parent
    markdown, page = report.write_report(document, folder)
    print(f"report: {page}\n        {markdown}")
    return 0


def add_parser(sub: Subparsers) -> None:
    parser = command(sub, "report", "rebuild report.md and report.html from a results.json")
    parser.add_argument("results", help="a results.json")
    parser.add_argument("--out", help="folder for the report (default: beside the results)")
    parser.set_defaults(run=cmd_report)
