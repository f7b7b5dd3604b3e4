"""A one-file Temporal worker with a payload codec: the workflow, its activity, the worker and a
client in one module, as Temporal's own samples write them. Run it against a dev server:

    temporal server start-dev &
    export PAYLOAD_CODEC_KEYS="key-2026-11=$(openssl rand -base64 32)"
    python examples/worker.py

Every payload the server stores for this workflow (its input, the activity's input and result,
the workflow's result) is compressed with zstd and encrypted with AES-256-GCM.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

# Workflow modules run in the SDK's sandbox: pass the codec library through it.
with workflow.unsafe.imports_passed_through():
    from payload_codecs import Keyring, data_converter

SPEC = "zstd:3+aes256gcm"
TASK_QUEUE = "codec-example"


@activity.defn
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class Greeting:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=30)
        )


async def main() -> None:
    converter = data_converter(SPEC, keyring=Keyring.from_env())  # PAYLOAD_CODEC_KEYS
    address = os.environ.get("TEMPORAL_ADDRESS", "localhost:7233")
    client = await Client.connect(address, data_converter=converter)
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[Greeting], activities=[greet]):
        workflow_id = f"codec-example-{uuid.uuid4()}"
        result = await client.execute_workflow(
            Greeting.run, "codec", id=workflow_id, task_queue=TASK_QUEUE
        )
    print(f"{workflow_id}: {result}")


if __name__ == "__main__":
    asyncio.run(main())
    # The SDK's core keeps threads of its own that can outlive the interpreter's teardown and
    # crash it after everything is done (sdk-python issue 300; this example once ended in a
    # SIGSEGV after printing its result, in CI); leave without the teardown, as codec-bench does.
    sys.stdout.flush()
    os._exit(0)
