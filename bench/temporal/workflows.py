"""The client-path scenario: a workflow takes a corpus payload as its input, untouched (a raw
value: its bytes and encoding go through the converter as they are), hands it to an activity
that returns it, and returns it.

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


def task_queue(prefix: str, index: int) -> str:
    """Task queue of codec row ``index`` of a run: the harness and every worker process that
    joins it (also on other machines) must agree on it."""
    return f"{prefix}-{index}"
