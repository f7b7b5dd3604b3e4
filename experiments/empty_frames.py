"""The payload of issue 28: 2 MiB of concatenated empty frames (members, chunks), per family and
implementation, decoded directly (CPU time) and sent to the library's codec server
(``payload-codec-server --spec``, a child process on a free port) while another thread asks its
``/health`` every 20 ms: the request's status and time, and how late ``/health`` answered.

    python -m experiments.empty_frames

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
from bench.temporal.codecserver import serving_process
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from tests.codecs.costly import repeated

import payload_codecs
from payload_codecs import PayloadDecodeError, from_spec
from payload_codecs._compression import CorruptInput

SIZE = 2 << 20
EMPTY = {
    "snappy": "padding chunk",
    "zstd": "empty frame",
    "lz4": "empty frame",
    "gzip": "empty member",
    "zlib": "empty stream",
}


def _direct(spec: str, data: bytes) -> tuple[float, str]:
    [stage] = from_spec(spec).stages
    assert isinstance(stage, payload_codecs.CompressionStage)
    start = time.process_time()
    outcome = "decoded"
    try:
        stage.compressor.decompress(data, payload_codecs.MAX_DECODED_SIZE)
    except (CorruptInput, PayloadDecodeError) as error:
        outcome = type(error).__name__
    return time.process_time() - start, outcome


def _served(spec: str, payload: Payload, folder: Path) -> str:
    body = json_format.MessageToJson(Payloads(payloads=[payload]))
    argv = ["payload_codecs.server._cli", "--spec", spec]
    with serving_process(argv, dict(os.environ), log=folder / f"{spec}.log") as (url, _):
        done, late = threading.Event(), []

        def poll() -> None:
            with httpx.Client(base_url=url) as client:
                while not done.is_set():
                    started = time.perf_counter()
                    client.get("/health")
                    late.append(time.perf_counter() - started)
                    time.sleep(0.02)

        poller = threading.Thread(target=poll)
        poller.start()
        started = time.perf_counter()
        answer = httpx.post(f"{url}/decode", content=body, timeout=300)
        elapsed = time.perf_counter() - started
        done.set()
        poller.join()
    worst = max(late) * 1e3 if late else float("nan")
    return f"HTTP {answer.status_code} in {elapsed:.2f} s, /health at most {worst:.0f} ms late"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for family in payload_codecs.families():
            piece = EMPTY.get(family.name)
            if piece is None:
                continue
            data = repeated(family.name, [piece], SIZE)
            assert family.encoding is not None
            payload = Payload(metadata={"encoding": family.encoding.encode()}, data=data)
            for implementation in family.implementations:
                spec = f"{family.name}@{implementation}"
                seconds, outcome = _direct(spec, data)
                served = _served(spec, payload, Path(folder))
                print(
                    f"{spec:20} {len(data):,} bytes of {piece}s: {outcome} in {seconds:.3f} s "
                    f"CPU; codec server: {served}"
                )


if __name__ == "__main__":
    main()
