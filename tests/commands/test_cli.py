"""The codec-bench command: listings, and one-line errors with exit code 2 for user mistakes."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator

import pytest
from bench import cli
from bench.cli import main


def test_codecs_lists_every_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codecs"]) == 0
    out = capsys.readouterr().out
    for name in ["none", "snappy", "zstd", "lz4", "gzip", "zlib", "aes256gcm"]:
        assert f"\n{name} " in f"\n{out}"


def test_codecs_says_per_implementation_whether_corruption_is_detected(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["codecs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    said = {line.split()[0]: line for line in lines if line.startswith("    @")}
    assert "corruption detected: XXH64" in said["@zstandard"]
    assert "NOT detected" in said["@cramjam-raw"]
    assert "add :checksum" in said["@lz4"]
    assert any("AES-GCM tag" in line for line in lines)


def test_a_bad_spec_is_one_line_on_stderr_and_exit_code_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cli", "stall", "--codec", "zstd:99"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "codec-bench: error: level 99 of 'zstd' is out of range; valid levels: -131072..-1, 1..22"
    ]


def test_a_bad_size_is_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["stall", "--codec", "zstd", "--size", "2XB"])
    assert caught.value.code == 2
    assert "'2XB' is not a size like 2MiB" in capsys.readouterr().err


def test_stall_reports_in_loop_default_and_offloaded_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["stall", "--codec", "lz4", "--size", "64KiB", "--repeats", "1"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[:2] for row in rows] == [
        ["lz4:1@lz4", "in-loop"],
        ["lz4:1@lz4", "default"],
        ["lz4:1@lz4", "offloaded"],
    ]


def test_counts_must_be_positive_whole_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["run", "--concurrency", "0"],
        ["run", "--rounds", "-3"],
        ["corpus", "generate", "--count", "x", "--out", "never.corpus"],
    ):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
        assert "is not a whole number of 1 or more" in capsys.readouterr().err


def test_overhead_refuses_a_spec_without_stages_before_measuring(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Checked before anything runs: not a table header, nor a minute of the other codecs'
    # measurements, and then the error.
    assert main(["overhead", "--codec", "lz4", "--codec", "none"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        "codec-bench: error: 'none' has no stage: nothing to compare the codec path with; "
        "name a compression or encryption spec"
    ]


def test_overhead_names_the_page_faults_of_a_row_that_had_them() -> None:
    from bench.commands.probes import _faults_line

    line = _faults_line((0.0, 904.4, 2.0, 6.0))
    assert "page faults per call: encode 904 (bare 0), decode 6 (bare 2)" in line


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_every_option_of_every_command_says_what_it_does_and_no_empty_default() -> None:
    missing, empty = [], []
    for command in _parsers(cli.parser()):
        for action in command._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            name = f"{command.prog} {'/'.join(action.option_strings) or action.dest}"
            if not action.help:
                missing.append(name)
        text = command.format_help()
        if "(default: None)" in text or "(default: False)" in text:
            empty.append(command.prog)
    assert missing == []
    assert empty == []
