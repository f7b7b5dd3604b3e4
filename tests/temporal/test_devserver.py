"""The embedded dev server starts on free loopback ports and leaves no process behind."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from bench.temporal.devserver import DevServer, DevServerError, free_ports

from tests.processes import alive

pytestmark = pytest.mark.temporal


def test_the_server_answers_on_loopback_and_is_gone_after_stop() -> None:
    with DevServer() as server:
        assert server.address.startswith("127.0.0.1:")
        pid = server.pid
        assert pid is not None
        assert alive(pid)
    assert server.pid is None
    assert not alive(pid)


def test_free_ports_are_distinct() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5


def test_a_server_that_dies_is_reported_with_its_last_words() -> None:
    """A dev server gone mid-run stops the layer with its exit code and what it last logged
    (a Go panic's first line when it panicked): its log is gone once the server is stopped."""
    with DevServer() as server:
        assert server.pid is not None
        assert server._log_dir is not None
        log = Path(server._log_dir.name) / "server.log"
        with log.open("a") as out:
            out.write("goroutine 1 [running]:\npanic: runtime error: index out of range\n\tat x\n")
        os.kill(server.pid, signal.SIGKILL)
        with pytest.raises(DevServerError) as error:
            asyncio.run(asyncio.wait_for(server.watch(), timeout=30))
    assert str(error.value).endswith(
        "exited with code -9: panic: runtime error: index out of range"
    )
