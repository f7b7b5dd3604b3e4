"""What long work tells the user, on stderr (stdout carries results): one-line messages, and
progress as a rich progress bar on a terminal or a plain line every few seconds elsewhere (CI
logs, nox output, a pipe), so that a long run is never silent."""

from __future__ import annotations

import sys
import time
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


class Progress:
    """``with Progress(total, "measuring") as progress: progress.step("what")``.

    ``total`` may be ``None`` when unknown (a query's matches); the bar then counts only.
    """

    def __init__(
        self,
        total: int | None,
        title: str,
        *,
        stream: TextIO | None = None,
        every: float = PLAIN_EVERY_S,
    ) -> None:
        self._stream = stream or sys.stderr
        self._total = total
        self._title = title
        self._every = every
        self._done = 0
        self._started = self._said = time.monotonic()
        self._rich: RichProgress | None = None
        if self._stream.isatty():
            from rich.progress import (  # only a terminal draws a bar
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                refresh_per_second=2,
                transient=True,
            )
            self._task = self._rich.add_task(title, total=total)

    def step(self, what: str, advance: int = 1) -> None:
        """``advance`` units of work are done; ``what`` names the latest."""
        self._done += advance
        if self._rich is not None:
            self._rich.update(self._task, advance=advance, description=what[:60])
            return
        now = time.monotonic()
        if now - self._said >= self._every:
            self._said = now
            self._stream.write(self._line(what, now) + "\n")
            self._stream.flush()

    def _line(self, what: str, now: float) -> str:
        elapsed = now - self._started
        if self._total:
            share = self._done / self._total
            left = elapsed / share - elapsed if share else 0.0
            count = f"{self._done}/{self._total} ({share:.0%}), about {left:.0f} s left"
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
