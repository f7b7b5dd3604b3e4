"""A run that is stopped or loses its server ends in one line, a non-zero exit, no child process
and no temporary file, and keeps what it measured."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from bench.cli import main
from bench.temporal.devserver import DevServer, free_ports
from temporalio.client import Client

from tests.processes import alive, descendants, start_cli, start_embedded_run, wait_for
from tests.protowalk import walk_payloads

pytestmark = pytest.mark.temporal


def _ended_cleanly(process: subprocess.Popen[str], server: int, worker: int, tmp: Path) -> str:
    _, err = process.communicate(timeout=120)
    errors = [line for line in err.splitlines() if line.startswith("codec-bench:")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    assert not alive(server)
    assert not alive(worker)
    assert list(tmp.iterdir()) == []  # dev server and worker logs removed
    return errors[0]


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


SLOW = ["--rounds", "1", "--client-rounds", "1000", "--client-per-bucket", "1"]


def test_sigterm_is_handled_like_ctrl_c(tiny_corpus: Path, tmp_path: Path, tmp: Path) -> None:
    process, server, worker = start_embedded_run(
        tiny_corpus, tmp_path / "run", *SLOW, env={"TMPDIR": str(tmp)}
    )
    wait_for(process, "client round")
    process.send_signal(signal.SIGTERM)
    line = _ended_cleanly(process, server, worker, tmp)
    assert process.returncode == 143
    assert "stopped by SIGTERM" in line
    document = json.loads((tmp_path / "run" / "results.json").read_text())
    assert document["interrupted"] is True
    assert any(case["layer"] == "codec" for case in document["cases"])


def test_a_dev_server_killed_mid_run_ends_the_run_cleanly(
    tiny_corpus: Path, tmp_path: Path, tmp: Path
) -> None:
    process, server, worker = start_embedded_run(
        tiny_corpus, tmp_path / "run", *SLOW, env={"TMPDIR": str(tmp)}
    )
    wait_for(process, "client round")
    os.killpg(server, signal.SIGKILL)
    line = _ended_cleanly(process, server, worker, tmp)
    assert process.returncode == 1
    assert f"client layer stopped: temporal dev server pid {server} exited" in line
    document = json.loads((tmp_path / "run" / "results.json").read_text())
    assert document["layers"]["client"]["status"].startswith(
        "failed (infrastructure): temporal dev server"
    )
    assert any(case["layer"] == "codec" for case in document["cases"])


def _child_running(parent: int, module: str) -> int:
    """The pid of the child of ``parent`` whose command line runs ``module``."""
    for pid in descendants(parent):
        with contextlib.suppress(OSError):
            if module in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode():
                return pid
    raise AssertionError(f"no child runs {module}")


def test_a_dead_s3_server_stops_the_client_layer_as_an_infrastructure_failure(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    """kill -9 of the run's S3 server once left the run going for 212 s, exiting 0 with the
    layer "complete" and the outage read as a property of the route. Now the layer stops at
    once with one line naming the component, the round it broke off is dropped, the rounds
    before are kept, the run exits 1, and nothing it started lives on."""
    out = tmp_path / "run"
    extra = ["--rounds", "1", "--client-rounds", "1000", "--storage-threshold", "1KiB"]
    process, _, _ = start_embedded_run(tiny_corpus, out, *extra)
    wait_for(process, "client round 2")
    children = descendants(process.pid)
    victim = _child_running(process.pid, "moto.server")
    os.kill(victim, signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    [line] = [x for x in err.splitlines() if x.startswith("codec-bench: error:")]
    named = "the local S3 server (moto)"
    assert f"client layer stopped: {named} pid {victim} exited with code -9" in line
    assert "the outage says nothing about the codecs" in line
    assert not [pid for pid in children if alive(pid)]
    document = json.loads((out / "results.json").read_text())
    client = document["layers"]["client"]
    assert client["status"].startswith(f"failed (infrastructure): {named}")
    cases = [c for c in document["cases"] if c["layer"] == "client"]
    rounds = {len(c["samples"]["latency_ns"]) for c in cases}
    assert len(rounds) == 1
    assert rounds.pop() >= 1  # the complete rounds are kept
    assert all(c["samples"]["errors"] == 0 for c in cases), "a failure of the outage was kept"


def test_a_closed_port_fails_fast_before_measuring(
    tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [port] = free_ports(1)
    out = tmp_path / "run"
    started = time.monotonic()
    argv = [
        "run",
        "--corpus",
        str(tiny_corpus),
        "--address",
        f"127.0.0.1:{port}",
        "--out",
        str(out),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    [line] = err.strip().splitlines()
    assert line.startswith(f"codec-bench: error: cannot reach Temporal at 127.0.0.1:{port}")
    assert "measuring" not in err
    assert time.monotonic() - started < 60
    assert not (out / "results.json").exists()


def test_a_dead_kms_stops_the_run_and_nothing_reached_the_server_in_clear(
    dev_server: DevServer, tiny_corpus: Path, tmp_path: Path
) -> None:
    """kill -9 of the run's KMS mid client layer: the layer stops at once as an infrastructure
    failure naming the KMS, and every payload that reached the server under envelope@aws-kms
    (its task queue holds any envelope-encrypted payload) is envelope-encrypted, in every
    workflow of that queue, including the one the outage broke off."""
    prefix = f"kms-gone-{uuid.uuid4().hex[:8]}"
    argv = ["run", "--codec", "envelope@aws-kms", "--corpus", str(tiny_corpus), "--no-reading"]
    argv += ["--rounds", "1", "--client-rounds", "1000", "--client-per-bucket", "1"]
    argv += ["--address", dev_server.address, "--task-queue-prefix", prefix, "--no-storage"]
    argv += ["--out", str(tmp_path / "run")]
    process = start_cli(argv, env={"PAYLOAD_CODEC_KMS_KEY_ID": ""}, stdout=subprocess.DEVNULL)
    seen = wait_for(process, "client round 1")
    [kms] = (int(p) for p in re.findall(r"started local KMS \(moto\) pid (\d+)", seen))
    children = descendants(process.pid)
    os.kill(kms, signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    [line] = [x for x in err.splitlines() if x.startswith("codec-bench: error:")]
    assert f"client layer stopped: the local KMS (moto) pid {kms} exited with code -9" in line
    assert not [pid for pid in children if alive(pid)]

    encodings = asyncio.run(_encodings_by_queue(dev_server.address, prefix))
    enveloped = [q for q, seen_ in encodings.items() if b"binary/encrypted-envelope" in seen_]
    assert len(enveloped) == 1, encodings
    assert encodings[enveloped[0]] == {b"binary/encrypted-envelope"}
    assert len(encodings) == 3  # none (A), none (B), envelope@aws-kms


async def _encodings_by_queue(address: str, prefix: str) -> dict[str, set[bytes]]:
    """Every stored payload's encoding, by the run's codec row (its task queue), over every
    workflow the run started on the dev server."""
    client = await Client.connect(address)
    found: dict[str, set[bytes]] = {}
    async for execution in client.list_workflows(f'WorkflowId STARTS_WITH "{prefix}-"'):
        row = execution.id.removeprefix(f"{prefix}-").split("-")[0]
        history = await client.get_workflow_handle(execution.id).fetch_history()
        for event in history.events:
            for payload in walk_payloads(event):
                found.setdefault(row, set()).add(payload.metadata.get("encoding", b""))
    return found
