"""``codec-bench export RESULTS.json --format FORMAT --out FILE``: a run in another tool's
format (written atomically): pytest-benchmark, github-action-benchmark or bencher."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.commands.common import Subparsers, command
from bench.outputs import export
from bench.results import load
from bench.results.schema import atomic_write


def cmd_export(args: argparse.Namespace) -> int:
    document: Any = export.FORMATS[args.format](load(args.results))
    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {args.out!r} is a folder; give a file name such as run.json")
    atomic_write(out, lambda sink: json.dump(document, sink, indent=1))
    count = len(document["benchmarks"] if args.format == export.FORMAT else document)
    print(f"{args.format}: {count} benchmarks in {out}")
    return 0


def add_parser(sub: Subparsers) -> None:
    parser = command(
        sub,
        "export",
        "write a run in another tool's format (pytest-benchmark JSON, github-action-benchmark's "
        "customSmallerIsBetter JSON, Bencher Metric Format)",
    )
    parser.add_argument("results", help="a results.json")
    parser.add_argument(
        "--format", choices=list(export.FORMATS), default=export.FORMAT, help="the other tool"
    )
    parser.add_argument("--out", required=True, help="file to write")
    parser.set_defaults(run=cmd_export)
