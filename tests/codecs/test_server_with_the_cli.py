"""The codec server with the real Temporal CLI: `temporal workflow show --codec-endpoint` shows
the plaintext of an encrypted, compressed history, with and without token auth."""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.layers.reading import show_command
from bench.temporal.codecserver import serving_process
from bench.temporal.devserver import DevServer
from bench.temporal.kms import local_kms

from payload_codecs import data_converter
from tests.temporal.codec_server import KEYS_ENV, SPEC, codec_server, run_echo

pytestmark = pytest.mark.temporal

MARKER = "CLI-PLAINTEXT-51c2"
TOKEN = "cli-test-token-9f"


def _plaintexts(output: str) -> list[str]:
    """Every payload ``data`` in the CLI's JSON history, base64-decoded."""

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "data" and isinstance(value, str):
                    try:
                        yield base64.b64decode(value).decode("utf-8", "replace")
                    except binascii.Error:
                        continue
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    return list(walk(json.loads(output)))


def _show(server: DevServer, workflow_id: str, *codec: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*show_command(server.address, "default", workflow_id), *codec],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_cli_shows_plaintext_through_the_codec_server(
    dev_server: DevServer, tmp_path: Path
) -> None:
    workflow_id, _ = await run_echo(dev_server, {"marker": MARKER})
    stored = _show(dev_server, workflow_id)
    assert stored.returncode == 0, stored.stderr
    assert not [text for text in _plaintexts(stored.stdout) if MARKER in text]  # encrypted

    with codec_server("--spec", "zstd:3+aes256gcm", log=tmp_path / "server.log") as served:
        shown = _show(dev_server, workflow_id, "--codec-endpoint", f"{served.url}/{{namespace}}")
    assert shown.returncode == 0, shown.stderr
    assert MARKER not in served.log.read_text()  # the access log holds no payload data
    shown_values = [json.loads(t) for t in _plaintexts(shown.stdout) if MARKER in t]
    # the workflow's input and result, the activity's input and result
    assert shown_values == [{"marker": MARKER}] * 4


async def test_token_auth_lets_the_right_token_through_and_the_cli_fails_on_a_wrong_one(
    dev_server: DevServer, tmp_path: Path
) -> None:
    """The CLI retries a refused codec call until its deadline and then prints "context
    deadline exceeded", not the status: the server's access log shows the 401s it answered."""
    workflow_id, _ = await run_echo(dev_server, {"marker": MARKER})
    tokens = {"PAYLOAD_CODEC_SERVER_TOKENS": TOKEN}
    outcomes = {}
    for name, auth in (("right", [f"Bearer {TOKEN}"]), ("wrong", ["Bearer not-it"]), ("none", [])):
        log = tmp_path / f"{name}.log"
        with codec_server("--spec", SPEC, "--auth", "token", log=log, env=tokens) as served:
            codec = ["--codec-endpoint", f"{served.url}/{{namespace}}"]
            shown = _show(
                dev_server, workflow_id, *codec, *(["--codec-auth", *auth] if auth else [])
            )
        outcomes[name] = (shown, set(served.statuses()))
    shown, statuses = outcomes["right"]
    assert shown.returncode == 0, shown.stderr
    assert any(MARKER in text for text in _plaintexts(shown.stdout))
    assert statuses == {200}
    for name in ("wrong", "none"):
        refused, statuses = outcomes[name]
        assert refused.returncode != 0, name
        assert not refused.stdout.strip(), name
        assert statuses == {401}, name


async def test_the_cli_reads_an_envelope_encrypted_history_through_a_kms_backed_codec_server(
    dev_server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker, client and codec server each reach the same KMS (moto's, on loopback) through the
    standard AWS variables; when the KMS goes away, the server answers 503 and shows nothing."""
    spec = "zstd:3+envelope@aws-kms"
    with local_kms() as kms:
        for name, value in kms.env.items():
            monkeypatch.setenv(name, value)
        workflow_id, _ = await run_echo(dev_server, {"marker": MARKER}, data_converter(spec))
        stored = _show(dev_server, workflow_id)
        assert stored.returncode == 0, stored.stderr
        assert not [text for text in _plaintexts(stored.stdout) if MARKER in text]
        with codec_server("--spec", spec, log=tmp_path / "server.log", env=kms.env) as served:
            endpoint = ["--codec-endpoint", f"{served.url}/{{namespace}}"]
            shown = _show(dev_server, workflow_id, *endpoint)
            assert shown.returncode == 0, shown.stderr
            shown_values = [json.loads(t) for t in _plaintexts(shown.stdout) if MARKER in t]
            assert shown_values == [{"marker": MARKER}] * 4
            assert kms.proxy.calls.take()["Decrypt"] >= 1
            kms.process.kill()
            kms.process.wait()
            with codec_server("--spec", spec, log=tmp_path / "cold.log", env=kms.env) as cold:
                gone = _show(dev_server, workflow_id, "--codec-endpoint", f"{cold.url}/default")
            assert gone.returncode != 0
            assert MARKER not in gone.stdout
            assert 503 in cold.statuses()


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc: uvicorn's workers are spawned children)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


async def test_two_worker_processes_serve_the_cli_and_stop_with_the_server(
    dev_server: DevServer, tmp_path: Path
) -> None:
    """``--workers 2``: two processes behind one port decode for the CLI; ``--no-access-log``
    writes no request line; stopping the server stops both."""
    workflow_id, _ = await run_echo(dev_server, {"marker": MARKER})
    argv = ["payload_codecs.server._cli", "--spec", SPEC, "--workers", "2", "--no-access-log"]
    log = tmp_path / "server.log"
    with serving_process(argv, {**os.environ, **KEYS_ENV}, log=log) as (url, process):
        workers = _children(process.pid)
        shown = _show(dev_server, workflow_id, "--codec-endpoint", f"{url}/{{namespace}}")
    assert shown.returncode == 0, shown.stderr
    assert [json.loads(t) for t in _plaintexts(shown.stdout) if MARKER in t] == [
        {"marker": MARKER}
    ] * 4
    assert len(workers) >= 2
    assert '"endpoint"' not in log.read_text()
    deadline = time.monotonic() + 10  # a worker stopping with the server may take a moment
    while (running := [pid for pid in workers if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running == []


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs: not gone, and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
