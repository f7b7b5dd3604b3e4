"""Change points in a history's series: a step is found at its run, noise alone is not split,
and sizes change wherever they differ."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bench.history import store
from bench.history.changes import changes, noise
from bench.history.series import Series, with_changes

NOISE = 0.045
"""This machine's run-to-run noise: the median, over the series of eight ``--profile ci``
runs made one after another beside a process that kept a core busy, of each series' standard
deviation of log values (``encode_geomean_us`` 0.045, ``decode_geomean_us`` 0.042)."""
RUNS = 30
STEP_AT = 20


def _runs(count: int) -> list[store.Run]:
    return [
        store.Run(i, f"r{i}", "m", "m", f"2026-01-01T00:{i:02d}", "", "", "", "ci", 1, None, {})
        for i in range(count)
    ]


def _series(index: int, values: np.ndarray, runs: list[store.Run]) -> Series:
    nones: list[float | None] = [None] * len(values)
    key = ("codec", f"c{index}", "synthetic", "encode_geomean_us")
    return Series(key, runs, [float(v) for v in values], nones, nones)


def test_a_15_percent_step_in_one_of_50_noisy_series_is_found_at_its_run_and_nowhere_else() -> None:
    rng = np.random.default_rng(2026)
    runs = _runs(RUNS)
    values = np.exp(rng.normal(0.0, NOISE, (50, RUNS))) * 40.0
    values[17, STEP_AT:] *= 1.15
    found = with_changes([_series(i, row, runs) for i, row in enumerate(values)])
    changed = {s.key[1]: s.changes for s in found if s.changes}
    assert list(changed) == ["c17"]
    [step] = changed["c17"]
    assert step.at == STEP_AT
    assert step.ratio == pytest.approx(1.15, rel=0.05)
    assert step.low is not None
    assert step.high is not None
    assert step.low < 1.15 < step.high
    assert step.low > 1.0


def test_a_series_of_noise_alone_is_not_split() -> None:
    rng = np.random.default_rng(7)
    values = np.exp(rng.normal(0.0, NOISE, RUNS))
    assert changes(values.tolist(), pooled=NOISE) == []


def test_a_step_and_a_step_back_are_two_changes() -> None:
    rng = np.random.default_rng(3)
    values = np.exp(rng.normal(0.0, NOISE / 2, RUNS))
    values[10:20] *= 1.3
    found = changes(values.tolist(), pooled=NOISE / 2)
    assert [c.at for c in found] == [10, 20]
    assert found[0].ratio > 1.2
    assert found[1].ratio < 1 / 1.2


def test_too_short_a_series_has_no_changes() -> None:
    assert changes([1.0, 2.0, 4.0]) == []


def test_an_exact_series_changes_wherever_it_differs() -> None:
    found = changes([100.0, 100.0, 98.0, 98.0, 98.0], exact=True)
    assert [(c.at, c.before, c.after) for c in found] == [(2, 100.0, 98.0)]
    assert found[0].low is None


def test_the_noise_is_the_spread_of_successive_runs_robust_to_one_step() -> None:
    rng = np.random.default_rng(11)
    logs = rng.normal(0.0, 0.05, 400)
    assert noise(logs.tolist()) == pytest.approx(0.05, rel=0.15)
    logs[200:] += 1.0  # one step moves one difference of 399
    assert noise(logs.tolist()) == pytest.approx(0.05, rel=0.15)
    assert math.isclose(noise([1.0, 1.0]), 0.0)
