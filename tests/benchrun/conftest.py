"""A small corpus and one short real run, shared by the benchmark tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.cli import main


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "small.corpus"
    assert (
        main(
            [
                "corpus",
                "generate",
                "--count",
                "24",
                "--seed",
                "3",
                "--buckets",
                "<1KiB,1-16KiB,16-256KiB",
                "--out",
                str(path),
            ]
        )
        == 0
    )
    return path


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory, small_corpus: Path) -> Path:
    """A real run: two codecs (plus the A/A baseline), the small corpus, three rounds."""
    out = tmp_path_factory.mktemp("run")
    assert (
        main(
            [
                "run",
                "--codec",
                "zstd:3",
                "--codec",
                "lz4+aes256gcm",
                "--corpus",
                str(small_corpus),
                "--rounds",
                "3",
                "--out",
                str(out),
                "--force",
                "--no-client",
                "--no-reading",
            ]
        )
        == 0
    )
    return out
