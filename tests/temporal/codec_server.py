"""``payload-codec-server`` as a child process on a free loopback port, for the tests that drive
it with the real Temporal CLI and Web UI; stopped on every exit path."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.temporal.codecserver import serving
from bench.temporal.devserver import DevServer
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from payload_codecs import Keyring, data_converter
from tests.temporal.workflows import EchoWorkflow, echo

SPEC = "zstd:3+aes256gcm"
KEY = bytes(range(32))
KEYS_ENV = {"PAYLOAD_CODEC_KEYS": f"ui-test={base64.b64encode(KEY).decode()}"}


@dataclass(frozen=True)
class Served:
    url: str
    """``http://127.0.0.1:PORT``"""
    log: Path
    """The server's stderr: its start line and one JSON access-log line per request."""

    def statuses(self) -> list[int]:
        lines = self.log.read_text().splitlines()
        return [json.loads(line)["status"] for line in lines if line.startswith("{")]


@contextmanager
def codec_server(*args: str, log: Path, env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """The running server, once it answers; its stderr goes to ``log``."""
    argv = ["payload_codecs.server._cli", *args]
    with serving(argv, {**os.environ, **KEYS_ENV, **(env or {})}, log=log) as url:
        yield Served(url, log)


async def run_echo(
    server: DevServer, value: dict[str, Any], converter: DataConverter | None = None
) -> tuple[str, str]:
    """Run EchoWorkflow with ``value`` under ``converter`` (default: the test codec); its
    workflow and run ids."""
    keyring = Keyring.from_mapping({"ui-test": base64.b64encode(KEY).decode()})
    client = await Client.connect(
        server.address, data_converter=converter or data_converter(SPEC, keyring=keyring)
    )
    task_queue = f"codec-server-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[EchoWorkflow], activities=[echo]):
        handle = await client.start_workflow(
            EchoWorkflow.run, value, id=f"codec-server-{uuid.uuid4()}", task_queue=task_queue
        )
        assert await handle.result() == value
    assert handle.result_run_id is not None
    return handle.id, handle.result_run_id
