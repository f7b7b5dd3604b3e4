"""A real Temporal dev server for the tests that need one, started once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.cli import main
from bench.temporal.devserver import DevServer

SEARCH_ATTRIBUTE = "CodecBenchTag"


@pytest.fixture(scope="session")
def dev_server() -> Iterator[DevServer]:
    with DevServer(search_attributes={SEARCH_ATTRIBUTE: "Keyword"}) as server:
        yield server


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("client") / "tiny.corpus"
    assert (
        main(
            [
                "corpus",
                "generate",
                "--count",
                "6",
                "--seed",
                "2",
                "--buckets",
                "<1KiB,1-16KiB",
                "--out",
                str(path),
            ]
        )
        == 0
    )
    return path
