"""The pytest-benchmark suite (``nox -s microbench``) runs: every case once, with timing off, so
that a broken benchmark is found by the tests without the tests timing anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_microbenchmark_runs_and_round_trips() -> None:
    command = ["pytest", "benchmarks", "-q", "-p", "no:cacheprovider", "--benchmark-disable"]
    done = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout
    # 7 codecs x 4 sizes x 2 directions, and a codec server request of 4 shapes x 2 ways
    assert "64 passed" in done.stdout
