"""Builders shared by the codec tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Sequence

import pytest
from temporalio.api.common.v1 import Payload

from payload_codecs import ChainCodec


def json_payload(data: bytes) -> Payload:
    """A payload as the SDK's JSON converter writes it."""
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


_LOOP = asyncio.new_event_loop()
"""One loop for every call: ``asyncio.run`` per call installs and restores a SIGINT handler,
and restoring it formats the handler's repr (about 5 ms a call, most of a property test's
time). The codec sees a running loop and its default executor, as in a worker."""


def encode(codec: ChainCodec, payloads: Sequence[Payload]) -> list[Payload]:
    return _LOOP.run_until_complete(codec.encode(payloads))


def decode(codec: ChainCodec, payloads: Sequence[Payload]) -> list[Payload]:
    return _LOOP.run_until_complete(codec.decode(payloads))


COMPRESSIBLE = b'{"customer": "ACME Corp", "items": [1, 2, 3], "note": "hello world"}' * 64


def run_tool(name: str, *args: str, data: bytes) -> bytes:
    """A compression command-line tool (lz4, zstd) reading ``data`` on stdin: its stdout. A
    missing tool fails in CI and skips elsewhere, saying how to install it."""
    found = shutil.which(name)
    if found is None:
        message = f"the {name} command-line tool is missing; apt-get install {name}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run([found, *args], input=data, capture_output=True, check=True).stdout
