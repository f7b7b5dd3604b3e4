"""The codec server as an ASGI app: the Temporal codec server protocol (``POST .../encode`` and
``POST .../decode``, ``Payloads`` as protobuf JSON both ways, one payload out per payload in)
for the Web UI and the CLI, with CORS, auth, limits, ``/health`` and Prometheus ``/metrics``;
with external storage configured, ``POST .../download`` for offloaded payloads.

Every request body is hostile: it is read up to a limit, parsed by protobuf's JSON parser,
decoded by the library's codecs with their decoded-size limit, and every failure is a 4xx with
one line that names what was wrong, never the payload data or a key.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pybase64
from google.protobuf import json_format
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as prometheus_text
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from payload_codecs._codec import ChainCodec
from payload_codecs._envelope import KeyNotReady
from payload_codecs._errors import (
    DecodedSizeError,
    KeyServiceError,
    PayloadDecodeError,
    PayloadDecryptionError,
    TotalSizeError,
)
from payload_codecs.server._auth import Authenticator, AuthError, NoAuth, Refusal

if TYPE_CHECKING:
    from temporalio.converter import ExternalStorage

ANY_NAMESPACE = "*"
CORS_HEADERS = ("Content-Type", "X-Namespace", "Authorization", "Authorization-Extras")
"""What the Web UI and the CLI send: the UI adds Authorization and Authorization-Extras when it
passes the user's access and id tokens."""
ON_LOOP_BODY_BYTES = 4 << 10
ON_LOOP_DECODED_BYTES = 64 << 10
"""A request body of at most ``ON_LOOP_BODY_BYTES`` is parsed, decoded to at most
``ON_LOOP_DECODED_BYTES`` in all without asking a KMS, and written on the event loop (about
0.1 ms for the largest such work on this project's machine); any other request, and one that
would decode to more or needs a KMS call, on a server thread."""
SHARED_BODY_BYTES = 256 << 10
"""Bodies of at least this many bytes are worked on by ``Limits.threads`` threads, smaller ones
by one thread, one after another. A small payload's work is mostly Python and holds the
interpreter's lock throughout: two threads of it only take turns, and lose time handing the lock
over (100 payloads of 1 KiB, 4 requests in flight: 180 requests/s on two threads, 290 on one);
a large payload's base64, decryption and decompression release the lock, and two threads
double the rate (one payload of 1 MiB: 200 against 105 requests/s)."""
log = logging.getLogger("payload_codecs.server")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Limits:
    """Per request: body bytes (base64 JSON is about 4/3 of the payload bytes), payloads, and
    the bytes its payloads decode to in all; the decoded size of each payload is the codec's own
    ``CodecOptions.max_decoded_size``. Per server: requests in progress at once, and the threads
    that parse, decode and write them, off the event loop so that ``/health`` and small
    requests keep answering while a large one decodes.

    What one request can cost is then bounded: at most ``max_concurrent_requests`` bodies of
    ``max_body_bytes`` held, and ``threads`` + 1 requests decoding at once, each to at most
    ``max_request_decoded_bytes`` (six payloads of 60 MiB each, each under the per-payload
    limit, took a server without the total from 64 MiB to 2.2 GiB)."""

    max_body_bytes: int = 16 << 20
    max_payloads: int = 10_000
    max_stored_bytes: int = 64 << 20
    """The largest payload ``/download`` fetches from external storage and answers with."""
    max_request_decoded_bytes: int = 64 << 20
    """The most bytes the payloads of one request may decode to in all (413 past it)."""
    max_concurrent_requests: int = 32
    """Codec requests in progress at once; one more is answered 503 with ``Retry-After``."""
    threads: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    """Threads that parse, decode or encode, and write requests of ``SHARED_BODY_BYTES`` or
    more; smaller requests have one thread of their own besides (and the smallest, the event
    loop: ``ON_LOOP_BODY_BYTES``)."""
    retry_after_s: int = 1

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 1:
                raise ValueError(f"server limit {name} must be 1 or more, got {value}")


