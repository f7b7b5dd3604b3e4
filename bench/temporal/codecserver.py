"""The library's codec server (``payload-codec-server``) as a child process on a free loopback
port, for the layers and probes that read through it; always stopped, on errors and interrupts
too. Its ``/metrics`` say what the CLI or the UI asked of it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench.temporal.devserver import free_ports
from bench.temporal.processes import Watched, spawn, stop

READY_TIMEOUT_S = 30.0


class CodecServerError(RuntimeError):
    """The codec server did not start."""


def answers(url: str) -> bool:
    """Whether an HTTP server listens at ``url`` (``http://HOST:PORT``): ``GET /health``
    answered with any status (the library's server says 200 and logs no codec request; a
    sample server without the route says 404, and is up all the same)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serving(
    module_argv: Sequence[str],
    env: Mapping[str, str],
    *,
    log: Path | None = None,
) -> Iterator[str]:
    """Run ``python -m MODULE ...`` with ``--port`` appended; yield its base URL once it
    answers. ``log`` takes its stderr (the library's server writes one JSON line a request)."""
    with serving_process(module_argv, env, log=log) as (url, _):
        yield url


@contextmanager
def serving_process(
    module_argv: Sequence[str],
    env: Mapping[str, str],
    *,
    log: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """:func:`serving`, with the server's process (to read what it costs)."""
    [port] = free_ports(1)
    sink = log.open("wb") if log is not None else None
    try:
        process = spawn(
            [sys.executable, "-m", *module_argv, "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink if sink is not None else subprocess.DEVNULL,
        )
    finally:
        if sink is not None:
            sink.close()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not answers(url):
            if process.poll() is not None:
                raise CodecServerError(f"the codec server {module_argv[0]} exited at start")
            if time.monotonic() > deadline:
                raise CodecServerError(f"no codec server answered at {url} within 30 s")
            time.sleep(0.1)
        yield url, process
    finally:
        stop(process)


@contextmanager
def library_server(
    spec: str,
    env: Mapping[str, str],
    *,
    origins: Sequence[str] = (),
    log: Path | None = None,
    watched: list[Watched] | None = None,
    flags: Sequence[str] = (),
) -> Iterator[str]:
    """``payload-codec-server --spec SPEC`` allowing the Web UI ``origins`` (CORS), with any
    other ``flags`` (``--workers 2``); its process goes into ``watched`` for a layer to
    watch."""
    argv = ["payload_codecs.server._cli", "--spec", spec, *flags]
    for origin in origins:
        argv += ["--origin", origin]
    with serving_process(argv, env, log=log) as (url, process):
        if watched is not None:
            watched.append(Watched(process, f"the codec server for {spec}"))
        yield url


def metrics_text(url: str) -> str:
    """The Prometheus text of the codec server at ``url``."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:
        return str(answer.read().decode())


def decode_counters(metrics_text: str) -> tuple[int, int]:
    """``(requests, payload bytes in)`` of ``/decode`` so far, from the server's Prometheus
    text: what one reading cost is the difference of two readings of these."""
    requests = received = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.labels.get("endpoint") != "decode":
                continue
            if sample.name == "codec_server_requests_total":
                requests += sample.value
            elif sample.name == "codec_server_payload_bytes_total" and (
                sample.labels.get("direction") == "in"
            ):
                received += sample.value
    return int(requests), int(received)


async def decode_load(
    url: str, body: bytes, concurrency: int, requests: int
) -> tuple[float, list[float]]:
    """POST ``body`` to the decode endpoint ``url`` ``requests`` times with ``concurrency`` in
    flight: requests per second and each request's latency in seconds."""
    import aiohttp  # only the runs that load a codec server need it

    latencies: list[float] = []
    queue = iter(range(requests))
    headers = {"Content-Type": "application/json", "X-Namespace": "default"}

    async def worker(session: aiohttp.ClientSession) -> None:
        for _ in queue:
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as answer:
                await answer.read()
                if answer.status != 200:
                    raise CodecServerError(f"{url} answered {answer.status}")
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return requests / wall, latencies


_WRK_SCRIPT = """
local file = io.open(os.getenv("CODEC_BENCH_BODY"), "rb")
wrk.body = file:read("*a")
file:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Namespace"] = "default"
"""
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk_load(url: str, body: bytes, concurrency: int, seconds: float) -> tuple[float, float, float]:
    """POST ``body`` to ``url`` for ``seconds`` with ``concurrency`` connections through wrk
    (one thread: a C client that leaves the server most of the machine, where an asyncio client
    in Python took a core of its own): requests per second, p50 and p99 in milliseconds.
    ``CodecServerError`` when wrk is missing or any answer was not 2xx."""
    if shutil.which("wrk") is None:
        raise CodecServerError("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as folder:
        body_path, script = Path(folder, "body.json"), Path(folder, "post.lua")
        body_path.write_bytes(body)
        script.write_text(_WRK_SCRIPT)
        # wrk takes whole seconds; its -c of 1 keeps one request in flight.
        argv = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency"]
        done = subprocess.run(
            [*argv, "-s", str(script), url],
            env={**os.environ, "CODEC_BENCH_BODY": str(body_path)},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode != 0 or rate is None or "Non-2xx" in out:
        raise CodecServerError(f"wrk against {url} failed: {(out + done.stderr)[-300:]}")
    quantiles = {
        q: float(value) * _UNITS_MS[unit]
        for q, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    return float(rate[1]), quantiles.get("50", float("nan")), quantiles.get("99", float("nan"))
