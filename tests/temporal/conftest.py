"""A real Temporal dev server for the tests that need one, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bench.temporal.devserver import DevServer

SEARCH_ATTRIBUTE = "CodecBenchTag"


@pytest.fixture(scope="session")
def dev_server() -> Iterator[DevServer]:
    with DevServer(search_attributes={SEARCH_ATTRIBUTE: "Keyword"}) as server:
        yield server
