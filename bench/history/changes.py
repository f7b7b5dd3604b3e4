"""Where a series changed: PELT change-point detection (Killick, Fearnhead and Eckley 2012, as
``ruptures`` implements it) on the logs of a series' values, with a penalty scaled by the
series' own run-to-run noise, each change then sized and tested between the stretches it
separates.

Logs, because a codec 15 % slower is the same change at 2 µs and at 2 ms. The noise is read
from the differences of successive runs (a robust scale: one step among them moves it little),
so a series that wanders by 5 % run to run needs a larger step to be split than one that
wanders by 1 %. The penalty (``PENALTY`` x noise² x log n) was set on synthetic series at this
project's measured run-to-run noise: a 15 % step is found at its run in 85 % of histories and
within one run in 95 %, and 2 of 49,000 series of noise alone were split
(``tests/history/test_changes.py`` runs one such history). A change is reported only when
the stretches on either side also differ by Welch's t on logs at ``ALPHA``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Floats = np.ndarray[Any, np.dtype[np.float64]]
PENALTY = 6.0
MIN_SEGMENT = 2
"""Runs a stretch needs before a change can end it: one run apart from the rest is an
outlier until the next confirms it (``history check`` judges the newest run on its own)."""
ALPHA = 0.01
EXACT = 1e-9
"""Relative difference above which two exact values (sizes) differ."""


@dataclass(frozen=True)
class Change:
    """A step in a series: from the run at ``at`` on, values moved by ``ratio``."""

    at: int
    """Index (in the series) of the first run after the change."""
    before: float
    after: float
    """Geometric means of the stretches on either side."""
    ratio: float
    """``after / before``."""
    low: float | None
    high: float | None
    """95 % interval of the ratio (Welch's t on logs); ``None`` for exact series."""
    p_value: float | None


def noise(logs: Sequence[float] | Floats) -> float:
    """Run-to-run standard deviation of a series of logs, from the median absolute
    difference of successive values (a difference of two runs has twice a run's variance)."""
    if len(logs) < 3:
        return 0.0
    steps = np.abs(np.diff(np.asarray(logs, dtype=np.float64)))
    return float(1.4826 * np.median(steps) / math.sqrt(2))


def changes(values: Sequence[float], *, exact: bool = False, pooled: float = 0.0) -> list[Change]:
    """The changes in one series (values in the order the runs were measured). ``exact``:
    a size, which changes wherever it differs. ``pooled``: the noise of the series like it
    (same machine, layer and metric), below which this one's own estimate is not trusted: a
    few dozen runs can make a series look quieter than it is, and an underestimated noise
    splits it where nothing changed (on synthetic series of 30 runs, 1.7 % of pure-noise series
    were split at a penalty that found a 15 % step as often, against 2 in 49,000 with the
    floor; docs/history.md)."""
    if exact:
        return _exact(values)
    logs = np.log(np.asarray(values, dtype=np.float64))
    if logs.size < 2 * MIN_SEGMENT:
        return []
    scale = max(noise(logs), pooled)
    if scale <= 0:
        return []
    found = []
    for start, at, end in _splits(logs, scale):
        change = _judged(logs[start:at], logs[at:end], at)
        if change.p_value is not None and change.p_value < ALPHA:
            found.append(change)
    return found


def _splits(logs: Floats, scale: float) -> list[tuple[int, int, int]]:
    import ruptures  # loaded where a history is analysed

    penalty = PENALTY * scale**2 * math.log(logs.size)
    ends = ruptures.Pelt(model="l2", min_size=MIN_SEGMENT, jump=1).fit(logs).predict(pen=penalty)
    bounds = [0, *ends]
    return [(bounds[i], bounds[i + 1], bounds[i + 2]) for i in range(len(bounds) - 2)]


def _judged(before: Floats, after: Floats, at: int) -> Change:
    """The change between two stretches of logs, judged as compare judges groups of runs."""
    from bench.outputs.compare import judge_runs

    ratio, low, high, p_value = judge_runs(np.exp(before), np.exp(after))
    a, b = math.exp(float(before.mean())), math.exp(float(after.mean()))
    return Change(at, a, b, ratio, low, high, p_value)


def _exact(values: Sequence[float]) -> list[Change]:
    return [
        Change(at, before, after, after / before, None, None, None)
        for at, (before, after) in enumerate(itertools.pairwise(values), start=1)
        if abs(after / before - 1) > EXACT
    ]


def stable(values: Sequence[float], *, exact: bool = False) -> int:
    """Index where the last stretch without a change begins."""
    found = changes(values, exact=exact)
    return found[-1].at if found else 0
