"""How often does the regression gate fail identical code, and how often does it catch a
slowdown, under the kinds of noise a shared host makes? Simulated runs, judged by the real
``compare`` (the gate exactly as ``compare --fail-on-regression 10`` applies it).

    python -m experiments.gate_simulation --pairs 200 --out /tmp/gate-sim.json

Each simulated run holds the ``ci`` profile's shape: eight codecs in the raw and codec layers
(16 gates), three payloads each, and the two reference workloads. A payload's time is

    base x codec scale x machine(round) x run(side, run) x case(run, round) x call noise

with the machine state shared by every case and, with its own noise, the reference workloads;
the noise levels are those measured in real ``ci`` runs with a CPU-bound neighbour (log sd:
call 0.05, a case's round 0.012, a case's run 0.01, the machine's round 0.03, the machine's run
0.05, the reference's own round noise 0.03). Scenarios change one thing: the machine's rounds or
each case's rounds drift as an AR(1) over the whole sequence of both sides' rounds (the side
measured second continues where the first ended), or the whole second side runs 10 % slower or
faster (a neighbour arriving between the two CI steps). Two designs: one run of eleven rounds a
side (the earlier ``ci`` profile) and four runs of three rounds (the profile now).

A benchmark of the method, not a test: 200 pairs per cell take about 20 minutes.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bench.outputs.compare import compare
from bench.results import ALL, CaseResult, CodecFacts, CorpusInfo, Environment, Layer, Results
from bench.results.samples import InProcessSamples

CODECS = ("none", "snappy", "zstd:3", "lz4:1", "gzip:6", "zlib:6", "aes256gcm", "zstd:3+aes256gcm")
BASE_NS = np.array([3_000.0, 9_000.0, 60_000.0])
REFERENCE = ("bz2", "lzma")
SLICES = 8
NOISE = {"call": 0.05, "case_round": 0.012, "case_run": 0.01, "machine_round": 0.03}
NOISE |= {"machine_run": 0.05, "reference": 0.03}
GATE = 10.0


@dataclass(frozen=True)
class Scenario:
    name: str
    machine_rho: float = 0.0
    case_rho: float = 0.0
    shift: float = 1.0
    """The second side's machine, against the first's."""


SCENARIOS = (
    Scenario("iid"),
    Scenario("machine AR(1) 0.5", machine_rho=0.5),
    Scenario("machine AR(1) 0.8", machine_rho=0.8),
    Scenario("per-case AR(1) 0.5", case_rho=0.5),
    Scenario("per-case AR(1) 0.8", case_rho=0.8),
    Scenario("second side +10 %", shift=1.1),
    Scenario("second side -10 %", shift=1 / 1.1),
)
DESIGNS = {"1 run x 11 rounds": (1, 11), "4 runs x 3 rounds": (4, 3)}
KINDS = {
    "identical": {},
    "zstd 20 % slower": {"zstd:3": 1.25, "zstd:3+aes256gcm": 1.25},
    "every codec 30 % slower": {c: 1 / 0.7 for c in CODECS},
}
"""Time factors of the second side (20 % slower: throughput x 0.8, time x 1.25)."""


def _ar1(
    rng: np.random.Generator, steps: int, rho: float, sd: float, shape: tuple[int, ...] = ()
) -> Any:
    """A stationary AR(1) series of ``steps`` (log scale) with standard deviation ``sd``."""
    out = np.empty((steps, *shape))
    out[0] = rng.normal(0, sd, shape)
    innovation = sd * np.sqrt(1 - rho**2)
    for step in range(1, steps):
        out[step] = rho * out[step - 1] + rng.normal(0, innovation, shape)
    return out


def _sides(
    rng: np.random.Generator, scenario: Scenario, runs: int, rounds: int, kind: dict[str, float]
) -> list[list[Results]]:
    total = 2 * runs * rounds
    cases = 2 * len(CODECS)
    machine = _ar1(rng, total, scenario.machine_rho, NOISE["machine_round"])
    per_case = _ar1(rng, total, scenario.case_rho, NOISE["case_round"], (cases,))
    sides = []
    for side in range(2):
        built = []
        for run in range(runs):
            at = slice((side * runs + run) * rounds, (side * runs + run + 1) * rounds)
            run_state = rng.normal(0, NOISE["machine_run"]) + (
                np.log(scenario.shift) if side else 0
            )
            state = machine[at] + run_state
            built.append(_run(rng, f"{side}-{run}", state, per_case[at], kind if side else {}))
        sides.append(built)
    return sides


def _samples(rng: np.random.Generator, logs: Any, scale: float, base: Any) -> InProcessSamples:
    rows = [
        [int(t) for t in base * scale * np.exp(x + rng.normal(0, NOISE["call"], base.size))]
        for x in logs
    ]
    return InProcessSamples(
        original_bytes=[1000] * base.size,
        encoded_bytes=[500] * base.size,
        encode_repeats=[1] * base.size,
        decode_repeats=[1] * base.size,
        encode_ns=rows,
        decode_ns=[[t // 3 for t in row] for row in rows],
        encode_cpu_ns=[1] * len(rows),
        decode_cpu_ns=[1] * len(rows),
        peak_memory_bytes=1,
    )


def _case(layer: Layer, codec: str, samples: InProcessSamples, facts: CodecFacts) -> CaseResult:
    """A case without its summary (the gate reads the samples; summarising took 90 % of the
    simulation's time), in the row of all payloads only."""
    corpus = "reference" if layer is Layer.REFERENCE else "sim"
    return CaseResult(layer, codec, corpus, "-", facts, samples, {ALL: {}})


def _run(
    rng: np.random.Generator, run_id: str, state: Any, per_case: Any, slower: dict[str, float]
) -> Results:
    cases: list[CaseResult] = []
    gated = [(layer, codec) for layer in (Layer.RAW, Layer.CODEC) for codec in CODECS]
    for index, (layer, codec) in enumerate(gated):
        logs = state + per_case[:, index] + rng.normal(0, NOISE["case_run"])
        samples = _samples(rng, logs, slower.get(codec, 1.0), BASE_NS)
        cases.append(_case(layer, codec, samples, CodecFacts.of_spec(codec)))
    for name in REFERENCE:
        logs = state + rng.normal(0, NOISE["reference"], state.size)
        samples = _samples(rng, logs, 1.0, np.full(SLICES, 1e6))
        cases.append(_case(Layer.REFERENCE, name, samples, CodecFacts(name, "reference")))
    return Results(
        run_id=run_id,
        started="s",
        finished="f",
        interrupted=False,
        profile="ci",
        rounds_planned=state.size,
        rounds_completed=state.size,
        command=[],
        environment=Environment.from_json({"cpu_model": "sim"}),
        corpora=[CorpusInfo("sim", "d", 3, 3000)],
        cases=cases,
    )


def _fired(sides: list[list[Results]]) -> dict[str, set[str]]:
    """The codecs the gate fails, with ``--normalize`` and without."""
    comparison = compare(sides, normalize=True, rows=False)
    return {
        way: {g.codec for g in comparison.regressions(GATE, normalized=normalized)}
        for way, normalized in (("normalised", None), ("raw", False))
    }


def _cell(pairs: int, seed: int, scenario: Scenario, design: tuple[int, int]) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    counts: dict[str, Any] = {}
    for kind, slower in KINDS.items():
        for _ in range(pairs):
            for way, fired in _fired(_sides(rng, scenario, *design, slower)).items():
                if kind == "identical":
                    hit = not fired
                elif kind.startswith("zstd"):
                    hit = bool(fired) and fired <= set(slower)
                else:
                    hit = bool(fired)
                key = f"{kind}, {way}"
                counts[key] = counts.get(key, 0) + hit
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.gate_simulation", allow_abbrev=False
    )
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.monotonic()
    table: dict[str, Any] = {"pairs": args.pairs, "noise": NOISE, "cells": {}}
    for d_index, (design, shape) in enumerate(DESIGNS.items()):
        for s_index, scenario in enumerate(SCENARIOS):
            cell = _cell(args.pairs, 1000 * d_index + s_index, scenario, shape)
            table["cells"][f"{design} | {scenario.name}"] = cell
            print(design, "|", scenario.name, cell, flush=True)
    table["minutes"] = round((time.monotonic() - started) / 60, 1)
    args.out.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
