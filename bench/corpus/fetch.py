"""Histories straight from a Temporal cluster: by workflow ids or a visibility query."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from temporalio.api.history.v1 import History
from temporalio.client import Client


async def fetch_histories(
    client: Client,
    *,
    workflow_ids: Sequence[str] = (),
    query: str | None = None,
    limit: int | None = None,
) -> AsyncIterator[tuple[str, History]]:
    """``(workflow_id, history)`` for each workflow id, then for each match of ``query``, up to
    ``limit`` histories in all."""
    fetched = 0
    for workflow_id in workflow_ids:
        if limit is not None and fetched >= limit:
            return
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        fetched += 1
        yield workflow_id, History(events=history.events)
    if query is None:
        return
    remaining = None if limit is None else limit - fetched
    if remaining == 0:
        return
    async for execution in client.list_workflows(query, limit=remaining):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        yield execution.id, History(events=history.events)
