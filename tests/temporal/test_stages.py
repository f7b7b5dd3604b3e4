"""A round trip split into stages by the client's clock and the history's event times: the
stages follow the workflow's events in order and add up to the round trip; a history of another
shape (a failed task, a retry) gives none rather than stages that mean something else."""

from __future__ import annotations

from collections.abc import Sequence

from bench.results.stages import NAMES
from bench.temporal.stages import stage_ns
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

E = EventType
ROUND_TRIP = [
    (E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, 1_000),
    (E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, 1_000),
    (E.EVENT_TYPE_WORKFLOW_TASK_STARTED, 1_200),
    (E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 1_500),
    (E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, 1_500),
    (E.EVENT_TYPE_ACTIVITY_TASK_STARTED, 1_510),
    (E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, 1_800),
    (E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, 1_800),
    (E.EVENT_TYPE_WORKFLOW_TASK_STARTED, 1_900),
    (E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 2_300),
    (E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, 2_300),
]


def _history(events: Sequence[tuple[EventType.ValueType, int]]) -> list[HistoryEvent]:
    """Events at the given microseconds."""
    out = []
    for number, (kind, micros) in enumerate(events, 1):
        stamp = Timestamp()
        stamp.FromMicroseconds(micros)
        out.append(HistoryEvent(event_id=number, event_type=kind, event_time=stamp))
    return out


def test_the_stages_follow_the_events_and_add_up_to_the_round_trip() -> None:
    stages = stage_ns(_history(ROUND_TRIP), sent_ns=900_000, received_ns=2_600_000)
    assert len(stages) == len(NAMES) == 8
    assert dict(zip(NAMES, (ns // 1_000 for ns in stages), strict=True)) == {
        "start": 100,
        "workflow task wait": 200,
        "workflow task": 300,
        "activity wait": 10,
        "activity": 290,
        "result task wait": 100,
        "result task": 400,
        "result back": 300,
    }
    assert sum(stages) == 2_600_000 - 900_000


def test_a_history_of_another_shape_has_no_stages() -> None:
    failed = [
        *ROUND_TRIP[:3],
        (E.EVENT_TYPE_WORKFLOW_TASK_FAILED, 1_300),
        *ROUND_TRIP[1:],
    ]
    assert stage_ns(_history(failed), 900_000, 2_600_000) == []
    assert stage_ns(_history(ROUND_TRIP[:7]), 900_000, 2_600_000) == []  # not completed
    assert stage_ns([], 0, 1) == []
