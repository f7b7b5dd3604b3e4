"""The codecs in a real client, server and worker: what the server stores is encrypted, and the
same codec decodes it back to what was sent."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from bench.outputs.recommend_report import snippet
from bench.temporal.devserver import DevServer
from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowFailureError
from temporalio.converter import DataConverter
from temporalio.exceptions import ActivityError
from temporalio.worker import Worker

from payload_codecs import Keyring, data_converter, from_spec
from tests.protowalk import walk_payloads
from tests.temporal.workflows import EchoWorkflow, FailingWorkflow, echo, fail

pytestmark = pytest.mark.temporal

SPEC = "zstd:3+aes256gcm"
MARKER = "PLAINTEXT-MARKER-8d1f"


async def _stored_history(server: DevServer, workflow_id: str) -> History:
    """The history as the server stores it: fetched by a client without any codec."""
    plain = await Client.connect(server.address)
    fetched = await plain.get_workflow_handle(workflow_id).fetch_history()
    return History(events=fetched.events)


async def test_a_workflow_with_an_activity_stores_only_encrypted_payloads(
    dev_server: DevServer,
) -> None:
    keyring = Keyring.generate("e2e-key")
    client = await Client.connect(
        dev_server.address, data_converter=data_converter(SPEC, keyring=keyring)
    )
    value = {"marker": MARKER, "rows": [{"id": i, "note": MARKER} for i in range(200)]}
    task_queue = f"codec-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[EchoWorkflow], activities=[echo]):
        handle = await client.start_workflow(
            EchoWorkflow.run, value, id=f"echo-{uuid.uuid4()}", task_queue=task_queue
        )
        assert await handle.result() == value

    # Fetched without the codec, the history holds what the server stores.
    history = await _stored_history(dev_server, handle.id)
    stored = [p for p in walk_payloads(history) if p.data or p.metadata]
    # workflow input, activity input, activity result, workflow result
    assert len(stored) >= 4
    for payload in stored:
        assert payload.metadata["encoding"] == b"binary/encrypted"
        assert payload.metadata["encryption-key-id"] == b"e2e-key"
        assert MARKER.encode() not in payload.data
    assert MARKER.encode() not in history.SerializeToString()

    # Decoded with the codec they are the payloads the SDK's converter made.
    [original] = DataConverter.default.payload_converter.to_payloads([value])
    decoded = await from_spec(SPEC, keyring=keyring).decode(stored)
    assert decoded == [original] * len(stored)


async def test_failure_messages_are_encrypted_too(dev_server: DevServer) -> None:
    keyring = Keyring.generate("e2e-key")
    client = await Client.connect(
        dev_server.address, data_converter=data_converter(SPEC, keyring=keyring)
    )
    task_queue = f"codec-{uuid.uuid4()}"
    async with Worker(
        client, task_queue=task_queue, workflows=[FailingWorkflow], activities=[fail]
    ):
        handle = await client.start_workflow(
            FailingWorkflow.run,
            f"secret {MARKER}",
            id=f"fail-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        with pytest.raises(WorkflowFailureError) as caught:
            await handle.result()
    # The client with the codec sees the real message ...
    activity_error = caught.value.cause
    assert isinstance(activity_error, ActivityError)
    assert MARKER in str(activity_error.cause)
    # ... while the server stores only ciphertext.
    history = await _stored_history(dev_server, handle.id)
    assert MARKER.encode() not in history.SerializeToString()
    stored = list(walk_payloads(history))
    assert stored
    assert all(p.metadata.get("encoding") == b"binary/encrypted" for p in stored if p.data)
    [failed] = [
        e for e in history.events if e.HasField("workflow_execution_failed_event_attributes")
    ]
    failure = failed.workflow_execution_failed_event_attributes.failure
    assert failure.message == "Encoded failure"
    assert failure.encoded_attributes.metadata["encoding"] == b"binary/encrypted"


ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "worker.py"


async def test_the_one_file_worker_runs_as_written_and_stores_only_encrypted_payloads(
    dev_server: DevServer,
) -> None:
    """``examples/worker.py`` run as a user runs it (its own process, the workflow defined in the
    same module as the codec import): the sandbox accepts it, and the server stores no payload
    in the clear."""
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": dev_server.address,
        "PAYLOAD_CODEC_KEYS": f"example={base64.b64encode(os.urandom(32)).decode()}",
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    workflow_id, _, result = done.stdout.strip().partition(": ")
    assert result == "Hello, codec!"
    history = await _stored_history(dev_server, workflow_id)
    payloads = list(walk_payloads(history))
    assert len(payloads) >= 4  # workflow input and result, activity input and result
    assert {p.metadata["encoding"] for p in payloads} == {b"binary/encrypted"}
    assert not any(b"codec" in p.data for p in payloads)


def test_the_readme_deploy_snippet_and_recommends_are_the_example_workers_lines() -> None:
    """One snippet in every place: what the README, the library's README and recommend's deploy
    block show is what the tested example runs."""
    example = EXAMPLE.read_text()
    readme = (ROOT / "README.md").read_text()
    library = (ROOT / "codecs" / "README.md").read_text()
    deploy = snippet(SPEC, encrypts=True)
    sandbox = [
        "# Workflow modules run in the SDK's sandbox: pass the codec library through it.",
        "with workflow.unsafe.imports_passed_through():",
        "    from payload_codecs import Keyring, data_converter",
    ]
    for text in (example, readme, library, deploy):
        assert "\n".join(sandbox) in text
