"""Statistics on timing samples, with scipy doing the distributions.

Decisions rest on medians and their confidence intervals (robust to the outliers a shared
machine produces); the best sample is reported beside them for comparison with C benchmarks.

Median intervals are distribution-free: order statistics of the sample, interpolated as
Hettmansperger and Sheather (1986) do, so that coverage is close to the level asked for rather
than well above it (plain order statistics give 97.9 % at n = 10). A bootstrap of a median is
not used: the median is not a smooth statistic and its bootstrap intervals undercover at small
n. An interval that cannot reach the level (n of 5 or less) is the sample's range, and the level
it does reach is reported with it, never widened or warned about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A median with its confidence interval, the best sample and how many stand behind it.

    ``confidence`` is the coverage the interval reaches: ``CONFIDENCE`` when there are enough
    samples, less (the range of a small sample) when not.
    """

    median: float
    low: float
    high: float
    best: float
    n: int
    confidence: float = CONFIDENCE

    @property
    def enough(self) -> bool:
        """Whether the interval reaches the level asked for."""
        return self.confidence >= CONFIDENCE - 1e-9

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Estimate:
        return cls(
            float(document["median"]),
            float(document["low"]),
            float(document["high"]),
            float(document["best"]),
            int(document["n"]),
            float(document.get("confidence", CONFIDENCE)),
        )

    def to_json(self) -> dict[str, float | int]:
        return {
            "median": self.median,
            "low": self.low,
            "high": self.high,
            "best": self.best,
            "n": self.n,
            "confidence": self.confidence,
        }


def stratified_mean(
    values: Sequence[float], strata: Sequence[int], populations: Sequence[int]
) -> tuple[float, float]:
    """The population mean estimated from a stratified sample, and the half-width of its 95 %
    interval (Cochran, *Sampling Techniques*, 5.3): ``values[i]`` was drawn from stratum
    ``strata[i]``, which holds ``populations[h]`` units. Each stratum's sample mean weighs by
    its share of the population, whatever share of the sample it has, and its variance shrinks
    by the finite-population correction (a stratum sampled whole adds none). Strata with no
    unit sampled are left out and the others' weights scaled up to one; a stratum of one unit
    sampled adds no variance it could show."""
    by: dict[int, list[float]] = {}
    for value, stratum in zip(values, strata, strict=True):
        by.setdefault(stratum, []).append(value)
    covered = sum(populations[h] for h in by)
    mean = variance = 0.0
    for h, sample in by.items():
        weight, n = populations[h] / covered, len(sample)
        mean += weight * float(np.mean(sample))
        if n > 1:
            spread = float(np.var(sample, ddof=1))
            variance += weight**2 * spread / n * (1 - n / populations[h])
    return mean, 1.959963984540054 * math.sqrt(max(variance, 0.0))


