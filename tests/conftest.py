"""Shared fixtures: hypothesis settings, and the one real Temporal dev server of a session."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from bench.temporal.devserver import DevServer
from hypothesis import HealthCheck, settings

# A shell that starts a job in the background (nohup, `&` without job control, some CI runners)
# makes it ignore SIGINT, and children inherit that: the Ctrl-C tests would then send a signal
# the harness never sees. A terminal never does this; give the tests' children what it gives.
signal.signal(signal.SIGINT, signal.default_int_handler)

# Large payloads make some examples slow on a shared 2-core machine; that is not a failure.
settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

SEARCH_ATTRIBUTE = "CodecBenchTag"


@pytest.fixture(scope="session")
def dev_server() -> Iterator[DevServer]:
    """A real Temporal dev server, started once per session (per xdist worker) on free ports."""
    with DevServer(search_attributes={SEARCH_ATTRIBUTE: "Keyword"}) as server:
        yield server
