"""One run reduced to one value per series, with its interval: what a history keeps of it.

A run is one ``codec-bench run``: a results file, or the processes of ``run --runs N`` (a
folder of ``run-N/results.json``) taken together. A timed metric's value is the median over
the run's rounds (one process) or the geometric mean of the processes' medians, whose spread
then gives the interval; a size metric is exact and has no interval."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.results import ALL, Layer, Results
from bench.results.drift import machine_seconds
from bench.results.metrics import CompareAs, of_layer, series_of
from bench.results.stats import median_ci

TRACKED = (CompareAs.TIMED, CompareAs.SIZE)


@dataclass(frozen=True)
class Point:
    """One series' value in one run."""

    layer: str
    codec: str
    corpus: str
    metric: str
    value: float
    low: float | None
    high: float | None
    samples: int
    """Rounds (one process) or processes behind the value; 1 for an exact size."""
    baseline: bool = False
    """The identity codec: an instrument, shown but never gated on (as in compare)."""

    @property
    def series(self) -> tuple[str, str, str, str]:
        return (self.layer, self.codec, self.corpus, self.metric)


@dataclass(frozen=True)
class Machine:
    """What a series must not mix: a run on another CPU, core count or OS is another series.
    Python and the libraries are not part of it; their upgrades are what a history is for, and
    the dashboard names them where a series changed."""

    cpu_model: str
    cpu_count: int
    system: str

    @property
    def name(self) -> str:
        return f"{self.cpu_model}, {self.cpu_count or '?'} cores, {self.system}"


def machine_of(run: Results) -> Machine:
    environment = run.environment
    system = (environment.platform or "unknown OS").split("-")[0]
    return Machine(environment.cpu_model or "unknown CPU", environment.cpu_count or 0, system)


def points(runs: Sequence[Results]) -> list[Point]:
    """One point per layer, codec, corpus and tracked metric of the run (all payloads); the
    reference workloads are the machine's speed, kept per run instead (:func:`speed`)."""
    first = runs[0]
    out = []
    for case in first.cases:
        if case.layer is Layer.REFERENCE or ALL not in case.summary:
            continue
        peers = [run.case(case.layer, case.codec, case.corpus, case.variant) for run in runs]
        for comparison in TRACKED:
            for metric in of_layer(case.layer, comparison):
                if comparison is CompareAs.SIZE:
                    value = case.value(ALL, metric.name)
                    if value is not None and math.isfinite(value):
                        key = _key(case.layer, case.row, case.corpus, metric.name)
                        out.append(Point(*key, value, None, None, 1, case.facts.baseline))
                    continue
                rounds = [
                    [v for v in series_of(peer, ALL, metric.name) if 0 < v < math.inf]
                    for peer in peers
                    if peer is not None
                ]
                found = _timed(rounds, higher_is_better=bool(metric.higher_is_better))
                if found is not None:
                    key = _key(case.layer, case.row, case.corpus, metric.name)
                    out.append(Point(*key, *found, case.facts.baseline))
    return out


def _key(layer: Layer, codec: str, corpus: str, metric: str) -> tuple[str, str, str, str]:
    return (layer.value, codec, corpus, metric)


def _timed(
    rounds: list[list[float]], *, higher_is_better: bool
) -> tuple[float, float | None, float | None, int] | None:
    rounds = [r for r in rounds if r]
    if not rounds:
        return None
    if len(rounds) == 1:
        estimate = median_ci(rounds[0], higher_is_better=higher_is_better)
        return estimate.median, estimate.low, estimate.high, len(rounds[0])
    logs = np.log([float(np.median(r)) for r in rounds])
    centre = float(logs.mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from scipy import stats

        half = float(stats.t.ppf(0.975, logs.size - 1) * logs.std(ddof=1) / math.sqrt(logs.size))
    return math.exp(centre), math.exp(centre - half), math.exp(centre + half), len(rounds)


def speed(runs: Sequence[Results]) -> float | None:
    """The machine's slowness over the run (the reference workloads' median round, seconds;
    the geometric mean over processes): what ``--normalize`` divides out."""
    found = [s for s in (machine_seconds(run) for run in runs) if s]
    return float(np.exp(np.mean(np.log(found)))) if found else None


def describe(runs: Sequence[Results]) -> dict[str, Any]:
    """What a history keeps about the run itself."""
    first = runs[0]
    environment = first.environment
    return {
        "python": environment.python.get("version", ""),
        "packages": {k: v for k, v in environment.packages.items() if v},
        "native": dict(environment.native),
        "interrupted": any(run.interrupted for run in runs),
        "rounds": sum(run.rounds_completed for run in runs),
        "corpora": {corpus.name: corpus.digest for corpus in first.corpora},
    }
