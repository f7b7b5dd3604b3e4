"""``/decode`` over HTTP: the library's codec server against a minimal codec server written the
way the Temporal Python sample writes one (aiohttp, one handler per endpoint, no limits, no
auth), both in their own process on loopback, loaded by one client in this process.

Requests/s and per-request latency by payload size and concurrency. Servers alternate round by
round, so drift on a shared machine hits both alike; the client shares the machine's cores with
the server it loads, as a browser on an operator's laptop would not.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
from aiohttp import web
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

import payload_codecs
from bench.corpus.synthetic import json_payload
from bench.temporal.codecserver import decode_load, library_server, serving

SERVERS = ("payload-codec-server", "aiohttp sample")


@dataclass(frozen=True)
class Load:
    server: str
    size: int
    concurrency: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float


def _sample_app(codec: payload_codecs.ChainCodec) -> web.Application:
    """What the Temporal Python sample's codec server does: parse, call the codec, answer."""

    def handler(decode: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            message = Payloads()
            json_format.Parse(await request.read(), message)
            work = codec.decode if decode else codec.encode
            answer = Payloads(payloads=await work(list(message.payloads)))
            return web.Response(
                text=json_format.MessageToJson(answer), content_type="application/json"
            )

        return handle

    app = web.Application(client_max_size=64 << 20)
    app.router.add_post("/{namespace}/decode", handler(True))
    app.router.add_post("/{namespace}/encode", handler(False))
    return app


def _serve_sample(port: int, spec: str) -> None:
    codec = payload_codecs.from_spec(spec, keyring=payload_codecs.Keyring.from_env())
    web.run_app(_sample_app(codec), host="127.0.0.1", port=port, print=None)


def _server(kind: str, spec: str, env: dict[str, str]) -> AbstractContextManager[str]:
    if kind == SERVERS[0]:
        return library_server(spec, env)
    return serving(["bench.probes.serving", spec], env)


def measure(
    spec: str, sizes: Sequence[int], concurrencies: Sequence[int], requests: int, rounds: int
) -> list[Load]:
    """Every server, size and concurrency; rounds alternate the servers. Per cell: the median
    requests/s over rounds, and latency percentiles over every request of every round."""
    key = base64.b64encode(os.urandom(payload_codecs.KEY_SIZE)).decode()
    keyring = payload_codecs.Keyring.from_mapping({"bench": key})
    codec = payload_codecs.from_spec(spec, keyring=keyring)
    env = {**os.environ, "PAYLOAD_CODEC_KEYS": f"bench={key}"}
    bodies = {
        size: json_format.MessageToJson(
            Payloads(payloads=codec.encode_sync([json_payload(size)]))
        ).encode()
        for size in sizes
    }
    rates: dict[tuple[str, int, int], list[float]] = {}
    latencies: dict[tuple[str, int, int], list[float]] = {}
    with _server(SERVERS[0], spec, env) as ours, _server(SERVERS[1], spec, env) as sample:
        urls = {
            server: f"{url}/default/decode"
            for server, url in zip(SERVERS, (ours, sample), strict=True)
        }
        for round_index in range(rounds):
            order = SERVERS if round_index % 2 == 0 else SERVERS[::-1]
            for size in sizes:
                for concurrency in concurrencies:
                    for server in order:
                        rate, times = asyncio.run(
                            decode_load(urls[server], bodies[size], concurrency, requests)
                        )
                        rates.setdefault((server, size, concurrency), []).append(rate)
                        latencies.setdefault((server, size, concurrency), []).extend(times)
    return [
        Load(
            *cell,
            float(np.median(rates[cell])),
            float(np.percentile(latencies[cell], 50) * 1e3),
            float(np.percentile(latencies[cell], 99) * 1e3),
        )
        for cell in rates
    ]


if __name__ == "__main__":  # python -m bench.probes.serving SPEC --port PORT
    _serve_sample(int(sys.argv[3]), sys.argv[1])
