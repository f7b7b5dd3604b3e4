"""A machine's series as the history holds them, each with the changes found in it.

``normalize`` divides out the machine's speed in each run (the reference workloads it timed,
as ``compare --normalize`` does within a run) from the in-process layers' times, so that a
noisy neighbour during one run does not read as a change of the codecs; the client and reading
layers' times are the server's and stay as measured."""

from __future__ import annotations

import sqlite3
import statistics
from dataclasses import dataclass, field

from bench.history import store
from bench.history.changes import Change, changes, noise
from bench.results import Layer
from bench.results.metrics import CompareAs
from bench.results.metrics import metric as metric_named

Key = tuple[str, str, str, str]
"""layer, codec, corpus, metric."""


@dataclass(frozen=True)
class Series:
    key: Key
    runs: list[store.Run]
    values: list[float]
    lows: list[float | None]
    highs: list[float | None]
    baseline: bool = False
    """The identity codec's series: shown, never gated on."""
    changes: list[Change] = field(default_factory=list)

    @property
    def layer(self) -> str:
        return self.key[0]

    @property
    def metric(self) -> str:
        return self.key[3]

    @property
    def exact(self) -> bool:
        return metric_named(self.metric).comparison is CompareAs.SIZE

    @property
    def label(self) -> str:
        layer, codec, corpus, metric = self.key
        return f"{layer} {codec} {corpus} {metric}"


def machines(connection: sqlite3.Connection) -> dict[str, str]:
    """Machine key to name, for every machine the history holds runs of."""
    return {run.machine: run.machine_name for run in store.runs(connection)}


def load(connection: sqlite3.Connection, machine: str, *, normalize: bool = False) -> list[Series]:
    """Every series of one machine, in run order, with its changes."""
    runs = store.runs(connection, machine)
    by_run = store.series_points(connection, machine)
    factors = _factors(runs) if normalize else {}
    gathered: dict[Key, tuple[list[store.Run], list[float], list[float | None], list[float | None]]]
    gathered = {}
    baselines = set()
    for run in runs:
        for point in by_run.get(run.id, []):
            scale = _scale(point.layer, point.metric, factors.get(run.id))
            if point.baseline:
                baselines.add(point.series)
            runs_of, values, lows, highs = gathered.setdefault(point.series, ([], [], [], []))
            runs_of.append(run)
            values.append(point.value * scale)
            lows.append(None if point.low is None else point.low * scale)
            highs.append(None if point.high is None else point.high * scale)
    found = [
        Series(key, *columns, baseline=key in baselines)
        for key, columns in sorted(gathered.items())
    ]
    return with_changes(found)


def with_changes(found: list[Series]) -> list[Series]:
    """The series with their changes, each timed series' noise floored at the median noise of
    its layer and metric on this machine (``bench.history.changes``)."""
    pooled = pooled_noise(found)
    return [
        Series(
            s.key,
            s.runs,
            s.values,
            s.lows,
            s.highs,
            s.baseline,
            changes(s.values, exact=s.exact, pooled=pooled.get((s.layer, s.metric), 0.0)),
        )
        for s in found
    ]


def pooled_noise(found: list[Series]) -> dict[tuple[str, str], float]:
    import math

    groups: dict[tuple[str, str], list[float]] = {}
    for s in found:
        if not s.exact and len(s.values) >= 3:
            logs = [math.log(v) for v in s.values]
            groups.setdefault((s.layer, s.metric), []).append(noise(logs))
    return {key: statistics.median(values) for key, values in groups.items()}


def _factors(runs: list[store.Run]) -> dict[int, float]:
    speeds = [r.speed for r in runs if r.speed]
    if not speeds:
        return {}
    middle = statistics.median(speeds)
    return {r.id: r.speed / middle for r in runs if r.speed}


def _scale(layer: str, metric: str, factor: float | None) -> float:
    """What one run's value is multiplied by to take out the machine's speed."""
    definition = metric_named(metric)
    if not factor or definition.comparison is not CompareAs.TIMED or not Layer(layer).in_process:
        return 1.0
    return factor if definition.higher_is_better else 1 / factor
