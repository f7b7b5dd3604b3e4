"""The reading layer against a real dev server, the real ``temporal`` CLI, the library's codec
server and the real Web UI in headless Chromium: its rows, what the CLI decodes, and no process
(dev server, codec server, browser, CLI) left after a normal end, Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from bench.cli import main
from bench.corpus import catalog
from bench.layers.reading import history_payloads, show_command, shown_payloads
from bench.temporal.codecserver import library_server
from bench.temporal.devserver import DevServer
from temporalio.api.common.v1 import Payload

from payload_codecs import CorpusWriter
from tests.browser import chromium_path
from tests.processes import alive, descendants, start_cli, wait_for

pytestmark = pytest.mark.temporal

SPEC = "zstd:3+aes256gcm"
LABEL = "zstd:3@zstandard+aes256gcm"
KEYS = {"PAYLOAD_CODEC_KEYS": "reading=" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="}
READ = ["--no-client", "--reading-rounds", "2", "--history-size", "10"]
RUN = ["run", "--codec", SPEC, "--corpus", "histories", "--rounds", "1", *READ]
"""A run that reads one 10-payload history per codec twice, after one round of the rest."""


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _reading_cases(out: Path) -> dict[str, dict[str, Any]]:
    """The histories' cases by codec (the /decode loads left out)."""
    document = json.loads((out / "results.json").read_text())
    return {
        c["codec"]: c
        for c in document["cases"]
        if c["layer"] == "reading" and not c["variant"].startswith("/decode")
    }


def test_a_run_reads_each_history_with_the_cli_and_the_web_ui_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    """One embedded run, watched from outside: it reads through the CLI and the Web UI,
    loads /decode, reports it all, and stops every process it started (browser included)."""
    chromium_path()  # in CI a missing browser fails here rather than skipping the UI
    out = tmp_path / "run"
    process = start_cli([*RUN, "--out", str(out)], env=KEYS, stdout=subprocess.DEVNULL)
    wait_for(process, "reading layer: codec servers at")
    children: set[int] = set()
    deadline = time.monotonic() + 60
    while not any("chromium" in _command(pid) for pid in children):
        assert process.poll() is None, "the run ended before a browser was seen"
        assert time.monotonic() < deadline, "no browser within 60 s"
        children |= descendants(process.pid)
        time.sleep(0.2)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert [pid for pid in children if alive(pid)] == []
    document = json.loads((out / "results.json").read_text())
    layer = document["layers"]["reading"]
    assert layer["status"] == "complete"
    assert layer["ui"].startswith("http://127.0.0.1:")
    loads = [c for c in document["cases"] if c["layer"] == "reading" and c["variant"][0] == "/"]
    assert {(c["codec"], c["variant"]) for c in loads} == {
        (LABEL, f"/decode {size} x{n}") for size in ("1 KiB", "64 KiB", "1 MiB") for n in (1, 4)
    }
    for load in loads:
        assert len(load["samples"]["requests_per_s"]) == 2
        assert load["summary"]["all"]["decode_request_ms"]["p50"]["median"] > 0
    cases = _reading_cases(out)
    stored = {codec: case["samples"]["history_bytes"] for codec, case in cases.items()}
    assert 0 < stored[LABEL] < stored["none"]
    report = (out / "report.md").read_text()
    assert "## Reading histories" in report
    assert "`/decode` over HTTP straight to each codec's server" in report


