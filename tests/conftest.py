"""Shared fixtures: hypothesis settings, the one real Temporal dev server of a session (per
xdist worker), and small corpora and one short real run that many tests read."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.cli import main
from bench.temporal.devserver import DevServer

# A shell that starts a job in the background (nohup, `&` without job control, some CI runners)
# makes it ignore SIGINT, and children inherit that: the Ctrl-C tests would then send a signal
# the harness never sees. A terminal never does this; give the tests' children what it gives.
signal.signal(signal.SIGINT, signal.default_int_handler)

# Large payloads make some examples slow on a shared 2-core machine; that is not a failure.
# (pytest-benchmark's compare command loads this file too, from environments without hypothesis.)
try:
    from hypothesis import HealthCheck, settings
except ImportError:
    pass
else:
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


def _generated_corpus(path: Path, count: int, seed: int, buckets: str) -> Path:
    argv = ["corpus", "generate", "--count", str(count), "--seed", str(seed)]
    assert main([*argv, "--buckets", buckets, "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("client") / "tiny.corpus"
    return _generated_corpus(path, 6, 2, "<1KiB,1-16KiB")


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "small.corpus"
    return _generated_corpus(path, 24, 3, "<1KiB,1-16KiB,16-256KiB")


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
