"""Workflows and activities the real-server tests run."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError


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


@activity.defn
async def heartbeat_then_stall(detail: str) -> None:
    """Heartbeats once with ``detail``, then outlives its heartbeat timeout, so the server keeps
    the detail in the timeout failure it records."""
    activity.heartbeat(detail)
    await asyncio.sleep(30)


@activity.defn
async def fail_with_details(detail: str) -> None:
    raise ApplicationError("activity failed on purpose", detail, non_retryable=True)


@workflow.defn
class ChildWorkflow:
    @workflow.run
    async def run(self, value: str) -> str:
        return f"{value}-from-child"


@workflow.defn
class EverythingWorkflow:
    """Puts a payload in every place a history keeps one: input, memo, header, signal, update,
    activity input, heartbeat details, failure details, child input and result, result."""

    def __init__(self) -> None:
        self.signals: list[str] = []
        self.finished = False

    @workflow.run
    async def run(self, value: dict[str, Any]) -> dict[str, Any]:
        once = RetryPolicy(maximum_attempts=1)
        with contextlib.suppress(ActivityError):
            await workflow.execute_activity(
                heartbeat_then_stall,
                value["heartbeat"],
                start_to_close_timeout=timedelta(seconds=60),
                heartbeat_timeout=timedelta(seconds=1),
                retry_policy=once,
            )
        with contextlib.suppress(ActivityError):
            await workflow.execute_activity(
                fail_with_details,
                value["failure"],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=once,
            )
        child = await workflow.execute_child_workflow(
            ChildWorkflow.run, value["child"], id=f"{workflow.info().workflow_id}-child"
        )
        await workflow.wait_condition(lambda: self.finished)
        return {"signals": self.signals, "child": child}

    @workflow.signal
    def note(self, text: str) -> None:
        self.signals.append(text)

    @workflow.query
    def notes(self) -> list[str]:
        return self.signals

    @workflow.update
    def finish(self, text: str) -> str:
        self.finished = True
        return f"finished-{text}"
