"""A series of runs (``run --runs N``, the ``ci`` profile's default): one process per run into
``OUT/run-N``, compared as one side by naming the folder, stopped cleanly like a single run."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest
from bench.cli import main

from tests.processes import descendants, start_cli, wait_for

SMALL = ["--codec", "zstd:3", "--codec", "lz4:1"]


@pytest.fixture(scope="module")
def series(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A series of two runs of two rounds, as ``run --runs 2`` writes it."""
    out = tmp_path_factory.mktemp("series") / "series"
    argv = ["run", "--profile", "ci", "--runs", "2", "--rounds", "2", "--corpus", str(tiny_corpus)]
    assert main([*argv, *SMALL, "--out", str(out)]) == 0
    return out


def test_a_series_writes_one_run_per_process_and_compare_takes_its_folder_as_one_side(
    series: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    documents = [json.loads((series / f"run-{i}" / "results.json").read_text()) for i in (1, 2)]
    assert len({d["run_id"] for d in documents}) == 2  # two runs, not one written twice
    assert all(d["rounds_completed"] == 2 for d in documents)
    capsys.readouterr()
    assert main(["compare", str(series), str(series), "--json", "--fail-on-regression", "10"]) == 0
    comparison = json.loads(capsys.readouterr().out)
    assert comparison["grouped"] is True
    assert {tuple(d["samples"]) for d in comparison["deltas"] if d["family"]} == {(2, 2)}


def test_a_series_is_compared_only_with_series(
    series: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(series), str(series / "run-1")]) == 2
    assert "a series of runs is compared only with series" in capsys.readouterr().err
    assert main(["compare", str(tmp_path), str(series)]) == 2
    assert "holds no results.json and no run-N/results.json" in capsys.readouterr().err


def test_sigterm_stops_the_running_run_of_a_series_and_leaves_no_process(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "series"
    argv = [
        "run",
        "--profile",
        "ci",
        "--runs",
        "3",
        "--rounds",
        "500",
        "--corpus",
        str(tiny_corpus),
    ]
    process = start_cli([*argv, *SMALL, "--out", str(out)])
    wait_for(process, re.compile(r"round \d+:"))
    below = descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert "Traceback" not in err
    assert "stopped in run 1 of 3" in err
    assert not any(Path(f"/proc/{pid}").exists() for pid in below)
    document = json.loads((out / "run-1" / "results.json").read_text())
    assert document["interrupted"] is True
    assert document["rounds_completed"] >= 1
    assert not (out / "run-2").exists()
