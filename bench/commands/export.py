"""``codec-bench export RESULTS.json --format pytest-benchmark --out FILE``: a run in another
tool's format (written atomically)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.commands.common import Subparsers, command
from bench.outputs import export
from bench.results import load
from bench.results.schema import atomic_write


def cmd_export(args: argparse.Namespace) -> int:
    document = export.to_pytest_benchmark(load(args.results))
    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {args.out!r} is a folder; give a file name such as run.json")
    atomic_write(out, lambda sink: json.dump(document, sink, indent=1))
    print(f"{export.FORMAT}: {len(document['benchmarks'])} benchmarks in {out}")
    return 0


def add_parser(sub: Subparsers) -> None:
    parser = command(sub, "export", "write a run in another tool's format (pytest-benchmark JSON)")
    parser.add_argument("results", help="a results.json")
    parser.add_argument("--format", choices=[export.FORMAT], default=export.FORMAT)
    parser.add_argument("--out", required=True, help="file to write")
    parser.set_defaults(run=cmd_export)
