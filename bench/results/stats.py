"""Statistics on timing samples, with scipy doing the statistics.

Decisions rest on the median and its confidence interval (robust to the outliers a shared
machine produces); the best sample is reported beside it for comparison with C benchmarks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
_SEED = 20261126  # fixed so that the same samples always give the same interval


@dataclass(frozen=True)
class Estimate:
    """A median with a confidence interval, and the best and count of the samples behind it."""

    median: float
    low: float
    high: float
    best: float
    n: int

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Estimate:
        return cls(
            float(document["median"]),
            float(document["low"]),
            float(document["high"]),
            float(document["best"]),
            int(document["n"]),
        )

    def to_json(self) -> dict[str, float | int]:
        return {
            "median": self.median,
            "low": self.low,
            "high": self.high,
            "best": self.best,
            "n": self.n,
        }


def median_ci(samples: Sequence[float], *, higher_is_better: bool = True) -> Estimate:
    """Median of ``samples`` with a 95 % bootstrap confidence interval (BCa, percentile when BCa
    cannot be computed, e.g. for ties). ``best`` is the maximum when higher is better (throughput)
    and the minimum otherwise (time)."""
    values = np.asarray(samples, dtype=float)
    if values.size == 0:
        raise ValueError("no samples")
    median = float(np.median(values))
    best = float(values.max() if higher_is_better else values.min())
    if values.size < 3 or np.all(values == values[0]):
        # Too few, or identical, samples: the interval is their range.
        return Estimate(median, float(values.min()), float(values.max()), best, int(values.size))
    low = high = float("nan")
    for method in ("BCa", "percentile"):
        result = stats.bootstrap(
            (values,),
            np.median,
            confidence_level=CONFIDENCE,
            method=method,
            n_resamples=2000,
            rng=np.random.default_rng(_SEED),
        )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        if np.isfinite(low) and np.isfinite(high):
            break
    return Estimate(median, min(low, median), max(high, median), best, int(values.size))


def percentile_ci(samples: Sequence[float], q: float) -> Estimate:
    """The ``q``-th percentile with a 95 % percentile-bootstrap interval; ``best`` is the
    minimum (these are latencies)."""
    values = np.asarray(samples, dtype=float)
    if values.size == 0:
        raise ValueError("no samples")
    point = float(np.percentile(values, q))
    if values.size < 3 or np.all(values == values[0]):
        return Estimate(
            point, float(values.min()), float(values.max()), float(values.min()), int(values.size)
        )
    result = stats.bootstrap(
        (values,),
        lambda sample, axis: np.percentile(sample, q, axis=axis),
        confidence_level=CONFIDENCE,
        method="percentile",
        n_resamples=2000,
        vectorized=True,
        rng=np.random.default_rng(_SEED),
    )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    return Estimate(point, min(low, point), max(high, point), float(values.min()), int(values.size))


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 90, 99)) -> dict[str, float]:
    """``{"p50": ..., "p90": ..., "p99": ...}`` of ``values`` (linear interpolation)."""
    array = np.asarray(values, dtype=float)
    return {f"p{q:g}": float(np.percentile(array, q)) for q in qs}
