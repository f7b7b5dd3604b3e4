"""Statistics on synthetic sample sets with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from bench.outputs.ranking import pareto_front
from bench.results.stats import median_ci, percentiles


def test_median_and_best_of_a_known_sample() -> None:
    estimate = median_ci([3, 1, 2, 5, 4, 9, 7, 8, 6])
    assert estimate.median == 5
    assert estimate.best == 9
    assert estimate.n == 9
    assert estimate.low <= 5 <= estimate.high
    assert median_ci([3, 1, 2], higher_is_better=False).best == 1


def test_identical_samples_have_a_zero_width_interval() -> None:
    estimate = median_ci([42.0] * 10)
    assert (estimate.low, estimate.median, estimate.high) == (42.0, 42.0, 42.0)


def test_too_few_samples_give_their_range() -> None:
    estimate = median_ci([10.0, 20.0])
    assert (estimate.low, estimate.median, estimate.high) == (10.0, 15.0, 20.0)
    with pytest.raises(ValueError, match="no samples"):
        median_ci([])


def test_the_interval_is_reproducible() -> None:
    samples = np.random.default_rng(4).normal(100, 5, 25).tolist()
    assert median_ci(samples) == median_ci(samples)


def test_the_interval_covers_the_true_median_about_95_percent_of_the_time() -> None:
    covered = 0
    trials = 200
    for seed in range(trials):
        samples = np.random.default_rng(seed).normal(100.0, 5.0, 30)
        estimate = median_ci(samples.tolist())
        covered += estimate.low <= 100.0 <= estimate.high
    # Bootstrap intervals for a median of 30 run a little narrow; 88 % is far from chance.
    assert covered / trials >= 0.88


def test_a_shifted_sample_has_a_disjoint_interval() -> None:
    rng = np.random.default_rng(7)
    low = median_ci(rng.normal(100, 2, 20).tolist())
    high = median_ci(rng.normal(120, 2, 20).tolist())
    assert low.high < high.low


def test_percentiles_of_one_to_a_hundred() -> None:
    assert percentiles(list(range(1, 101))) == pytest.approx(
        {"p50": 50.5, "p90": 90.1, "p99": 99.01}
    )


def test_pareto_front_keeps_only_undominated_points() -> None:
    points = [(1.0, 5.0), (2.0, 4.0), (1.5, 3.0), (3.0, 1.0), (0.5, 5.0), (3.0, 0.5)]
    assert pareto_front(points) == [0, 1, 3]
