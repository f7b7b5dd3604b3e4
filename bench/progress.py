"""What long work tells the user, on stderr (stdout carries results): one-line messages, and
progress as a rich progress bar on a terminal or a plain line every few seconds elsewhere (CI
logs, nox output, a pipe), so that a long run is never silent."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

PLAIN_EVERY_S = 5.0


def say(message: str) -> None:
    """A line for the user on stderr."""
    print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    say(f"codec-bench: warning: {message}")


@dataclass(frozen=True)
class Phase:
    """A stretch of steps that take alike: ``seconds_per_step`` is a first guess until the
    phase's own steps are timed (``None``: as fast as the first phase's were)."""

    steps: int
    seconds_per_step: float | None = None


class Progress:
    """``with Progress(total, "measuring") as progress: progress.step("what")``.

    ``total`` may be ``None`` when unknown (a query's matches); the bar then counts only.
    ``phases`` (steps in order, adding up to ``total``) make the time left cover work whose
    steps take far longer than the first ones': a run's thousands of in-process steps came
    first and its few client and reading steps last, so counting every step alike said "about
    6 s left" two minutes before the end.
    """

    def __init__(
        self,
        total: int | None,
        title: str,
        *,
        stream: TextIO | None = None,
        every: float = PLAIN_EVERY_S,
        phases: Sequence[Phase] = (),
    ) -> None:
        self._stream = stream or sys.stderr
        self._total = total
        self._title = title
        self._every = every
        self._done = 0
        self._started = self._said = time.monotonic()
        self._phases = list(phases) or ([Phase(total)] if total else [])
        self._phase_started = [self._started] + [0.0] * (len(self._phases) - 1)
        self._rich: RichProgress | None = None
        if self._stream.isatty():
            from rich.progress import (  # only a terminal draws a bar
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[left]}"),
                refresh_per_second=2,
                transient=True,
            )
            self._task = self._rich.add_task(title, total=total, left="")

    def step(self, what: str, advance: int = 1) -> None:
        """``advance`` units of work are done; ``what`` names the latest."""
        now = time.monotonic()
        before = self._done
        self._done += advance
        end = 0
        for index, phase in enumerate(self._phases[:-1]):
            end += phase.steps
            if before < end <= self._done:
                self._phase_started[index + 1] = now
        if self._rich is not None:
            left = self.seconds_left(now)
            self._rich.update(
                self._task,
                advance=advance,
                description=what[:60],
                left="" if left is None else f"about {left:.0f} s left",
            )
            return
        if now - self._said >= self._every:
            self._said = now
            self._stream.write(self._line(what, now) + "\n")
            self._stream.flush()

    def seconds_left(self, now: float) -> float | None:
        """Each phase's remaining steps at its own pace: the pace measured so far in the phase
        under way, the phase's first guess (else the first phase's pace) for phases to come."""
        if not self._phases or self._done <= 0:
            return None
        first = self._phases[0]
        first_done = min(self._done, first.steps)
        first_pace = (
            (min(now, self._phase_started[1] or now) - self._started) / first_done
            if len(self._phases) > 1
            else (now - self._started) / first_done
        )
        left, start = 0.0, 0
        for index, phase in enumerate(self._phases):
            end = start + phase.steps
            if self._done < end:
                done_here = max(0, self._done - start)
                pace = phase.seconds_per_step if phase.seconds_per_step is not None else first_pace
                if done_here and (index == 0 or self._phase_started[index]):
                    pace = (now - self._phase_started[index]) / done_here
                left += (end - max(self._done, start)) * pace
            start = end
        return left

    def _line(self, what: str, now: float) -> str:
        elapsed = now - self._started
        if self._total:
            share = self._done / self._total
            left = self.seconds_left(now)
            count = f"{self._done}/{self._total} ({share:.0%})" + (
                "" if left is None else f", about {left:.0f} s left"
            )
        else:
            count = str(self._done)
        return f"{self._title}: {count}, {elapsed:.0f} s in; {what}"

    def __enter__(self) -> Progress:
        if self._rich is not None:
            self._rich.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._rich is not None:
            self._rich.__exit__(exc_type, exc, tb)
