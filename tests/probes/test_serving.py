"""The codec-server benchmark runs both servers and loads each with wrk (a smoke test: the
numbers it prints are a benchmark's, not asserted)."""

from __future__ import annotations

import os
import shutil

import pytest
from bench.cli import main
from bench.probes import serving

pytestmark = pytest.mark.temporal


@pytest.fixture(autouse=True)
def _wrk() -> None:
    """In CI a missing wrk fails the test (``.ci/run`` installs it); elsewhere it skips."""
    if shutil.which("wrk") is None:
        message = "no wrk on PATH; install Debian's package: apt-get install wrk"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_both_servers_are_measured_in_every_cell() -> None:
    shapes = [serving.Shape(1024), serving.Shape(1024, 10)]
    loads = serving.measure("zstd:3+aes256gcm", shapes, [1, 2], seconds=1, rounds=2)
    cells = {(load.server, load.shape, load.concurrency) for load in loads}
    assert cells == {(s, shape, c) for s in serving.SERVERS for shape in shapes for c in (1, 2)}
    for load in loads:
        assert load.requests_per_s > 0
        assert 0 < load.p50_ms <= load.p99_ms


def test_the_command_prints_a_row_per_cell_with_the_ratio(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["codec-server", "--seconds", "1", "--rounds", "1", "--size", "1KiB"]
    args += ["--batch", "10x1KiB", "--concurrency", "1", "--workers", "2", "--no-access-log"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "payload-codec-server --workers 2 --no-access-log" in out
    rows = [line.split() for line in out.splitlines() if line.strip().endswith(tuple("0123456789"))]
    assert [row[:2] for row in rows if row[0] != "10"] == [["1.0", "KiB"]]
    assert any(row[:4] == ["10", "x", "1.0", "KiB"] for row in rows)
    # with --workers 2, the same server with one process beside it, and the scaling
    assert "1 process req/s" in out
    for row in rows:
        ours, one, scaling = (float(row[i].replace(",", "")) for i in (-7, -2, -1))
        assert scaling == pytest.approx(ours / one, abs=0.01)
