"""The workflows the harness runs. The client path's: a workflow takes a corpus payload as its
input, untouched (a raw value: its bytes and encoding go through the converter as they are),
hands it to an activity that returns it, and returns it. The reading layer's: a workflow whose
history holds N corpus payloads, one per signal event, for operators to read.

Imported by the worker's workflow sandbox, so it imports nothing heavy.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RawValue, RetryPolicy


@activity.defn(name="codec_bench_echo")
async def echo(value: RawValue) -> RawValue:
    return value


@workflow.defn(name="CodecBenchRoundTrip")
class RoundTripWorkflow:
    @workflow.run
    async def run(self, value: RawValue) -> RawValue:
        return await workflow.execute_activity(
            echo,
            value,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


@workflow.defn(name="CodecBenchHistory")
class HistoryWorkflow:
    """Waits for ``expected`` signals, each carrying one payload, and returns its input: a
    history with one payload per event, as the Web UI and the CLI show it (one codec request
    per event's payloads)."""

    def __init__(self) -> None:
        self._received = 0

    @workflow.signal(name="payload")
    def payload(self, _: RawValue) -> None:
        self._received += 1

    @workflow.run
    async def run(self, head: RawValue, expected: int) -> RawValue:
        await workflow.wait_condition(lambda: self._received >= expected)
        return head


def task_queue(prefix: str, index: int) -> str:
    """Task queue of codec row ``index`` of a run: the harness and every worker process that
    joins it (also on other machines) must agree on it."""
    return f"{prefix}-{index}"
