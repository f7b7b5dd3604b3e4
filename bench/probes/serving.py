"""``/decode`` over HTTP: the library's codec server against a minimal codec server written the
way the Temporal Python sample writes one (aiohttp, one handler per endpoint, no limits, no
auth), both in their own process on loopback, loaded by one client in this process.

Requests/s and per-request latency by payload size and concurrency. Servers alternate round by
round, so drift on a shared machine hits both alike; the client shares the machine's cores with
the server it loads, as a browser on an operator's laptop would not.
"""

from __future__ import annotations

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
from bench.temporal.codecserver import library_server, serving, wrk_load

SERVERS = ("payload-codec-server", "aiohttp sample")


@dataclass(frozen=True)
class Shape:
    """One request: ``payloads`` encoded JSON payloads of ``size`` bytes each."""

    size: int
    payloads: int = 1

    @property
    def label(self) -> str:
        from bench.results.buckets import amount_of_bytes

        one = amount_of_bytes(self.size)
        return one if self.payloads == 1 else f"{self.payloads} x {one}"


@dataclass(frozen=True)
class Load:
    server: str
    shape: Shape
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


def _server(
    kind: str, spec: str, env: dict[str, str], flags: Sequence[str]
) -> AbstractContextManager[str]:
    if kind == SERVERS[0]:
        return library_server(spec, env, flags=flags)
    return serving(["bench.probes.serving", spec], env)


def measure(
    spec: str,
    shapes: Sequence[Shape],
    concurrencies: Sequence[int],
    seconds: float,
    rounds: int,
    *,
    flags: Sequence[str] = (),
) -> list[Load]:
    """Every server, request shape and concurrency, loaded by wrk; rounds alternate the
    servers. Per cell: the median over rounds of requests/s, p50 and p99. ``flags`` go to
    ``payload-codec-server`` (``--workers 2``, ``--no-access-log``)."""
    key = base64.b64encode(os.urandom(payload_codecs.KEY_SIZE)).decode()
    keyring = payload_codecs.Keyring.from_mapping({"bench": key})
    codec = payload_codecs.from_spec(spec, keyring=keyring)
    env = {**os.environ, "PAYLOAD_CODEC_KEYS": f"bench={key}"}
    bodies = {
        shape: json_format.MessageToJson(
            Payloads(payloads=codec.encode_sync([json_payload(shape.size)] * shape.payloads))
        ).encode()
        for shape in shapes
    }
    found: dict[tuple[str, Shape, int], list[tuple[float, float, float]]] = {}
    with (
        _server(SERVERS[0], spec, env, flags) as ours,
        _server(SERVERS[1], spec, env, ()) as sample,
    ):
        urls = {
            server: f"{url}/default/decode"
            for server, url in zip(SERVERS, (ours, sample), strict=True)
        }
        for round_index in range(rounds):
            order = SERVERS if round_index % 2 == 0 else SERVERS[::-1]
            for shape in shapes:
                for concurrency in concurrencies:
                    for server in order:
                        cell = (server, shape, concurrency)
                        load = wrk_load(urls[server], bodies[shape], concurrency, seconds)
                        found.setdefault(cell, []).append(load)
    return [
        Load(*cell, *(float(np.median([m[i] for m in measured])) for i in range(3)))
        for cell, measured in found.items()
    ]


if __name__ == "__main__":  # python -m bench.probes.serving SPEC --port PORT
    _serve_sample(int(sys.argv[3]), sys.argv[1])
