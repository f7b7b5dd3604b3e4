"""``history check``: is the newest run slower than the history says this machine runs?

Each series of the primary family (as ``compare`` defines it: a codec's row of all payloads on
its layer's gated metric) is judged on its own history: the runs before the newest, from the
last change found in them on (the last stable stretch), predict where the newest should land.
The prediction's spread is the run-to-run variation of that stretch, shrunk toward the other
series' (Smyth's moderated variances, as compare's gate does between groups of runs), because a
stretch of five runs says little about its own variance. The newest run's value against the
stretch's mean of logs is a t prediction: its p-values are Holm-corrected over the family, and
each interval holds at ``1 - 0.05 / series`` as compare's gates do; a regression is a series
whose whole interval of speed lies below ``1 - PCT/100``."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.history.changes import changes
from bench.history.series import Series, pooled_noise
from bench.outputs.compare import ALPHA, FEW, GATE_LEVEL, MIN_EFFECT, primary, verdict
from bench.results import ALL, Layer
from bench.results.metrics import metric as metric_named
from bench.results.stats import holm, moderated_variances

Floats = np.ndarray[Any, np.dtype[np.float64]]
MIN_BASELINE = 3
"""Runs the stable stretch needs before the newest run is judged against it: with two there is
one degree of freedom, and even a moderated interval is too wide to tell anything."""


@dataclass(frozen=True)
class Finding:
    series: Series
    newest: float
    expected: float
    """Geometric mean of the stable stretch: where the newest run should land."""
    runs: int
    """Runs in the stable stretch."""
    speedup: float
    """Above 1: the newest run is faster (or better) than the stretch."""
    low: float | None
    high: float | None
    p_value: float | None
    verdict: str


def check(found: list[Series], newest: int) -> list[Finding]:
    """The newest run (history number ``newest``) against each primary series it is in."""
    pooled = pooled_noise(found)
    judged = []
    for series in found:
        layer = Layer(series.layer)
        if (
            series.baseline
            or not primary(layer, ALL, series.metric)
            or series.runs[-1].id != newest
        ):
            continue
        prior = series.values[:-1]
        drift = changes(prior, pooled=pooled.get((series.layer, series.metric), 0.0))
        stretch = np.log(np.asarray(prior[drift[-1].at if drift else 0 :], dtype=np.float64))
        judged.append((series, stretch))
    return _predict(judged)


_Judged = tuple[float, float | None, float | None, float | None]
"""Speed (above 1: better), its interval and the uncorrected p-value."""


def _predict(judged: list[tuple[Series, Floats]]) -> list[Finding]:
    usable = [stretch.size >= MIN_BASELINE for _, stretch in judged]
    variances, dofs = moderated_variances(
        [float(s.var(ddof=1)) if ok else 0.0 for (_, s), ok in zip(judged, usable, strict=True)],
        [s.size - 1.0 if ok else 0.0 for (_, s), ok in zip(judged, usable, strict=True)],
    )
    level = 1 - (1 - GATE_LEVEL) / max(1, sum(usable))
    calls = [
        _prediction(series, stretch, variances[i], dofs[i], level)
        if usable[i] and variances[i] > 0
        else (_speed(series, stretch), None, None, None)
        for i, (series, stretch) in enumerate(judged)
    ]
    adjusted = iter(holm([c[3] for c in calls if c[3] is not None]))
    findings = []
    for (series, stretch), (speed, low, high, p_value) in zip(judged, calls, strict=True):
        p = next(adjusted) if p_value is not None else None
        call = FEW if p is None else verdict(speed, low, high, p, MIN_EFFECT)
        expected = math.exp(float(stretch.mean())) if stretch.size else series.values[-1]
        findings.append(
            Finding(series, series.values[-1], expected, stretch.size, speed, low, high, p, call)
        )
    return findings


def _sign(series: Series) -> int:
    """+1 where higher is better, -1 where lower is (times): speed is then above 1 when better."""
    return 1 if metric_named(series.metric).higher_is_better else -1


def _speed(series: Series, stretch: Floats) -> float:
    if not stretch.size:
        return 1.0
    return math.exp(_sign(series) * (math.log(series.values[-1]) - float(stretch.mean())))


def _prediction(
    series: Series, stretch: Floats, variance: float, dof: float, level: float
) -> _Judged:
    """The newest value as a t prediction from the stretch: a new run's spread (the moderated
    variance) plus the stretch mean's own (variance / n)."""
    from scipy import stats

    shift = _sign(series) * (math.log(series.values[-1]) - float(stretch.mean()))
    spread = math.sqrt(variance * (1 + 1 / stretch.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_value = float(2 * stats.t.sf(abs(shift) / spread, dof))
        half = float(stats.t.ppf(0.5 + level / 2, dof)) * spread
    return math.exp(shift), math.exp(shift - half), math.exp(shift + half), p_value


def regressions(findings: list[Finding], percent: float) -> list[Finding]:
    """The findings whose whole interval of speed lies below ``1 - percent / 100``."""
    threshold = 1 - percent / 100
    return [f for f in findings if f.high is not None and f.high < threshold]


__all__ = ["ALPHA", "Finding", "check", "regressions"]
