"""The report is built from the results file alone, with every section the issue names."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.cli import main


def test_report_rebuilds_from_the_results_file_alone(run_folder: Path, tmp_path: Path) -> None:
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(run_folder / "results.json", alone / "results.json")
    assert main(["report", str(alone / "results.json")]) == 0
    markdown = (alone / "report.md").read_text()
    for heading in ["## Run", "## Corpus small", "## Corpora", "## Environment", "## Method"]:
        assert heading in markdown
    for content in [
        "| rank | codec | ratio |",  # ranking table
        "Pareto",
        "Headroom under Temporal's payload limits",
        "A/A noise floor",
        "share of the bare library call",
        "native libzstd (zstandard)",
        "![Compression ratio against encode throughput, corpus small](ratio-small.png)",
        "![Throughput by payload size bucket, corpus small](buckets-small.png)",
        "![Per-payload latency distributions, corpus small](latency-small.png)",
    ]:
        assert content in markdown, content
    for png in ["ratio-small.png", "buckets-small.png", "latency-small.png"]:
        assert (alone / png).read_bytes().startswith(b"\x89PNG")


def test_the_html_report_is_self_contained(run_folder: Path) -> None:
    page = (run_folder / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("src='data:image/png;base64,") == 3
    assert "src='ratio-" not in page
    assert "<table>" in page
