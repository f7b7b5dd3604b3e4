"""The client layer against a real server: results, history sizes, and no process left behind
after a normal end, Ctrl-C, or a worker killed mid-run."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bench.cli import main
from bench.corpus import synthetic
from bench.temporal import devserver
from bench.temporal.devserver import DevServer
from temporalio.client import Client

from payload_codecs import CorpusWriter
from tests.processes import alive, start_embedded_run, wait_for

pytestmark = pytest.mark.temporal
ROOT = Path(__file__).resolve().parents[2]


FAST = ["--rounds", "1", "--client-rounds", "2", "--client-per-bucket", "1", "--concurrency", "2"]
FAST += ["--no-reading"]  # tests/layers/test_reading.py reads histories
FAST += ["--no-storage"]  # tests/temporal/test_objectstore.py offloads


def test_a_short_run_writes_the_client_section_and_true_history_sizes(
    dev_server: DevServer, tiny_corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                "--codec",
                "zstd:3",
                "--corpus",
                str(tiny_corpus),
                *FAST,
                "--address",
                dev_server.address,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    document = json.loads((out / "results.json").read_text())
    assert document["layers"]["client"]["status"] == "complete"
    assert document["layers"]["client"]["server"] == f"existing cluster at {dev_server.address}"
    clients = {c["codec"]: c for c in document["cases"] if c["layer"] == "client"}
    assert set(clients) == {"none (A)", "none (B)", "zstd:3@zstandard"}

    async def described(workflow_id: str) -> int:
        client = await Client.connect(dev_server.address)
        info = await client.get_workflow_handle(workflow_id).describe()
        return int(info.raw_info.history_size_bytes)

    for case in clients.values():
        samples = case["samples"]
        assert len(samples["latency_ns"]) == 2
        assert all(ns > 0 for ns in samples["latency_ns"][-1])
        assert samples["errors"] == 0
        sizes = [asyncio.run(described(wid)) for wid in samples["workflow_ids"]]
        assert sizes == samples["history_bytes"][-1]
        assert case["summary"]["all"]["throughput_wps"]["median"] > 0
    _assert_paired_with_stages(clients, dev_server.address)
    # Compression shrinks what the server stores.
    assert (
        clients["zstd:3@zstandard"]["summary"]["all"]["history_bytes_per_workflow"]
        < clients["none (A)"]["summary"]["all"]["history_bytes_per_workflow"]
    )
    report = (out / "report.md").read_text()
    assert "Client path: each sampled payload" in report
    assert "![Client path latency and stored history" in report
    assert "Round trip against the baseline, tested" in report
    assert "Where the time goes" in report
    assert (out / "stages-tiny.png").exists()


def _assert_paired_with_stages(clients: dict[str, Any], address: str) -> None:
    """Payload by payload, every codec in turn (their start times interleave so), and each
    workflow's stages adding up to its round trip."""
    starts = []
    for case in clients.values():
        for position, workflow_id in enumerate(case["samples"]["workflow_ids"]):
            starts.append((asyncio.run(_started(address, workflow_id)), position))
    assert [position for _, position in sorted(starts)] == sorted(p for _, p in starts)
    for case in clients.values():
        samples = case["samples"]
        assert samples["paired"] is True
        for latencies, stages in zip(samples["latency_ns"], samples["stage_ns"], strict=True):
            for latency, parts in zip(latencies, stages, strict=True):
                assert len(parts) == 8
                assert min(parts) >= 0
                assert abs(sum(parts) - latency) < 5e6  # two clocks read at the same points
        assert set(case["summary"]["all"]["stage_ms"]) >= {"start", "activity", "result back"}


async def _started(address: str, workflow_id: str) -> float:
    client = await Client.connect(address)
    info = await client.get_workflow_handle(workflow_id).describe()
    assert info.start_time is not None
    return info.start_time.timestamp()


def _finish(process: subprocess.Popen[str]) -> str:
    _, err = process.communicate(timeout=120)
    return err


def test_no_process_is_left_after_a_normal_end(tiny_corpus: Path, tmp_path: Path) -> None:
    process, server, worker = start_embedded_run(tiny_corpus, tmp_path / "run", *FAST)
    _finish(process)
    assert process.returncode == 0
    assert not alive(server)
    assert not alive(worker)