def median_interval(
    samples: Sequence[float], level: float = CONFIDENCE
) -> tuple[float, float, float]:
    """``(low, high, confidence)``: a distribution-free interval for the median of the
    population ``samples`` come from, by interpolated order statistics."""
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    if n == 0:
        raise ValueError("no samples")
    # gamma[k - 1]: coverage of [x(k), x(n - k + 1)], k = 1 .. n // 2 (1 - 2 P(B <= k - 1)).
    ks = np.arange(1, n // 2 + 1)
    from scipy import stats  # scipy loads only where a statistic needs it

    gamma = 1 - 2 * stats.binom.cdf(ks - 1, n, 0.5)
    if n < 2 or gamma[0] < level:
        return float(x[0]), float(x[-1]), float(gamma[0]) if n >= 2 else 0.0
    k = int(ks[gamma >= level][-1])
    if k == n // 2 or gamma[k] >= level:  # the next one in cannot be interpolated towards
        return float(x[k - 1]), float(x[n - k]), float(gamma[k - 1])
    share = (gamma[k - 1] - level) / (gamma[k - 1] - gamma[k])
    weight = (n - k) * share / (k + (n - 2 * k) * share)
    low = weight * x[k] + (1 - weight) * x[k - 1]
    high = weight * x[n - k - 1] + (1 - weight) * x[n - k]
    return float(low), float(high), level


def median_ci(samples: Sequence[float], *, higher_is_better: bool = True) -> Estimate:
    """Median of ``samples`` with its 95 % interval. ``best`` is the maximum when higher is
    better (throughput) and the minimum otherwise (time)."""
    values = np.asarray(samples, dtype=float)
    if values.size == 0:
        raise ValueError("no samples")
    low, high, confidence = median_interval(values.tolist())
    best = float(values.max() if higher_is_better else values.min())
    return Estimate(float(np.median(values)), low, high, best, int(values.size), confidence)


def quantile_ci(samples: Sequence[float], q: float, *, higher_is_better: bool = True) -> Estimate:
    """The ``q`` quantile of ``samples`` (``Estimate.median`` holds it) with a distribution-free
    interval of order statistics: ``[x(l), x(u)]`` covers the population quantile with
    probability ``P(l <= B < u)``, B ~ Binomial(n, q). The median is left to
    :func:`median_ci` (interpolated, so closer to the level). A tail quantile needs many
    samples (p90: about 30 before the interval reaches 95 %); below that, the interval is the
    widest the sample allows and ``confidence`` says what it reaches (27 % for 3 samples)."""
    if q == 0.5:
        return median_ci(samples, higher_is_better=higher_is_better)
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    if n == 0:
        raise ValueError("no samples")
    from scipy import stats

    low = int(stats.binom.ppf((1 - CONFIDENCE) / 2, n, q))  # order statistics, 1-based
    high = int(stats.binom.ppf(1 - (1 - CONFIDENCE) / 2, n, q)) + 1
    low, high = max(low, 1), min(high, n)
    coverage = float(stats.binom.cdf(high - 1, n, q) - stats.binom.cdf(low - 1, n, q))
    best = float(x.max() if higher_is_better else x.min())
    value = float(np.quantile(x, q))
    return Estimate(value, float(x[low - 1]), float(x[high - 1]), best, int(n), coverage)


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 90, 99)) -> dict[str, float]:
    """``{"p50": ..., "p90": ..., "p99": ...}`` of ``values`` (linear interpolation)."""
    array = np.asarray(values, dtype=float)
    return {f"p{q:g}": float(np.percentile(array, q)) for q in qs}


def smallest_rank_p(n1: int, n2: int) -> float:
    """The smallest two-sided p-value a Mann-Whitney U test of ``n1`` against ``n2`` samples
    can give: when it is above alpha, no data could be called significant."""
    return 2 / math.comb(n1 + n2, n1) if n1 and n2 else 1.0


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given (controls the chance of any false
    call among the rows a decision rests on)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def moderated_variances(
    variances: Sequence[float], dof: Sequence[float]
) -> tuple[list[float], list[float]]:
    """Each sample variance shrunk toward a prior fitted to all of them, with its degrees of
    freedom raised by the prior's: Smyth's empirical Bayes (2004, the "moderated t" of limma).

    Why: a gate over groups of runs has one sample per run, so each codec's own variance rests
    on a handful of degrees of freedom, and a t quantile at 4 degrees of freedom corrected over
    a dozen gates is wide enough to miss a 20 % slowdown. The codecs of one comparison share a
    machine and a method, so their variances inform each other; where they disagree, the prior
    is weak (few degrees of freedom) and each keeps close to its own. With fewer than three
    positive variances there is nothing to fit and each is returned as it was."""
    s2 = np.asarray(variances, dtype=float)
    d = np.asarray(dof, dtype=float)
    usable = (s2 > 0) & (d > 0)
    if usable.sum() < 3:
        return s2.tolist(), d.tolist()
    from scipy.special import digamma, polygamma

    half = d[usable] / 2
    e = np.log(s2[usable]) - digamma(half) + np.log(half)
    excess = float(np.var(e, ddof=1) - np.mean(polygamma(1, half)))
    if excess <= 0:  # no more spread than sampling alone gives: one common variance
        prior = math.exp(float(e.mean()))
        return [prior] * s2.size, [math.inf] * s2.size
    d0 = 2 * _trigamma_inverse(excess)
    prior = math.exp(float(e.mean() + digamma(d0 / 2) - math.log(d0 / 2)))
    posterior = (d0 * prior + d * s2) / (d0 + d)
    return posterior.tolist(), (d + d0).tolist()


