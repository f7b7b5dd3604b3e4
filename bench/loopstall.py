"""How long an asyncio event loop goes without running a ready callback.

The Temporal SDK calls payload codecs on its event loop; a codec that holds the loop delays
every other task of the worker (polls, heartbeats, other workflows). A ticker task that asks to
run every ``interval`` seconds measures that: its largest lateness is the longest stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class Stall:
    """Result of one monitored span."""

    longest_ns: int
    """Largest gap between two ticks beyond the requested interval."""
    ticks: int


class StallMonitor:
    """Async context manager that records the event loop's longest stall while it is open.

    Ticks every ``interval`` seconds; what it reports is the lateness beyond that, so idle loop
    overhead (tens of microseconds) is included and sets the floor of what it can see.
    """

    def __init__(self, interval: float = 0.0005) -> None:
        self._interval = interval
        self._interval_ns = int(interval * 1e9)
        self._longest_ns = 0
        self._ticks = 0
        self._task: asyncio.Task[None] | None = None
        self.result: Stall | None = None

    async def _tick(self) -> None:
        last = time.perf_counter_ns()
        while True:
            await asyncio.sleep(self._interval)
            now = time.perf_counter_ns()
            self._longest_ns = max(self._longest_ns, now - last - self._interval_ns)
            self._ticks += 1
            last = now

    def take(self) -> int:
        """Longest stall in nanoseconds since the monitor started or since the last take."""
        longest, self._longest_ns = self._longest_ns, 0
        return max(longest, 0)

    async def __aenter__(self) -> StallMonitor:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        await asyncio.sleep(0)  # let the ticker take its first timestamp
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # One more tick so that a stall at the very end of the span is seen.
        await asyncio.sleep(self._interval)
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.result = Stall(max(self._longest_ns, 0), self._ticks)
