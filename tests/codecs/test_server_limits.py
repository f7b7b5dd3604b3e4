"""The codec server under hostile and heavy requests: a request's payloads are bounded in what
they decode to in all, not only one by one; decoding runs off the event loop, so ``/health``
answers while a large request decodes; and a server with as many requests in progress as it
allows answers the next one 503 with ``Retry-After`` rather than taking it on."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from bench.temporal.codecserver import serving_process
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from payload_codecs import CodecOptions, Keyring, from_spec
from payload_codecs.server import Limits, ServerConfig, create_app

MIB = 1 << 20


def _body(payloads: Sequence[Payload]) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


def _zeros(count: int, mib: int) -> list[Payload]:
    """``count`` zstd payloads that each decode to ``mib`` MiB (a few KiB each on the wire)."""
    return from_spec("zstd:3").encode_sync([Payload(data=bytes(mib * MIB))]) * count


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith(f"{field}:"))
    return int(line.split()[1])


async def test_a_request_decoding_to_more_than_its_total_is_refused_413_by_name() -> None:
    config = ServerConfig({"*": from_spec("zstd:3")}, limits=Limits(max_request_decoded_bytes=MIB))
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as client:
        two = _zeros(2, 1)[0].data  # each payload alone is within the 64 MiB per payload
        fits = [Payload(metadata={"encoding": b"binary/zstd"}, data=two)]
        assert (await client.post("/decode", content=_body(fits))).status_code == 413
        small = from_spec("zstd:3").encode_sync([Payload(data=bytes(400 << 10))])
        answer = await client.post("/decode", content=_body(small * 2))
        assert answer.status_code == 200
        answer = await client.post("/decode", content=_body(small * 3))
        assert answer.status_code == 413
        assert "decode to more than 1,048,576 bytes in all" in answer.json()["error"]


class _Gate(PayloadCodec):
    """A codec of the caller's own that holds every request until the gate opens."""

    def __init__(self) -> None:
        self.entered = 0
        self.gate = asyncio.Event()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.entered += 1
        await self.gate.wait()
        return list(payloads)


async def test_a_full_server_answers_503_with_retry_after_and_then_serves_again() -> None:
    gate = _Gate()
    config = ServerConfig({"*": gate}, limits=Limits(max_concurrent_requests=2, retry_after_s=3))
    transport = httpx.ASGITransport(app=create_app(config))
    body = _body([Payload(data=b"x")])
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as client:
        held = [asyncio.create_task(client.post("/decode", content=body)) for _ in range(2)]
        while gate.entered < 2:
            await asyncio.sleep(0.01)
        refused = await client.post("/decode", content=body)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "3"
        assert "busy" in refused.json()["error"]
        assert (await client.get("/health")).status_code == 200
        gate.gate.set()
        assert [(await task).status_code for task in held] == [200, 200]
        assert (await client.post("/decode", content=body)).status_code == 200
        metrics = (await client.get("/metrics")).text
    assert 'status="503"} 1.0' in metrics


def test_limits_are_checked_when_configured() -> None:
    with pytest.raises(ValueError, match="max_concurrent_requests must be 1 or more"):
        Limits(max_concurrent_requests=0)


Running = tuple[str, "subprocess.Popen[bytes]"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    argv = ["payload_codecs.server._cli", "--spec", "zstd:3"]
    with serving_process(argv, dict(os.environ), log=tmp_path / "server.log") as running:
        yield running


def test_six_payloads_of_60_mib_are_refused_with_the_server_staying_small(server: Running) -> None:
    """Each is under the 64 MiB per payload; together they are 360 MiB, which took a server
    that bounded payloads one by one from 64 MiB to 2.2 GiB. Now the request is refused once
    its payloads pass 64 MiB in all, its peak within the limit and the copies decoding
    makes."""
    url, process = server
    before = _status_kib(process.pid, "VmHWM") * 1024
    answer = httpx.post(f"{url}/decode", content=_body(_zeros(6, 60)), timeout=120)
    assert answer.status_code == 413
    assert "in all" in answer.json()["error"]
    growth = _status_kib(process.pid, "VmHWM") * 1024 - before
    assert growth < 4 * Limits.max_request_decoded_bytes


async def test_health_answers_while_a_large_request_decodes(server: Running) -> None:
    """40 payloads decoding to 60 MiB in all, answered as 80 MiB of base64 JSON: seconds of
    work, during which ``/health`` keeps answering (decoding on the event loop held it for the
    whole request)."""
    url, _ = server
    body = _body(_zeros(40, 1) + _zeros(1, 20))
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        large = asyncio.create_task(client.post("/decode", content=body))
        answered = []
        while not large.done():
            started = time.perf_counter()
            assert (await client.get("/health")).status_code == 200
            answered.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
        assert (await large).status_code == 200
    assert len(answered) >= 5, f"/health answered {len(answered)} times during the request"


SPECS = ["snappy", "snappy@cramjam-raw", "zstd", "zstd@cramjam", "lz4", "lz4@cramjam", "gzip"]
SPECS += ["gzip@cramjam", "zlib", "zstd+aes256gcm"]


@pytest.mark.parametrize("spec", SPECS)
def test_no_payload_makes_the_server_answer_500(spec: str) -> None:
    """A payload's fault is a 4xx, whatever its bytes: 200 single-bit flips, cuts and random
    tails of a real payload, each in a request of its own."""
    keyring = Keyring.generate("k")
    codec = from_spec(spec, keyring=keyring, options=CodecOptions(keep_if_not_smaller=False))
    [good] = codec.encode_sync([Payload(data=b'{"order": 1, "items": [1, 2, 3]}' * 200)])
    rng = random.Random(spec)
    bodies = []
    for _ in range(200):
        data = bytearray(good.data)
        kind = rng.randrange(3)
        if kind == 0:
            bit = rng.randrange(len(data) * 8)
            data[bit // 8] ^= 1 << (bit % 8)
        elif kind == 1:
            del data[rng.randrange(len(data)) :]
        else:
            data += rng.randbytes(rng.randrange(1, 64))
        bodies.append(_body([Payload(metadata=good.metadata, data=bytes(data))]))

    async def statuses() -> set[int]:
        transport = httpx.ASGITransport(app=create_app(ServerConfig({"*": codec})))
        async with httpx.AsyncClient(transport=transport, base_url="http://codec") as client:
            return {(await client.post("/decode", content=body)).status_code for body in bodies}

    assert all(status == 200 or 400 <= status < 500 for status in asyncio.run(statuses()))
