"""The codec-server benchmark runs both servers and loads each (a smoke test: the numbers it
prints are a benchmark's, not asserted)."""

from __future__ import annotations

import pytest
from bench.cli import main
from bench.probes import serving

pytestmark = pytest.mark.temporal


def test_both_servers_are_measured_in_every_cell() -> None:
    loads = serving.measure("zstd:3+aes256gcm", [1024], [1, 2], requests=5, rounds=2)
    cells = {(load.server, load.size, load.concurrency) for load in loads}
    assert cells == {(s, 1024, c) for s in serving.SERVERS for c in (1, 2)}
    for load in loads:
        assert load.requests_per_s > 0
        assert 0 < load.p50_ms <= load.p99_ms


def test_the_command_prints_a_row_per_cell(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["codec-server", "--requests", "3", "--rounds", "1", "--size", "1KiB"]
    assert main([*args, "--concurrency", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if " 1024 " in line]
    assert [row.split()[0] for row in rows] == ["aiohttp", "payload-codec-server"]
