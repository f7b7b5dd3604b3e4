"""A key management service for runs and tests of ``envelope@aws-kms``: moto's KMS server (a real
AWS KMS API) on a free loopback port with a key made for the run, behind a proxy that adds a
chosen delay to every KMS round trip and counts the calls by operation.

Real KMS calls take milliseconds to tens of milliseconds and moto answers in about one; the
delay stands in for the distance, so that a run can say what its codec would cost against a
KMS 5 or 50 ms away. Counting at the proxy counts every process's calls (the run's own codecs,
its worker, its codec servers) without touching any of them.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.temporal.objectstore import LOCAL_CREDENTIALS, moto_server
from bench.temporal.processes import Watched
from payload_codecs import KMS_KEY_ENV

KEY_ALIAS = "alias/codec-bench"
_TARGET = re.compile(rb"X-Amz-Target: TrentService\.(\w+)", re.IGNORECASE)
_CHUNK = 1 << 16


@dataclass
class KmsCalls:
    """KMS operations that passed the proxy, by name (``GenerateDataKey``, ``Decrypt``)."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, operations: list[bytes]) -> None:
        with self.lock:
            self.counts.update(op.decode() for op in operations)

    def take(self) -> dict[str, int]:
        """The counts since the last take, and start again."""
        with self.lock:
            taken = dict(self.counts)
            self.counts.clear()
        return taken


class DelayProxy:
    """A TCP proxy on a free loopback port that holds each answer ``delay_s`` before passing it
    on: one added round trip per request, as HTTP asks and answers in turns. ``delay_s`` may
    change while it runs."""

    def __init__(self, upstream: tuple[str, int], delay_s: float = 0.0) -> None:
        self.upstream = upstream
        self.delay_s = delay_s
        self.calls = KmsCalls()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="kms-proxy", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:  # the KMS is gone: its clients see the connection refused at once
                client.close()
                continue
            self._open.update((client, server))
            turn = threading.Event()  # set while a request waits for its answer
            for source, sink, asking in ((client, server, True), (server, client, False)):
                threading.Thread(
                    target=self._pump, args=(source, sink, asking, turn), daemon=True
                ).start()

    def _pump(
        self, source: socket.socket, sink: socket.socket, asking: bool, turn: threading.Event
    ) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(_CHUNK):
                if asking:
                    self.calls.add(_TARGET.findall(data))
                    turn.set()
                elif turn.is_set():
                    turn.clear()
                    if self.delay_s:
                        time.sleep(self.delay_s)
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        for sock in list(self._open):
            with contextlib.suppress(OSError):
                sock.close()


@dataclass(frozen=True)
class LocalKms:
    """The run's KMS: where its clients connect (the proxy), the key, and the calls seen."""

    endpoint: str
    key_id: str
    """The key's ARN (the alias ``KEY_ALIAS`` names it too)."""
    pid: int
    proxy: DelayProxy = field(repr=False, compare=False)
    process: Any = field(repr=False, compare=False)

    async def watch(self) -> None:
        """Return never while the KMS runs; raise once it is gone (see ``Watched``)."""
        await Watched(self.process, "the local KMS (moto)").watch()

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to use this KMS through the standard AWS configuration."""
        return {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL_KMS": self.endpoint,
            KMS_KEY_ENV: self.key_id,
        }

    def client(self) -> Any:
        """A boto3 KMS client of this KMS, through the proxy."""
        return _client(self.endpoint)


def _client(endpoint: str) -> Any:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=LOCAL_CREDENTIALS["AWS_DEFAULT_REGION"],
    )
    return session.client("kms", endpoint_url=endpoint)


@contextlib.contextmanager
def local_kms(delay_ms: float = 0.0) -> Iterator[LocalKms]:
    """moto's KMS on a free loopback port with a symmetric key (aliased ``KEY_ALIAS``), behind
    a :class:`DelayProxy` of ``delay_ms``; both stopped on exit."""
    with moto_server("KMS") as (endpoint, process):
        key = _client(endpoint).create_key(Description="codec-bench run key")["KeyMetadata"]
        _client(endpoint).create_alias(AliasName=KEY_ALIAS, TargetKeyId=key["KeyId"])
        host, port = endpoint.removeprefix("http://").rsplit(":", 1)
        proxy = DelayProxy((host, int(port)), delay_ms / 1000)
        try:
            yield LocalKms(
                f"http://127.0.0.1:{proxy.port}", key["Arn"], process.pid, proxy, process
            )
        finally:
            proxy.close()


def kms_in(env: Mapping[str, str]) -> bool:
    """Whether ``env`` names a KMS key of the user's (then a run uses theirs)."""
    return bool(env.get(KMS_KEY_ENV, "").strip())
