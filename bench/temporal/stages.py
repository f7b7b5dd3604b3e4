"""Where a round trip's time goes: the client path's workflow split into stages by the
client's clock and the server's own event timestamps.

The round-trip workflow (``bench.temporal.workflows``) writes one history of fixed shape: the
execution started, a workflow task (the worker decodes the input and schedules the activity
with it, encoded again), the activity (decoded, returned, encoded), a second workflow task (the
activity's result decoded, the workflow's encoded), the execution completed. The client takes
the wall clock as it starts the workflow and as the result is in its hands; the server stamps
each event. On one machine both read the same clock, so consecutive points give stages that add
up to the round trip exactly (``bench.results.stages`` names them and says which hold a codec's
work).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from bench.results.stages import STAGES

_POINTS = (
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
)
"""The server's points between the client's two, in history order."""


def stage_ns(events: Iterable[HistoryEvent], sent_ns: int, received_ns: int) -> list[int]:
    """The round trip between the client's ``sent_ns`` and ``received_ns`` (``time.time_ns``)
    in ``STAGES`` order, in nanoseconds; empty when the history is not the round-trip
    workflow's complete one (a failed or retried task: no stage would mean what it says)."""
    points = _points(list(events))
    if points is None:
        return []
    times = [sent_ns, *points, received_ns]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def _points(events: Sequence[HistoryEvent]) -> list[int] | None:
    wanted = iter(_POINTS)
    expected = next(wanted, None)
    found = []
    for event in events:
        if event.event_type == expected:
            found.append(event.event_time.ToNanoseconds())
            expected = next(wanted, None)
        elif event.event_type in _BREAKS:
            return None
    return found if expected is None and len(found) == len(STAGES) - 1 else None


_BREAKS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    }
)