@dataclass(frozen=True)
class ServerConfig:
    """What a codec server serves, to whom.

    codecs: namespace -> codec; ``"*"`` serves every namespace not named. A namespace with no
        codec is refused (403).
    origins: browser origins allowed by CORS, exact match (``https://cloud.temporal.io``). Empty:
        no CORS headers at all, so no browser page can call the server.
    allow_credentials: answer credentialed requests (the UI's "include cross-origin
        credentials").
    encode: serve ``/encode`` too (the UI uses it to encode signal and query input typed by hand).
    storage: the SDK's external storage to read offloaded payloads from (``/download``); the
        same drivers the workers use. ``None``: ``/download`` is not served.
    """

    codecs: Mapping[str, PayloadCodec]
    origins: tuple[str, ...] = ()
    allow_credentials: bool = False
    auth: Authenticator = field(default_factory=NoAuth)
    encode: bool = True
    limits: Limits = field(default_factory=Limits)
    storage: ExternalStorage | None = None


@dataclass(frozen=True)
class _Counted:
    """The metric children one kind of request counts into, looked up once: a labelled
    child's lookup and the access log's ``asdict`` took 0.31 ms of a 1 KiB request's 0.55 ms
    on the event loop."""

    requests: Any
    seconds: Any
    payloads: Any
    bytes_in: Any
    bytes_out: Any


