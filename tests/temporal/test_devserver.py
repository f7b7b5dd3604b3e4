"""The embedded dev server starts on free loopback ports and leaves no process behind."""

from __future__ import annotations

import pytest
from bench.temporal.devserver import DevServer, free_ports

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
