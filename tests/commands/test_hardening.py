"""Bad input and hostile files end in one line, exit 2 and nothing lost; credentials never reach
results, reports or logs."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from bench.cli import main

from payload_codecs import CorpusWriter
from tests.processes import start_cli

SECRET = "tcb-secret-api-key-51b8e0"


def _one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("codec-bench:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("spelling", [["--api-key", SECRET], [f"--api-key={SECRET}"]])
def test_an_api_key_reaches_no_result_report_or_log(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: list[str]
) -> None:
    out = tmp_path / "run"
    argv = ["run", "--codec", "zstd:3", "--corpus", str(small_corpus), "--rounds", "1"]
    assert main([*argv, "--no-client", "--no-reading", *spelling, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    for path in out.iterdir():
        if path.suffix in {".json", ".csv", ".md", ".html"}:
            assert SECRET not in path.read_text(), path.name
    command = json.loads((out / "results.json").read_text())["command"]
    assert "<redacted>" in " ".join(command)


@pytest.mark.parametrize(
    "spelling",
    [["--api-k", SECRET], [f"--api-ke={SECRET}"], ["--api", SECRET], ["--api-", SECRET]],
    ids=["--api-k", "--api-ke=", "--api", "--api-"],
)
def test_an_abbreviated_credential_flag_is_refused_without_repeating_its_value(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: list[str]
) -> None:
    """Spellings argparse took for --api-key before options stopped being abbreviated; the
    key was then written, unredacted, into results.json and the reports."""
    out = tmp_path / "run"
    argv = ["run", "--codec", "zstd:3", "--corpus", str(small_corpus), "--rounds", "1"]
    assert main([*argv, "--no-client", "--no-reading", *spelling, "--out", str(out)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "write --api-key in full" in line
    assert SECRET not in line
    assert not out.exists()


def test_a_key_from_the_environment_is_redacted_wherever_it_appears(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", SECRET)
    out = tmp_path / "run"
    argv = ["run", "--codec", "zstd:3", "--corpus", str(small_corpus), "--rounds", "1"]
    extra = ["--task-queue-prefix", f"tq-{SECRET}"]
    assert main([*argv, "--no-client", "--no-reading", *extra, "--out", str(out)]) == 0
    for path in out.iterdir():
        if path.suffix in {".json", ".csv", ".md", ".html"}:
            assert SECRET not in path.read_text(), path.name


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _parsers(child)
    return found


def test_no_command_of_the_project_takes_an_abbreviated_option() -> None:
    from bench.cli import parser
    from bench.commands.worker import parser as worker_parser

    from payload_codecs.server._cli import _parser as server_parser

    everything = [*_parsers(parser()), worker_parser(), server_parser()]
    assert len(everything) > 15
    assert [p.prog for p in everything if p.allow_abbrev] == []


def test_an_api_key_needs_an_address(
    small_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--corpus", str(small_corpus), "--api-key", SECRET]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "need --address" in line
    assert SECRET not in line


@pytest.mark.parametrize("where", ["/proc/codec-bench-cannot-be-here", "FILE"])
def test_an_unwritable_output_fails_before_anything_is_measured(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    out = tmp_path / "a-file" if where == "FILE" else Path(where)
    if where == "FILE":
        out.write_text("precious")
    assert (
        main(
            ["run", "--corpus", str(small_corpus), "--no-client", "--no-reading", "--out", str(out)]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "measuring" not in err
    assert re.search(r"cannot write into|is a file", _one_error_line(err))
    if where == "FILE":
        assert out.read_text() == "precious"


def test_a_corpus_output_that_is_a_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "corpora"
    folder.mkdir()
    assert main(["corpus", "generate", "--count", "3", "--out", str(folder), "--force"]) == 2
    assert "is a folder" in _one_error_line(capsys.readouterr().err)
    assert list(folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["corpora"]


def test_a_record_that_passes_its_checksum_but_is_no_payload_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "odd.corpus"
    with CorpusWriter(path, {"kind": "test"}) as writer:
        writer.write_serialized(b"\xff\xff\xff")  # a valid CRC over bytes protobuf rejects
    assert main(["corpus", "describe", str(path)]) == 2
    assert "passes its checksum but is not a Payload" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "x"])
def test_prices_and_limits_must_be_finite_and_not_negative(
    run_folder: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    results = str(run_folder / "results.json")
    for flag in ("--storage-price", "--cpu-price", "--max-encode-us-per-kib", "--volume-gb"):
        with pytest.raises(SystemExit) as caught:
            main(["recommend", results, flag, value])
        assert caught.value.code == 2
        assert "is not a finite number of 0 or more" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compare", results, results, "--fail-on-regression", value])
    capsys.readouterr()


def test_nan_in_a_results_file_is_refused_when_it_is_read(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (run_folder / "results.json").read_text()
    poisoned = tmp_path / "nan.json"
    poisoned.write_text(re.sub(r'"ratio":[0-9.e+-]+', '"ratio":NaN', text, count=1))
    for argv in (
        ["recommend", str(poisoned)],
        ["compare", str(run_folder / "results.json"), str(poisoned)],
    ):
        assert main(argv) == 2
        assert "holds NaN where a number belongs" in _one_error_line(capsys.readouterr().err)


def test_compare_needs_two_runs_and_a_gate_needs_something_to_check(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = str(run_folder / "results.json")
    assert main(["compare", results]) == 2
    assert "compare needs two or more results files" in _one_error_line(capsys.readouterr().err)
    # A run that shares only untimed rows with the first: nothing to gate on is a failure.
    document = json.loads((run_folder / "results.json").read_text())
    for case in document["cases"]:
        if "encode_ns" not in case["samples"]:
            continue
        for name in ("encode_ns", "decode_ns", "encode_cpu_ns", "decode_cpu_ns"):
            case["samples"][name] = []
        for metrics in case["summary"].values():
            metrics.pop("encode_mbps", None)
            metrics.pop("decode_mbps", None)
    untimed = tmp_path / "untimed.json"
    untimed.write_text(json.dumps(document))
    assert main(["compare", results, str(untimed), "--fail-on-regression", "10"]) == 2
    assert "found no timed row common to the runs" in _one_error_line(capsys.readouterr().err)


def test_an_unreachable_cluster_ends_in_one_line_and_exit_2_every_time(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    """Twelve runs, four at a time: the Temporal SDK's core could abort the interpreter as it
    finalized ("Fatal Python error: PyGILState_Release", exit 134) in 2 of 16 such runs."""
    argv = ["run", "--address", "127.0.0.1:1", "--codec", "zstd:3", "--corpus", str(tiny_corpus)]
    argv += ["--rounds", "1", "--no-reading"]
    for batch in range(3):
        runs = [start_cli([*argv, "--out", str(tmp_path / f"{batch}-{i}")]) for i in range(4)]
        for process in runs:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 2, err
            assert "Fatal Python error" not in err
            line = _one_error_line(err)
            assert "cannot reach Temporal at 127.0.0.1:1" in line