class _Metrics:
    def __init__(self) -> None:
        self._counted: dict[tuple[str, str, int], _Counted] = {}
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "codec_server_requests",
            "Codec requests by endpoint, namespace and outcome (HTTP status)",
            ["endpoint", "namespace", "status"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "codec_server_request_seconds",
            "Time to answer a codec request",
            ["endpoint"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.payloads = Counter(
            "codec_server_payloads", "Payloads answered", ["endpoint"], registry=self.registry
        )
        self.bytes = Counter(
            "codec_server_payload_bytes",
            "Payload data bytes received (in) and sent (out)",
            ["endpoint", "direction"],
            registry=self.registry,
        )

    def of(self, endpoint: str, namespace: str, status: int) -> _Counted:
        """The children for one endpoint, served namespace and status (a bounded set: four
        endpoints, the configured namespaces and "other", HTTP statuses)."""
        key = (endpoint, namespace, status)
        found = self._counted.get(key)
        if found is None:
            found = self._counted[key] = _Counted(
                self.requests.labels(endpoint, namespace, str(status)),
                self.seconds.labels(endpoint),
                self.payloads.labels(endpoint),
                self.bytes.labels(endpoint, "in"),
                self.bytes.labels(endpoint, "out"),
            )
        return found


_PRINTABLE = re.compile(r"[^\w.\-@:]")


def _shown(text: str) -> str:
    """A request-supplied name, safe to put in one log or error line."""
    return _PRINTABLE.sub("?", text)[:100]


class _Disconnected(Exception):
    """The client went away before its request was read; nobody is left to answer."""


def _header(scope: Scope, name: bytes) -> str | None:
    """One request header's value (ASGI servers give names in lower case)."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"request body of {int(declared):,} bytes is over the {limit:,} limit")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"request body is over the {limit:,}-byte limit")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_URL_SAFE = str.maketrans("-_", "+/")
_COMMON_FIELDS = frozenset(("metadata", "data"))


def _check_base64(document: dict[str, object]) -> None:
    """protobuf's JSON parser decodes invalid base64 leniently (``"%%%"`` becomes empty bytes):
    data the server would then answer for. Standard or URL-safe, padded or not, is accepted."""
    payloads = document.get("payloads", [])
    for payload in payloads if isinstance(payloads, list) else []:
        if not isinstance(payload, dict):
            continue
        metadata = payload.get("metadata", {})
        values = [
            payload.get("data", ""),
            *(metadata.values() if isinstance(metadata, dict) else []),
        ]
        for value in values:
            if isinstance(value, str) and (
                not _BASE64.fullmatch(value) or len(value.rstrip("=")) % 4 == 1
            ):
                raise ValueError


def _bytes(text: str) -> bytes:
    """A ``bytes`` field's JSON value: base64, standard or URL-safe, padded or not, as protobuf's
    parser takes it, but refused (``binascii.Error``, a ``ValueError``) where that parser would
    silently drop invalid characters."""
    try:
        return pybase64.b64decode(text, validate=True)
    except ValueError:
        plain = text.translate(_URL_SAFE).rstrip("=")
        if len(text) - len(plain) > 2:  # "YQ===": refused where protobuf is read too
            raise
        return pybase64.b64decode(plain + "=" * (-len(plain) % 4), validate=True)


def _common(document: object) -> list[Payload] | None:
    """The payloads of a body shaped as the UI and the CLI send it (``metadata`` of strings
    and ``data``, nothing else), built directly: protobuf's generic ``ParseDict`` took 27 µs of
    a 1 KiB payload's 40 and 2.1 ms for 100 of them. ``None`` for any other shape, which
    protobuf's parser then reads (or refuses) in full."""
    if type(document) is not dict or document.keys() - {"payloads"}:
        return None
    items = document.get("payloads", [])
    if type(items) is not list:
        return None
    payloads = []
    for item in items:
        if type(item) is not dict or item.keys() - _COMMON_FIELDS:
            return None
        metadata, data = item.get("metadata", {}), item.get("data", "")
        if type(metadata) is not dict or type(data) is not str:
            return None
        if not all(type(value) is str for value in metadata.values()):
            return None
        payloads.append(
            Payload(metadata={k: _bytes(v) for k, v in metadata.items()}, data=_bytes(data))
        )
    return payloads


class _PastLoopShare(Exception):
    """Work begun on the event loop needs more than the loop's share: a server thread does it
    again, with the request's own limits."""


def _work(
    codec: ChainCodec, encode: bool, payloads: list[Payload], limits: Limits, on_loop: bool
) -> list[Payload]:
    """Encode or decode, the request's decoded bytes bounded in all. On the event loop
    (``on_loop``) they may decode to ``ON_LOOP_DECODED_BYTES`` at most and no KMS is asked
    (:class:`_PastLoopShare` past either)."""
    total = limits.max_request_decoded_bytes
    loop_total = min(total, ON_LOOP_DECODED_BYTES) if on_loop else total
    try:
        if encode:
            return codec.encode_sync(payloads)
        return codec.decode_sync(payloads, max_total=loop_total)
    except TotalSizeError:
        if loop_total < total:
            raise _PastLoopShare from None
        raise Refusal(*_reason(TotalSizeError(total))) from None
    except KeyNotReady:
        raise _PastLoopShare from None
    except PayloadDecodeError as error:
        raise Refusal(*_reason(error)) from None
    except KeyServiceError as error:  # the KMS's state, not the request's fault: it may pass
        raise Refusal(503, f"the key service failed: {str(error)[:300]}") from None


def _payload_json(payload: Payload, parts: list[bytes]) -> None:
    """One payload as protobuf JSON (what ``MessageToJson`` writes, fields at their default
    left out), appended to ``parts``; written directly when it holds only metadata and data:
    ``MessageToJson`` took 6.9 ms of a 1 MiB answer, and each concatenation of a large part
    copies it once more."""
    if payload.external_payloads:
        parts.append(json_format.MessageToJson(payload, indent=None).encode())
        return
    parts.append(b"{")
    if payload.metadata:
        parts.append(b'"metadata": {')
        for index, (key, value) in enumerate(payload.metadata.items()):
            comma = b", " if index else b""
            parts += (comma, json.dumps(key).encode(), b': "', pybase64.b64encode(value), b'"')
        parts.append(b"}, " if payload.data else b"}")
    if payload.data:
        parts += (b'"data": "', pybase64.b64encode(payload.data), b'"')
    parts.append(b"}")


def _json(payloads: list[Payload]) -> bytes:
    """The answer's body, ``Payloads`` as protobuf JSON: tens of megabytes for a large
    request, so written on a server thread, and in small steps: one encoder call holds the
    interpreter's lock throughout, which for a whole answer of 80 MiB kept the event loop (and
    ``/health``) waiting 0.4 s."""
    parts = [b'{"payloads": [']
    for index, payload in enumerate(payloads):
        if index:
            parts.append(b", ")
        _payload_json(payload, parts)
    parts.append(b"]}")
    return b"".join(parts)


def _whole(
    body: bytes,
    codec: ChainCodec,
    encode: bool,
    limits: Limits,
    exchange: _Exchange,
    *,
    on_loop: bool = False,
) -> bytes:
    """A request's whole work: parse, encode or decode, write the answer."""
    payloads = _received(exchange, _payloads(body, limits.max_payloads))
    return _answered(exchange, payloads, _work(codec, encode, payloads, limits, on_loop))


def _received(exchange: _Exchange, payloads: list[Payload]) -> list[Payload]:
    """``payloads``, counted into the request's record."""
    exchange.payloads = len(payloads)
    exchange.bytes_in = sum(len(p.data) for p in payloads)
    return payloads


def _answered(exchange: _Exchange, payloads: list[Payload], answered: list[Payload]) -> bytes:
    """The answer's body, once it holds one payload per payload asked about (the CLI refuses
    any other count; never send one), counted into the request's record."""
    if len(answered) != len(payloads):
        raise Refusal(500, "the codec returned a different number of payloads")
    exchange.bytes_out = sum(len(p.data) for p in answered)
    return _json(answered)


def _payloads(body: bytes, limit: int) -> list[Payload]:
    try:
        document = json.loads(body)
        payloads = _common(document)
        if payloads is None:
            if not isinstance(document, dict):  # protobuf's parser takes [] for an empty message
                raise ValueError
            _check_base64(document)
            message = Payloads()
            json_format.ParseDict(document, message)
            payloads = list(message.payloads)
    except (json_format.ParseError, ValueError, TypeError, RecursionError):
        # protobuf's message can quote the offending value, which may be payload data.
        raise Refusal(
            400,
            'body is not Payloads as protobuf JSON: {"payloads": [{"metadata": {...}, "data": '
            "BASE64}]}",
        ) from None
    if len(payloads) > limit:
        raise Refusal(413, f"{len(payloads):,} payloads in one request, over the {limit:,} limit")
    return payloads


def _reason(error: PayloadDecodeError) -> tuple[int, str]:
    """Status and one line for a payload the codec refused (its messages name encodings and key
    ids, never data or keys)."""
    line = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
    if isinstance(error, DecodedSizeError):
        return 413, f"cannot decode a payload: {line}"
    if isinstance(error, PayloadDecryptionError):
        return 422, f"cannot decrypt a payload: {line}"
    return 422, f"cannot decode a payload: {line}"


@dataclass
class _Exchange:
    """One codec request as the access log and the metrics see it: never its payloads."""

    endpoint: str
    namespace: str = "-"
    status: int = 500
    payloads: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


@dataclass(frozen=True)
class _Answer:
    """What one request is answered: status, JSON body, headers beyond the content's own."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    content_type: bytes = b"application/json"

    @classmethod
    def error(cls, status: int, reason: str, **headers: str) -> _Answer:
        extra = tuple((k.replace("_", "-").encode(), v.encode()) for k, v in headers.items())
        return cls(status, json.dumps({"error": reason}).encode(), extra)

    async def send(self, send: Send) -> None:
        length = str(len(self.body)).encode()
        headers = [(b"content-type", self.content_type), (b"content-length", length)]
        headers.extend(self.headers)
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


class _CodecEndpoint:
    """``POST <prefix>/decode`` and ``POST <prefix>/encode``."""

    def __init__(self, config: ServerConfig, metrics: _Metrics) -> None:
        self.config = config
        self.metrics = metrics
        self.executor = ThreadPoolExecutor(config.limits.threads, "codec-server")
        self.one_at_a_time = ThreadPoolExecutor(1, "codec-server-small")
        self._active = 0

    async def handle(self, scope: Scope, receive: Receive, path: str) -> _Answer:
        started = time.perf_counter()
        prefix, _, endpoint = path.rstrip("/").rpartition("/")
        exchange = _Exchange(endpoint)
        limits = self.config.limits
        if self._active >= limits.max_concurrent_requests:
            return self._busy(exchange, started, f"{self._active} requests are in progress")
        self._active += 1
        try:
            answer = await self._answer(scope, receive, prefix, exchange)
        except Refusal as refused:
            exchange.status = refused.status
            answer = _Answer.error(refused.status, refused.reason)
        except MemoryError:  # the host's state, not the request's fault: it may pass
            return self._busy(exchange, started, "it ran out of memory")
        except _Disconnected:
            exchange.status = 499  # nginx's "client closed request": no answer is read
            answer = _Answer.error(499, "the client went away")
        except Exception as error:  # a bug, never a payload's fault: say nothing about it
            log.error("codec request failed: %s", type(error).__name__)
            exchange.status = 500
            answer = _Answer.error(500, "internal error")
        finally:
            self._active -= 1
        self._record(exchange, time.perf_counter() - started)
        return answer

    def _busy(self, exchange: _Exchange, started: float, why: str) -> _Answer:
        exchange.status = 503
        self._record(exchange, time.perf_counter() - started)
        retry = self.config.limits.retry_after_s
        reason = f"the codec server is busy ({why}); retry in {retry} s"
        return _Answer.error(503, reason, retry_after=str(retry))

    async def _in_thread(
        self, work: Callable[..., _T], *args: Any, body: int = SHARED_BODY_BYTES
    ) -> _T:
        """``work`` on a server thread; a body under ``SHARED_BODY_BYTES`` on the one thread
        that takes such requests one at a time."""
        executor = self.executor if body >= SHARED_BODY_BYTES else self.one_at_a_time
        return await asyncio.get_running_loop().run_in_executor(
            executor, functools.partial(work, *args)
        )

    def shutdown(self) -> None:
        for executor in (self.executor, self.one_at_a_time):
            executor.shutdown(wait=False, cancel_futures=True)

    async def _answer(
        self, scope: Scope, receive: Receive, prefix: str, exchange: _Exchange
    ) -> _Answer:
        config = self.config
        if exchange.endpoint not in ("encode", "decode", "download") or (
            (exchange.endpoint == "encode" and not config.encode)
            or (exchange.endpoint == "download" and config.storage is None)
        ):
            exchange.endpoint = "other"
            raise Refusal(404, "not found: POST <prefix>/decode or <prefix>/encode")
        # The UI sends X-Namespace; the CLI substitutes {namespace} into the endpoint's path.
        namespace = (_header(scope, b"x-namespace") or "").strip()
        exchange.namespace = namespace or prefix.rpartition("/")[2] or "default"
        config.auth.check(_header(scope, b"authorization"), exchange.namespace)
        chosen = config.codecs.get(exchange.namespace) or config.codecs.get(ANY_NAMESPACE)
        if chosen is None:
            raise Refusal(403, f"namespace {_shown(exchange.namespace)!r} is not served here")
        limits = config.limits
        body = await _body(scope, receive, limits.max_body_bytes)
        encode = exchange.endpoint == "encode"
        if isinstance(chosen, ChainCodec) and exchange.endpoint != "download":
            # A small request on the loop, larger ones (and small ones past the loop's share)
            # in one hand-off to a server thread for the whole of their work: the hand-off
            # costs more than a 1 KiB payload's parsing, decoding and writing together.
            try:
                if len(body) > ON_LOOP_BODY_BYTES:
                    raise _PastLoopShare
                text = _whole(body, chosen, encode, limits, exchange, on_loop=True)
            except _PastLoopShare:
                text = await self._in_thread(
                    _whole, body, chosen, encode, limits, exchange, body=len(body)
                )
            exchange.status = 200
            return _Answer(200, text)
        payloads = _received(exchange, await self._in_thread(_payloads, body, limits.max_payloads))
        if exchange.endpoint == "download" and config.storage is not None:
            from payload_codecs.server._download import download  # temporalio 1.35+

            limit = limits.max_stored_bytes
            payloads = await download(config.storage, payloads, exchange.namespace, limit)
        if isinstance(chosen, ChainCodec):
            answered = await self._in_thread(_work, chosen, encode, payloads, limits, False)
        else:  # a codec of the caller's own: the SDK's interface, on the loop
            try:
                answered = await (chosen.encode if encode else chosen.decode)(payloads)
            except PayloadDecodeError as error:
                raise Refusal(*_reason(error)) from None
            if (
                not encode
                and sum(p.ByteSize() for p in answered) > limits.max_request_decoded_bytes
            ):
                raise Refusal(*_reason(TotalSizeError(limits.max_request_decoded_bytes)))
        text = await self._in_thread(_answered, exchange, payloads, answered)
        exchange.status = 200
        return _Answer(200, text)

    def _record(self, exchange: _Exchange, elapsed: float) -> None:
        # Only configured names become labels: a header cannot grow the metric's series.
        served = exchange.namespace if exchange.namespace in self.config.codecs else "other"
        counted = self.metrics.of(exchange.endpoint, served, exchange.status)
        counted.requests.inc()
        counted.seconds.observe(elapsed)
        if exchange.status == 200:
            counted.payloads.inc(exchange.payloads)
            counted.bytes_in.inc(exchange.bytes_in)
            counted.bytes_out.inc(exchange.bytes_out)
        if log.isEnabledFor(logging.INFO):  # --no-access-log: not even the line is made
            line = {
                "endpoint": exchange.endpoint,
                "namespace": _shown(exchange.namespace),
                "status": exchange.status,
                "payloads": exchange.payloads,
                "bytes_in": exchange.bytes_in,
                "bytes_out": exchange.bytes_out,
                "ms": round(elapsed * 1e3, 3),
            }
            log.info(json.dumps(line))


class _Server:
    """The ASGI app: three routes, dispatched directly. A web framework's router, middleware and
    request objects cost about 45 µs a request (uvicorn answered 15,000 small POSTs a second with
    a bare ASGI app, 8,900 through a Starlette route), a third of what a 1 KiB payload's whole
    request costs; CORS, where configured, is Starlette's middleware around this app."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.metrics = _Metrics()
        self.codec = _CodecEndpoint(config, self.metrics)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # a websocket: refused by the server when not accepted
            return
        # Mounted under a prefix, the path still holds it (ASGI's root_path).
        path, root = scope["path"], scope.get("root_path", "")
        path = path[len(root) :] if root and path.startswith(root) else path
        method = scope["method"]
        if path in ("/health", "/metrics"):
            if method not in ("GET", "HEAD"):
                answer = _Answer.error(405, f"{method} {path}: use GET", allow="GET, HEAD")
            elif path == "/health":
                answer = _Answer(200, b'{"status": "ok"}')
            else:
                answer = self._prometheus(scope)
        elif method == "POST":
            answer = await self.codec.handle(scope, receive, path)
        else:
            answer = _Answer.error(405, f"{method} {path}: use POST", allow="POST")
        await answer.send(send)

    def _prometheus(self, scope: Scope) -> _Answer:
        try:
            self.config.auth.check(_header(scope, b"authorization"), None)
        except AuthError as error:
            return _Answer.error(error.status, error.reason)
        text = prometheus_text(self.metrics.registry)
        return _Answer(200, text, content_type=CONTENT_TYPE_LATEST.encode())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.codec.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(config: ServerConfig) -> ASGIApp:
    """The codec server as an ASGI app, to serve with uvicorn or mount into a Starlette or
    FastAPI service (``app.mount("/codec", create_app(config))``)."""
    app: ASGIApp = _Server(config)
    if not config.origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=list(config.origins),
        allow_methods=["POST", "OPTIONS"],
        allow_headers=list(CORS_HEADERS),
        allow_credentials=config.allow_credentials,
        max_age=600,
    )
