"""Workflows and activities the real-server tests run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError


@activity.defn
async def echo(value: dict[str, Any]) -> dict[str, Any]:
    return value


@activity.defn
async def fail(message: str) -> None:
    raise ApplicationError(message, non_retryable=True)


@workflow.defn
class EchoWorkflow:
    """Passes its input through an activity and returns it."""

    @workflow.run
    async def run(self, value: dict[str, Any]) -> dict[str, Any]:
        return await workflow.execute_activity(
            echo, value, start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn
class FailingWorkflow:
    """Fails with the message an activity raised."""

    @workflow.run
    async def run(self, message: str) -> None:
        await workflow.execute_activity(
            fail,
            message,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
