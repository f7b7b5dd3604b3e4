"""The time left a run reports covers every layer: thousands of quick in-process steps first,
then a few slow client and reading steps, each phase at its own pace."""

from __future__ import annotations

import io

import pytest
from bench.progress import Phase, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("bench.progress.time.monotonic", fake)
    return fake


def test_the_slow_phases_to_come_count_at_their_first_guess_then_at_their_own_pace(
    clock: Clock,
) -> None:
    out = io.StringIO()
    with Progress(
        104, "measuring", stream=out, every=0.0, phases=[Phase(100), Phase(4, 10.0)]
    ) as bar:
        clock.now += 1.0
        bar.step("in-process", 50)  # 0.02 s a step so far
        assert bar.seconds_left(clock.now) == pytest.approx(50 * 0.02 + 4 * 10.0)
        clock.now += 1.0
        bar.step("in-process", 50)  # the first phase ends: 4 slow steps at the guess
        assert bar.seconds_left(clock.now) == pytest.approx(40.0)
        clock.now += 5.0
        bar.step("client", 1)  # the client phase's own pace replaces the guess
        assert bar.seconds_left(clock.now) == pytest.approx(3 * 5.0)
    assert "about 15 s left" in out.getvalue().splitlines()[-1]


def test_counting_every_step_alike_would_have_said_almost_done(clock: Clock) -> None:
    """The case the phases fix: 99.9 % of the steps done, two minutes of work left."""
    phases = [Phase(10_000), Phase(24, 5.0)]
    bar = Progress(10_024, "measuring", stream=io.StringIO(), phases=phases)
    clock.now += 60.0
    bar.step("in-process", 10_000)
    assert bar.seconds_left(clock.now) == pytest.approx(120.0)


def test_without_phases_every_step_counts_alike(clock: Clock) -> None:
    bar = Progress(10, "work", stream=io.StringIO())
    clock.now += 2.0
    bar.step("one", 2)
    assert bar.seconds_left(clock.now) == pytest.approx(8.0)
