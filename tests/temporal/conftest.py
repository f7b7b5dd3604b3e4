"""Fixtures of the real-server tests (the dev server itself is in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.cli import main


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
