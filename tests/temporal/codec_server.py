"""``payload-codec-server`` as a child process on a free loopback port, for the tests that drive
it with the real Temporal CLI and Web UI; stopped on every exit path."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench.temporal.devserver import DevServer, free_ports
from bench.temporal.processes import spawn, stop
from temporalio.client import Client
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
    """The running server, once ``/health`` answers; its stderr goes to ``log``."""
    [port] = free_ports(1)
    with log.open("w") as sink:
        process = spawn(
            [sys.executable, "-m", "payload_codecs.server._cli", "--port", str(port), *args],
            env={**os.environ, **KEYS_ENV, **(env or {})},
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"codec server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("codec server did not answer /health within 30 s")
            time.sleep(0.1)
        yield Served(url, log)
    finally:
        stop(process)


async def run_echo(server: DevServer, value: dict[str, Any]) -> tuple[str, str]:
    """Run EchoWorkflow with ``value`` under the test codec; its workflow and run ids."""
    keyring = Keyring.from_mapping({"ui-test": base64.b64encode(KEY).decode()})
    client = await Client.connect(
        server.address, data_converter=data_converter(SPEC, keyring=keyring)
    )
    task_queue = f"codec-server-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[EchoWorkflow], activities=[echo]):
        handle = await client.start_workflow(
            EchoWorkflow.run, value, id=f"codec-server-{uuid.uuid4()}", task_queue=task_queue
        )
        assert await handle.result() == value
    assert handle.result_run_id is not None
    return handle.id, handle.result_run_id
