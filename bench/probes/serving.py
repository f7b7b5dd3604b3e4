"""``/decode`` over HTTP: the library's codec server against a minimal codec server written the
way the Temporal Python sample writes one (aiohttp, one handler per endpoint, no limits, no
auth), both in their own process on loopback, loaded by one client in this process.

Requests/s and per-request latency by payload size and concurrency. Servers alternate round by
round, so drift on a shared machine hits both alike; the client shares the machine's cores with
the server it loads, as a browser on an operator's laptop would not.
"""

from __future__ import annotations

import base64
import contextlib
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
ONE_PROCESS = "payload-codec-server, one process"
"""Beside a ``--workers N`` server, the same server with one process: the scaling figure."""


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
    if kind == SERVERS[1]:
        return serving(["bench.probes.serving", spec], env)
    return library_server(spec, env, flags=flags)


def measure(
    spec: str,
    shapes: Sequence[Shape],
    concurrencies: Sequence[int],
    seconds: float,
    rounds: int,
    *,
    flags: Sequence[str] = (),
    workers: int = 1,
) -> list[Load]:
    """Every server, request shape and concurrency, loaded by wrk; rounds alternate the
    servers. Per cell: the median over rounds of requests/s, p50 and p99. ``flags`` go to
    ``payload-codec-server`` (``--no-access-log``); with ``workers`` over 1 it runs that many
    processes, and the same server with one process is measured beside it."""
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
    servers = {
        SERVERS[0]: [*(["--workers", str(workers)] if workers > 1 else []), *flags],
        SERVERS[1]: [],
        **({ONE_PROCESS: list(flags)} if workers > 1 else {}),
    }
    found: dict[tuple[str, Shape, int], list[tuple[float, float, float]]] = {}
    with contextlib.ExitStack() as running:
        urls = {
            server: f"{running.enter_context(_server(server, spec, env, argv))}/default/decode"
            for server, argv in servers.items()
        }
        for round_index in range(rounds):
            order = list(servers) if round_index % 2 == 0 else list(servers)[::-1]
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