def test_the_cli_output_the_layer_times_is_the_workflows_input(
    dev_server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(*next(iter(KEYS.items())))
    out = tmp_path / "run"
    assert main([*RUN, "--address", dev_server.address, "--out", str(out)]) == 0
    case = _reading_cases(out)[LABEL]
    assert json.loads((out / "results.json").read_text())["layers"]["reading"]["ui"] == (
        "not opened (no --ui-url)"
    )
    # Read it again here, as an operator would, through a codec server of our own.
    with library_server(SPEC, {**os.environ, **KEYS}) as url:
        command = show_command(
            dev_server.address, "default", case["samples"]["workflow_id"], codec_url=url
        )
        shown = subprocess.run(
            command,
            capture_output=True,
            check=True,
            timeout=60,
        )
    payloads = shown_payloads(shown.stdout)
    marker = json.loads(payloads[0].data)["marker"]
    assert payloads == history_payloads(catalog.load("histories").payloads, 10, marker)


# One signal per cleanup path: SIGTERM cancels the run as Ctrl-C does (tests/run/test_faults.py
# checks that); the S3 server's test stops its run with SIGTERM.
@pytest.mark.parametrize(("how", "code"), [(signal.SIGINT, 130)])
def test_no_process_is_left_when_a_reading_run_is_stopped(
    tmp_path: Path, how: signal.Signals, code: int
) -> None:
    chromium_path()
    out = tmp_path / "run"
    process = start_cli(
        [
            "run",
            "--codec",
            SPEC,
            "--corpus",
            "histories",
            "--rounds",
            "1",
            "--no-client",
            "--reading-rounds",
            "1000",
            "--history-size",
            "10",
            "--out",
            str(out),
        ],
        env=KEYS,
        stdout=subprocess.DEVNULL,
    )
    wait_for(process, "reading round")
    children = descendants(process.pid)
    assert len(children) >= 3  # the dev server, the codec server, the browser and its driver
    process.send_signal(how)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert [pid for pid in children if alive(pid)] == []
    document = json.loads((out / "results.json").read_text())
    assert document["interrupted"] is True
    assert document["layers"]["reading"]["status"] == "interrupted"
    assert _reading_cases(out)  # what was read before the signal is kept


def test_an_existing_codec_server_is_read_through_with_codec_endpoint(
    dev_server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(*next(iter(KEYS.items())))
    out = tmp_path / "run"
    with library_server(SPEC, {**os.environ, **KEYS}) as url:
        cluster = ["--address", dev_server.address, "--codec-endpoint", url]
        assert main([*RUN, *cluster, "--out", str(out)]) == 0
    samples = _reading_cases(out)[LABEL]["samples"]
    assert samples["errors"] == 0, samples["first_error"]
    assert samples["show_requests"] == [9, 9]  # counted by that server's own /metrics


def test_histories_are_cut_to_what_the_server_keeps_and_a_corpus_it_cannot_hold_skips_the_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user's corpus of 1-2 MiB payloads with --no-client: histories of 100 such payloads
    passed the server's 50 MiB history limit and failed the run. Now each history is cut to
    what stays within 32 MiB, the run says so and completes; a corpus with no payload a history
    can carry skips the layer with one line, the run still succeeding."""
    big = tmp_path / "big.corpus"
    assert (
        main(["corpus", "generate", "--count", "6", "--buckets", "1-2MiB", "--out", str(big)]) == 0
    )
    out = tmp_path / "run"
    # The baseline alone: the histories' size is the corpus's, whatever a codec makes of it.
    argv = ["run", "--codec", "none", "--corpus", str(big), "--rounds", "1", "--no-client"]
    assert main([*argv, "--reading-rounds", "1", "--no-ui", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    [line] = [x for x in err.splitlines() if "instead of 100" in x]
    assert line.startswith("codec-bench: warning: reading layer: histories of ")
    document = json.loads((out / "results.json").read_text())
    reading = document["layers"]["reading"]
    assert reading["status"] == "complete"
    assert "instead of 100" in reading["fitted"]
    histories = [c["samples"] for c in document["cases"] if "history_bytes" in c["samples"]]
    assert 0 < max(samples["history_bytes"] for samples in histories) < 50 << 20

    huge = tmp_path / "huge.corpus"
    with CorpusWriter(huge, {"kind": "test"}) as writer:
        for _ in range(2):
            writer.write(Payload(metadata={"encoding": b"binary/plain"}, data=bytes(3 << 20)))
    out = tmp_path / "huge-run"
    argv = ["run", "--codec", "zstd:3", "--corpus", str(huge), "--rounds", "1", "--no-client"]
    assert main([*argv, "--no-ui", "--out", str(out)]) == 0
    [line] = [x for x in capsys.readouterr().err.splitlines() if "reading layer" in x]
    assert "not run" in line
    assert "over the server's" in line
    status = json.loads((out / "results.json").read_text())["layers"]["reading"]["status"]
    assert status.startswith("not run (2 of corpus huge's payloads are over")


def test_a_dead_codec_server_stops_the_reading_layer_as_an_infrastructure_failure(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    argv = ["run", "--codec", SPEC, "--corpus", "histories", "--rounds", "1", "--no-client"]
    argv += ["--reading-rounds", "1000", "--history-size", "10", "--no-ui", "--out", str(out)]
    process = start_cli(argv, env=KEYS, stdout=subprocess.DEVNULL)
    wait_for(process, "reading round")
    children = descendants(process.pid)
    [server] = [
        pid
        for pid in children
        if b"payload_codecs.server._cli" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    os.kill(server, signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    [line] = [x for x in err.splitlines() if x.startswith("codec-bench: error:")]
    assert f"reading layer stopped: the codec server for {LABEL} pid {server} exited" in line
    assert [pid for pid in children if alive(pid)] == []
    status = json.loads((out / "results.json").read_text())["layers"]["reading"]["status"]
    assert status.startswith("failed (infrastructure): the codec server for")