def test_no_process_is_left_after_ctrl_c(tiny_corpus: Path, tmp_path: Path) -> None:
    process, server, worker = start_embedded_run(
        tiny_corpus, tmp_path / "run", "--rounds", "1", "--client-rounds", "1000"
    )
    wait_for(process, "client round")
    process.send_signal(signal.SIGINT)
    err = _finish(process)
    assert process.returncode == 130, err
    assert not alive(server)
    assert not alive(worker)
    document = json.loads((tmp_path / "run" / "results.json").read_text())
    assert document["interrupted"] is True
    assert document["layers"]["client"]["status"] == "interrupted"


def test_a_worker_killed_mid_run_stops_the_run_cleanly(tiny_corpus: Path, tmp_path: Path) -> None:
    process, server, worker = start_embedded_run(
        tiny_corpus, tmp_path / "run", "--rounds", "1", "--client-rounds", "1000"
    )
    wait_for(process, "client round")
    os.kill(worker, signal.SIGKILL)
    err = _finish(process)
    assert process.returncode == 1
    assert f"client layer stopped: worker pid {worker} exited with code -9" in err
    assert not alive(server)
    document = json.loads((tmp_path / "run" / "results.json").read_text())
    assert document["layers"]["client"]["status"].startswith("failed (infrastructure): worker pid")
    assert any(c["layer"] == "codec" for c in document["cases"])  # in-process results kept


def test_a_busy_port_is_retried_on_fresh_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    busy = holder.getsockname()[1]
    real = devserver.free_ports
    calls: list[list[int]] = []

    def first_busy(count: int) -> list[int]:
        ports = [busy, *real(count - 1)] if not calls else real(count)
        calls.append(ports)
        return ports

    monkeypatch.setattr(devserver, "free_ports", first_busy)
    try:
        with DevServer(startup_timeout=20) as server:
            assert len(calls) >= 2
            assert server.address != f"127.0.0.1:{busy}"
    finally:
        holder.close()


def test_grpc_compression_both_measures_every_codec_over_each_transport(
    dev_server: DevServer, tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["run", "--codec", "zstd:3", "--corpus", str(tiny_corpus), *FAST]
    cluster = ["--address", dev_server.address, "--grpc-compression", "both"]
    assert main([*argv, *cluster, "--out", str(out)]) == 0
    joins = [x for x in capsys.readouterr().err.splitlines() if "more workers may join" in x]
    assert len(joins) == 2  # one worker per transport, each with its own task queues
    assert "--grpc-compression" not in joins[0]
    assert "--grpc-compression none" in joins[1]
    document = json.loads((out / "results.json").read_text())
    assert document["layers"]["client"]["grpc_compression"] == "gzip, none"
    clients = {(c["codec"], c["variant"]): c for c in document["cases"] if c["layer"] == "client"}
    codecs = {"none (A)", "none (B)", "zstd:3@zstandard"}
    assert set(clients) == {(c, v) for c in codecs for v in ("", "grpc none")}
    for (codec, _), case in clients.items():
        assert case["samples"]["errors"] == 0, (codec, case["samples"]["first_error"])
    # The transport changes the wire, not what the server stores (but for the other transport's
    # longer task-queue name, which every history repeats in a few events).
    for codec in codecs:
        stored = [clients[codec, v]["samples"]["history_bytes"][-1] for v in ("", "grpc none")]
        assert stored[0] == pytest.approx(stored[1], abs=200)
    assert "| none (A) |" in (out / "report.md").read_text().split("Transport: every codec")[1]


def test_a_payload_over_the_blob_limit_fails_inline_and_compression_lets_it_through(
    dev_server: DevServer, tmp_path: Path
) -> None:
    """3 MiB of JSON: over the server's 2 MiB blob limit as it is, under it once zstd:3 has
    compressed it. The failure is a measured outcome with the server's own words, not a crash
    of the run, even when the warm-up pass meets it first."""
    corpus = tmp_path / "over.corpus"
    rng = random.Random(5)
    with CorpusWriter(corpus, {"kind": "test"}) as writer:
        writer.write(synthetic.json_records(rng, 3 << 20))
    out = tmp_path / "run"
    argv = ["run", "--codec", "zstd:3", "--corpus", str(corpus), *FAST]
    assert main([*argv, "--address", dev_server.address, "--out", str(out)]) == 0
    document = json.loads((out / "results.json").read_text())
    assert document["layers"]["client"]["status"] == "complete"
    clients = {c["codec"]: c["samples"] for c in document["cases"] if c["layer"] == "client"}
    for plain in ("none (A)", "none (B)"):
        assert clients[plain]["errors"] == 2  # one workflow in each of two rounds
        assert "Blob data size exceeds limit" in clients[plain]["first_error"]
    assert clients["zstd:3@zstandard"]["errors"] == 0
    assert "Blob data size exceeds limit" in (out / "report.md").read_text()
