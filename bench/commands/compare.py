"""``codec-bench compare A.json B.json [...]``: significance-tested changes between runs, and a
regression gate for CI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.commands.common import Subparsers, add_json_flag, amount, command, positive_int
from bench.errors import UserError
from bench.outputs import compare, compare_report, render
from bench.progress import say
from bench.results import Results, load

EXIT_REGRESSION = 1


def series(path: str) -> list[Path]:
    """The results files one argument names: a results file, a run's folder, or the folder of a
    series of runs (``run --runs N`` writes ``run-1`` ... ``run-N``), in run order."""
    folder = Path(path)
    if not folder.is_dir():
        return [folder]
    if (folder / "results.json").exists():
        return [folder / "results.json"]
    runs = sorted(folder.glob("run-*/results.json"), key=lambda p: int(p.parent.name[4:]))
    if not runs:
        raise UserError(
            f"{folder} holds no results.json and no run-N/results.json; give a results file, "
            "a run's folder or the folder of codec-bench run --runs N"
        )
    return runs


def _sides(arguments: list[str], per_side: int) -> list[list[Results]]:
    named = [series(argument) for argument in arguments]
    if any(len(files) > 1 for files in named):
        if any(len(files) == 1 for files in named):
            raise UserError(
                "a series of runs is compared only with series: give a folder of runs (run "
                "--runs N) for every side"
            )
        if per_side > 1:
            raise UserError(
                "--runs-per-side splits a list of results files; a folder of runs is one side "
                "already: give one folder per side without it"
            )
        return [[load(path) for path in files] for files in named]
    runs = [load(files[0]) for files in named]
    if len(runs) < 2 * per_side:
        raise UserError(
            "compare needs two or more results files: the reference first, then the runs to "
            "compare with it"
            + (f" ({per_side} per side with --runs-per-side {per_side})" if per_side > 1 else "")
        )
    if len(runs) % per_side:
        raise UserError(
            f"{len(runs)} results files do not split into sides of {per_side} "
            "(--runs-per-side): give the same number of runs for every side"
        )
    return [runs[i : i + per_side] for i in range(0, len(runs), per_side)]


def cmd_compare(args: argparse.Namespace) -> int:
    sides = _sides(args.results, args.runs_per_side)
    comparison = compare.compare(sides, min_effect=args.min_effect / 100, normalize=args.normalize)
    if args.json:
        print(json.dumps(comparison.to_json(), indent=2))
    else:
        sections = compare_report.sections(comparison, None)
        print(render.markdown(sections, "Codec benchmark comparison"))
    if args.out:
        _, page = compare_report.write(comparison, Path(args.out))
        say(f"comparison: {page.resolve()}")
    if args.fail_on_regression is None:
        return 0
    gates = [g for g in comparison.gates if g.codec not in comparison.baselines]
    if not gates:
        raise UserError(
            "--fail-on-regression found no timed row common to the runs, so nothing was "
            "checked; compare runs of the same codecs and corpora"
        )
    short = _too_few_rounds(comparison, gates)
    if len(short) == len({g.layer for g in gates}):
        raise UserError("--fail-on-regression judged nothing: " + "; ".join(short))
    for line in short:
        say(f"codec-bench: {line}")
    regressions = comparison.regressions(args.fail_on_regression)
    for gate in regressions:
        say(
            f"codec-bench: regression: {gate.run} {gate.layer} {gate.codec}: "
            f"{gate.speedup - 1:+.1%} [{gate.low - 1:+.1%} .. {gate.high - 1:+.1%}] "
            f"over {gate.rows} rows{' (normalised)' if gate.normalized else ''}"
        )
    return EXIT_REGRESSION if regressions else 0


_ROUNDS_FLAG = {"client": "--client-rounds"}
"""The run flag that sets a layer's rounds, where it is not ``--rounds``."""


def _too_few_rounds(comparison: compare.Comparison, gates: list[compare.Gate]) -> list[str]:
    """One line per layer whose rounds are too few for the gate to judge it (its interval is
    unbounded, so it cannot fire): the layer, its rounds, and what to measure with. Runs grouped
    per side are judged by runs, which the group sizes settle."""
    if comparison.grouped:
        return []
    fewest: dict[str, int] = {}
    for gate in gates:
        fewest[gate.layer] = min(gate.samples, fewest.get(gate.layer, gate.samples))
    need = compare.GATE_MIN_SAMPLES
    return [
        f"{layer}: {rounds} rounds, not judged (the gate needs {need}; measure with "
        f"{_ROUNDS_FLAG.get(layer, '--rounds')} {need} or more)"
        for layer, rounds in sorted(fewest.items())
        if rounds < need
    ]


def add_parser(sub: Subparsers) -> None:
    parser = command(sub, "compare", "significance-tested changes between runs")
    parser.add_argument(
        "results",
        nargs="+",
        help="results files, run folders, or folders of runs (run --runs N: each is one side): "
        "the reference side first, then each side to compare with it",
    )
    parser.add_argument(
        "--runs-per-side",
        type=positive_int,
        default=1,
        help="results files per side (repeated runs of the same code): run-to-run variation "
        "then enters the test",
    )
    parser.add_argument("--out", help="folder for compare.md, compare.html and a plot")
    add_json_flag(parser)
    parser.add_argument(
        "--normalize",
        action="store_true",
        help="divide each round by the reference workloads timed in it (same machine, "
        "different times); the verdict without it is shown beside",
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
        help="exit 1 if a codec's speed in a layer fell by PCT %% or more, its whole interval "
        "below -PCT %% (the gates' intervals hold 95 %% together)",
    )
    parser.set_defaults(run=cmd_compare)
