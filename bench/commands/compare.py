"""``codec-bench compare A.json B.json [...]``: significance-tested changes between runs, and a
regression gate for CI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.commands.common import Subparsers, add_json_flag, amount, command, say
from bench.errors import UserError
from bench.outputs import compare, render
from bench.results import load

EXIT_REGRESSION = 1


def cmd_compare(args: argparse.Namespace) -> int:
    if len(args.results) < 2:
        raise UserError(
            "compare needs two or more results files: the reference first, then the runs to "
            "compare with it"
        )
    runs = [load(path) for path in args.results]
    comparison = compare.compare(runs, min_effect=args.min_effect / 100, normalize=args.normalize)
    if args.json:
        print(json.dumps(comparison.to_json(), indent=2))
    else:
        print(render.markdown(compare.sections(comparison, None), "Codec benchmark comparison"))
    if args.out:
        _, page = compare.write(comparison, Path(args.out))
        say(f"comparison: {page.resolve()}")
    if args.fail_on_regression is None:
        return 0
    if not comparison.geomean_codecs():
        raise UserError(
            "--fail-on-regression found no timed row common to the runs, so nothing was "
            "checked; compare runs of the same codecs and corpora"
        )
    regressions = comparison.regressions(args.fail_on_regression)
    for run_id, codec, ratio, rows in regressions:
        worst = min(rows, key=lambda d: d.speedup or 1.0)
        say(
            f"codec-bench: regression: {run_id} {codec}: {ratio - 1:+.1%} over all payloads "
            f"(worst: {worst.layer} {worst.corpus} {worst.metric} "
            f"{(worst.speedup or 1) - 1:+.1%}, p={worst.p_value:.2g})"
        )
    return EXIT_REGRESSION if regressions else 0


def add_parser(sub: Subparsers) -> None:
    parser = command(sub, "compare", "significance-tested changes between runs")
    parser.add_argument("results", nargs="+", help="results.json files; the first is the reference")
    parser.add_argument("--out", help="folder for compare.md, compare.html and plots")
    add_json_flag(parser)
    parser.add_argument(
        "--normalize",
        action="store_true",
        help="divide out machine-wide drift (same machine, different times)",
    )
    parser.add_argument(
        "--min-effect",
        type=amount,
        default=compare.MIN_EFFECT * 100,
        help="smallest change in %% that is called",
    )
    parser.add_argument(
        "--fail-on-regression",
        type=amount,
        metavar="PCT",
        help="exit 1 if a codec is significantly slower by PCT %% or more",
    )
    parser.set_defaults(run=cmd_compare)
