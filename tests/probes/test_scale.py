"""The scale probe makes corpora, runs codec-bench on each in its own process, and reports what
each run took (a benchmark: these tests check what it reports, never how fast it was)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.cli import main
from bench.probes import scale

from payload_codecs import CorpusReader


def test_a_made_corpus_holds_the_payloads_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "c.corpus"
    size = scale.make_corpus(path, 300, 2048)
    assert size == path.stat().st_size
    with CorpusReader(path) as reader:
        payloads = list(reader)
    assert len(payloads) == 300
    assert all(1800 < p.ByteSize() < 2400 for p in payloads)
    assert list(tmp_path.iterdir()) == [path]


def test_each_point_is_a_run_with_its_memory_results_and_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["scale", "--payloads", "50", "--payloads", "200", "--sample", "100"]
    assert main([*argv, "--payload-size", "512"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in rows[:2]] == ["50", "200"]
    # timed: the whole corpus of 50, a sample of 100 (topped up per stratum) of 200
    assert rows[0][3] == "50"
    assert 100 <= int(rows[1][3]) < 200
    assert "50 -> 200 payloads (x4): memory x" in out