def _trigamma_inverse(x: float) -> float:
    """``y`` with trigamma(y) = x, by Newton's method from Smyth's starting point."""
    from scipy.special import polygamma

    if x > 1e7:
        return 1 / math.sqrt(x)
    if x < 1e-6:
        return 1 / x
    y = 0.5 + 1 / x
    for _ in range(50):
        trigamma = float(polygamma(1, y))
        step = trigamma * (1 - trigamma / x) / float(polygamma(2, y))
        y += step
        if -step / y < 1e-8:
            break
    return y


@dataclass(frozen=True)
class PairedChange:
    """How much slower (positive) or faster a case is than its baseline over paired
    measurements, as a relative change with its interval and the test's p-value."""

    change: float
    low: float
    high: float
    p: float
    pairs: int
    confidence: float
    """The level the interval reaches (the exact distribution is discrete)."""

    @property
    def called(self) -> bool:
        """Whether the change is significant at the interval's level: it excludes no change."""
        return self.low > 0 or self.high < 0


MIN_PAIRS = 6
"""Fewer pairs cannot reach p < 0.05 with a signed-rank test (5 pairs: 0.0625 at best)."""


def paired_change(base: ArrayLike, case: ArrayLike) -> PairedChange | None:
    """``case`` against ``base`` (times, pair ``i`` measured side by side) by the Wilcoxon
    signed-rank test on the pairs' log ratios, with the Hodges-Lehmann estimate (the median of
    their Walsh averages) and its distribution-free interval (Walsh averages at the ranks the
    exact null distribution gives, as R's ``wilcox.test(conf.int=TRUE)`` does); ``None`` below
    :data:`MIN_PAIRS` usable pairs.

    Why paired and on logs: a round trip's time depends most on its payload and on the moment
    (the machine, the server's state), and a pair shares both, so their ratio holds the codec's
    effect with little else; on logs, a change is a factor whatever the payload's size. Ranks,
    not means, so that a stray 40 ms wait in one workflow moves the figure by one rank."""
    from scipy import stats

    a, b = np.asarray(base, dtype=float), np.asarray(case, dtype=float)
    usable = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    d = np.log(b[usable] / a[usable])
    n = d.size
    if n < MIN_PAIRS:
        return None
    walsh = np.sort((d[:, None] + d[None, :])[np.triu_indices(n)] / 2)
    counts = _signed_rank_counts(n)
    cdf = np.cumsum(counts) / counts.sum()
    # R's qsignrank(alpha / 2, n): the smallest sum whose cumulative probability reaches it.
    k = max(int(np.searchsorted(cdf, (1 - CONFIDENCE) / 2, side="left")), 1)
    reached = float(1 - 2 * cdf[k - 1])
    low, high = walsh[k - 1], walsh[walsh.size - k]
    p = 1.0 if not np.any(d) else float(stats.wilcoxon(d, zero_method="zsplit").pvalue)
    estimate = float(np.median(walsh))
    return PairedChange(math.expm1(estimate), math.expm1(low), math.expm1(high), p, int(n), reached)


def _signed_rank_counts(n: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """How many of the 2^n sign patterns of ranks 1..n give each signed-rank sum 0..n(n+1)/2
    (the exact null distribution, by adding one rank at a time)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank]
    return counts
