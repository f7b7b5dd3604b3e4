"""The report is built from the results file alone, with every section the issue names."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bench.cli import main


def test_report_rebuilds_from_the_results_file_alone(run_folder: Path, tmp_path: Path) -> None:
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(run_folder / "results.json", alone / "results.json")
    assert main(["report", str(alone / "results.json")]) == 0
    markdown = (alone / "report.md").read_text()
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings[:2] == ["## Verdict", "## Contents"]
    for heading in ["## Run", "## Corpus small", "## Codecs", "## Corpora", "## Environment"]:
        assert heading in headings
    for content in [
        "| goal | codec | bytes saved | CPU µs/KiB | round trip vs none |",
        "codec-bench recommend results.json --must-encrypt",
        "| smallest history | zstd:3@zstandard |",
        "| codec | bytes saved | ratio | CPU µs/KiB (encode + decode) |",  # detail, no rank
        "| none | 0.0% | 1.00 | baseline | baseline | baseline |",
        "Headroom under Temporal's payload limits",
        "The same codec measured twice",
        "share of the bare library call",
        "native libzstd (zstandard)",
        "| codec | library | what detects a corrupted payload |",
        "| zstd:3@zstandard | zstandard ",
        "XXH64 content checksum",
        "| none | - | nothing: a flipped bit decodes to other bytes |",
        "![Bytes saved against CPU per KiB, with the front, corpus small](saving-small.png)",
        "![Throughput by payload size bucket, corpus small](buckets-small.png)",
    ]:
        assert content in markdown, content
    assert "| rank |" not in markdown
    # The one answer opens the verdict, as recommend gives it with no flag.
    verdict = markdown.split("## Verdict", 1)[1]
    assert verdict.lstrip().startswith("**Deploy `")
    for png in ["saving-small.png", "buckets-small.png"]:
        assert (alone / png).read_bytes().startswith(b"\x89PNG")


def test_the_html_report_is_self_contained(run_folder: Path) -> None:
    page = (run_folder / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('src="data:image/png;base64,') == 2
    assert 'src="saving-' not in page
    assert "<table>" in page


def test_the_html_report_renders_its_markdown(run_folder: Path) -> None:
    """Markdown is rendered, not shown: no backtick, no ``**`` or ``*emphasis*`` left in the
    page's text, commands in <code>, figures right-aligned."""
    page = (run_folder / "report.html").read_text()
    text = re.sub(r"<pre>.*?</pre>|<code>.*?</code>|<[^>]+>", " ", page, flags=re.DOTALL)
    assert "`" not in text
    assert "**" not in text
    assert not re.search(r"(?<![\w*])\*[A-Za-z][^*]*\*(?!\w)", text)
    assert "<code>" in page
    assert 'style="text-align: right;"' in page


def test_the_comparison_plot_keeps_a_readable_height(tmp_path: Path) -> None:
    import matplotlib.image
    from bench.outputs import plots

    def rows(count: int) -> list[tuple[str, float, float, float, str]]:
        return [
            (f"row {i}", 1 + i / 1000, 1 + i / 2000, 1 + i / 500, "faster") for i in range(count)
        ]

    heights = []
    for count in (plots.PLOTTED_CHANGES, 5 * plots.PLOTTED_CHANGES):
        path = plots.comparison_deltas(rows(count), "change", 0.05, tmp_path / f"{count}.png")
        assert path is not None
        heights.append(matplotlib.image.imread(path).shape[0])
    assert heights[0] == heights[1]
