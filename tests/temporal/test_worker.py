"""The worker command line a run prints joins that run's cluster, namespace and task queues when
copied into another shell; the cluster flags survive the trip to argv and back."""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.cli import main
from bench.cluster import ClusterOptions
from bench.commands.common import add_cluster_arguments, cluster_options
from bench.temporal.devserver import DevServer
from bench.temporal.workflows import RoundTripWorkflow
from temporalio.client import Client
from temporalio.common import RawValue
from temporalio.converter import DataConverter

from payload_codecs import Keyring, data_converter
from tests.processes import ROOT

NAMESPACE = "codec-bench-elsewhere"
SPEC = "zstd:3+aes256gcm"


def test_cluster_flags_round_trip_through_argv(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_cluster_arguments(parser)
    options = ClusterOptions(
        address="temporal.internal:7233",
        namespace="team-a",
        tls=True,
        tls_cert=tmp_path / "client.pem",
        tls_key=tmp_path / "client.key",
        tls_ca=tmp_path / "ca.pem",
        api_key="secret-api-key",
    )
    again = cluster_options(parser.parse_args(options.to_argv()))
    assert again == ClusterOptions(**{**options.__dict__, "api_key": None})
    assert "secret-api-key" not in " ".join(options.to_argv())
    assert "secret-api-key" not in repr(options)
    assert options.shell().startswith("TEMPORAL_API_KEY=... ")


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[DevServer]:
    with DevServer(namespace=NAMESPACE) as server:
        yield server


@pytest.mark.temporal
def test_the_printed_worker_command_joins_the_run(
    elsewhere: DevServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    keys = f"k1={base64.b64encode(os.urandom(32)).decode()}"
    monkeypatch.setenv("PAYLOAD_CODEC_KEYS", keys)
    run = ["run", "--codec", SPEC, "--corpus", "sizes", "--rounds", "1", "--out", str(tmp_path)]
    client = ["--client-rounds", "1", "--client-per-bucket", "1", "--concurrency", "1"]
    client += ["--no-reading", "--no-storage"]  # one route, so one worker line to follow
    cluster = ["--address", elsewhere.address, "--namespace", NAMESPACE]
    assert main([*run, *client, *cluster, "--force"]) == 0
    [line] = [x for x in capsys.readouterr().err.splitlines() if "more workers may join" in x]
    assert "ADDRESS" not in line
    command = shlex.split(line.split("python ", 1)[1])
    assert command[:2] == ["-m", "bench.commands.worker"]
    assert command[command.index("--namespace") + 1] == NAMESPACE
    joined = subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env={**os.environ, "PAYLOAD_CODEC_KEYS": keys, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert joined.stdout is not None
        assert json.loads(joined.stdout.readline())["ready"] is True
        prefix = command[command.index("--task-queue-prefix") + 1]
        codecs = [command[i + 1] for i, flag in enumerate(command) if flag == "--codec"]
        _round_trip_through(elsewhere, f"{prefix}-{codecs.index(SPEC)}", keys)
    finally:
        joined.communicate("exit\n", timeout=30)


def _round_trip_through(server: DevServer, task_queue: str, keys: str) -> None:
    """A workflow on the run's task queue, in its namespace, under its codec and keys, answered
    by the joined worker alone (the run and its own worker have ended)."""
    import asyncio

    key_id, _, key = keys.partition("=")
    converter = data_converter(SPEC, keyring=Keyring({key_id: base64.b64decode(key)}, key_id))
    [payload] = DataConverter.default.payload_converter.to_payloads([{"joined": True}])

    async def go() -> RawValue:
        client = await Client.connect(server.address, namespace=NAMESPACE, data_converter=converter)
        result: RawValue = await client.execute_workflow(
            RoundTripWorkflow.run,
            RawValue(payload),
            id=f"joined-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        return result

    assert asyncio.run(go()).payload == payload


def test_the_worker_module_earlier_runs_printed_still_starts_the_worker_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.temporal.worker", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--task-queue-prefix" in done.stderr  # stdout is kept for the answers
