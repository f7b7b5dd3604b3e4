"""Does ``recommend`` name the same winner on identical runs? Six runs of the quick profile's
in-process layers (one ``run --runs 6`` series), each judged on every objective, with the ties
this checkout calls (the run's noise floor, pooled over every codec) and with the earlier rule
(ties within how far the one noise-floor pair drifted apart, at least 2 %).

    python -m experiments.recommend_stability --out /tmp/rec          # about 8 minutes
    python -m experiments.recommend_stability --out /tmp/rec --reanalyse

Prints, per objective, each run's winner and ties under both rules, and writes OUT/table.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.commands.compare import series
from bench.outputs import recommend as rec
from bench.outputs.ranking import cpu_us_per_kib
from bench.results import Layer, Results, load

RUNS = 6
OBJECTIVES: dict[str, tuple[str, dict[str, Any]]] = {
    "storage": ("storage", {}),
    "cpu, saving 10 % or more": ("cpu", {"limits": rec.Constraints(min_saved=0.10)}),
    "balanced": ("balanced", {}),
    "cost, storage and CPU priced": (
        "cost",
        {"costs": rec.Costs(volume_gb=2000, storage_per_gb_month=0.023, cpu_per_hour=0.05)},
    ),
}
"""What is printed: (the objective recommend is asked for, its options)."""


def _pair_floor(results: Results) -> float:
    """The earlier rule: how far the noise-floor pair drifted apart on CPU per KiB."""
    spreads = [rec.MIN_NOISE]
    for corpus in results.corpus_names:
        for a, b in results.replicas(Layer.CODEC, corpus).values():
            x, y = cpu_us_per_kib(a), cpu_us_per_kib(b)
            if x and y:
                spreads.append(abs(x / y - 1))
    return max(spreads)


def _judge(results: Results, objective: str, *, earlier: bool) -> str:
    name, options = OBJECTIVES[objective]
    if earlier:
        floor = _pair_floor(results)
        original = rec.noise_floor
        rec.noise_floor = lambda run, layer: floor  # type: ignore[assignment]
        try:
            answer = rec.recommend(results, objective=name, **options)
        finally:
            rec.noise_floor = original
    else:
        answer = rec.recommend(results, objective=name, **options)
    if answer.winner is None:
        return "none"
    return answer.winner.codec + (f" (tied: {', '.join(answer.tied)})" if answer.tied else "")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.recommend_stability", allow_abbrev=False
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reanalyse", action="store_true")
    args = parser.parse_args()
    if not args.reanalyse:
        subprocess.run(
            [
                *(sys.executable, "-m", "bench.cli", "run", "--profile", "quick", "--no-client"),
                *("--no-reading", "--runs", str(RUNS), "--out", str(args.out), "--force"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    runs = [load(path) for path in series(str(args.out))]
    table: dict[str, Any] = {"runs": len(runs)}
    for objective in OBJECTIVES:
        for earlier in (False, True):
            rule = "earlier rule" if earlier else "this checkout"
            winners = [_judge(run, objective, earlier=earlier) for run in runs]
            table[f"{objective} ({rule})"] = winners
            print(f"{objective} ({rule}):", *winners, sep="\n  ")
    table["noise floor (this checkout), per run"] = [
        round(rec.noise_floor(run, Layer.CODEC), 4) for run in runs
    ]
    table["noise-floor pair (earlier rule), per run"] = [round(_pair_floor(r), 4) for r in runs]
    print(json.dumps({k: v for k, v in table.items() if "per run" in k}, indent=1))
    (args.out / "table.json").write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
