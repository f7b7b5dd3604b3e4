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
import contextlib
import functools
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from google.protobuf import json_format
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as prometheus_text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from payload_codecs._codec import ChainCodec
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
    ``max_body_bytes`` held, and ``threads`` requests decoding at once, each to at most
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
    """Threads that parse, decode or encode, and write requests."""
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


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"request body of {int(declared):,} bytes is over the {limit:,} limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"request body is over the {limit:,}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


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


def _work(
    codec: ChainCodec, encode: bool, payloads: list[Payload], limits: Limits
) -> list[Payload]:
    """Encode or decode on a server thread, the request's decoded bytes bounded in all."""
    try:
        if encode:
            return codec.encode_sync(payloads)
        return codec.decode_sync(payloads, max_total=limits.max_request_decoded_bytes)
    except PayloadDecodeError as error:
        raise Refusal(*_reason(error)) from None
    except KeyServiceError as error:  # the KMS's state, not the request's fault: it may pass
        raise Refusal(503, f"the key service failed: {str(error)[:300]}") from None


def _json(payloads: list[Payload]) -> bytes:
    """The answer's body, ``Payloads`` as protobuf JSON: tens of megabytes for a large
    request, so written on a server thread, and payload by payload: the JSON encoder holds the
    interpreter's lock for the whole of each call, which for a whole answer of 80 MiB kept the
    event loop (and ``/health``) waiting 0.4 s."""
    parts = (json_format.MessageToJson(p, indent=None).encode() for p in payloads)
    return b'{"payloads": [' + b", ".join(parts) + b"]}"


def _whole(
    body: bytes, codec: ChainCodec, encode: bool, limits: Limits, exchange: _Exchange
) -> bytes:
    """A request's whole work on a server thread: parse, encode or decode, write the answer."""
    payloads = _received(exchange, _payloads(body, limits.max_payloads))
    return _answered(exchange, payloads, _work(codec, encode, payloads, limits))


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
    message = Payloads()
    try:
        document = json.loads(body)
        if not isinstance(document, dict):  # protobuf's parser takes [] for an empty message
            raise ValueError
        _check_base64(document)
        json_format.ParseDict(document, message)
    except (json_format.ParseError, ValueError, TypeError, RecursionError):
        # protobuf's message can quote the offending value, which may be payload data.
        raise Refusal(
            400,
            'body is not Payloads as protobuf JSON: {"payloads": [{"metadata": {...}, "data": '
            "BASE64}]}",
        ) from None
    if len(message.payloads) > limit:
        raise Refusal(
            413, f"{len(message.payloads):,} payloads in one request, over the {limit:,} limit"
        )
    return list(message.payloads)


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


class _CodecEndpoint:
    """``POST <prefix>/decode`` and ``POST <prefix>/encode``."""

    def __init__(self, config: ServerConfig, metrics: _Metrics) -> None:
        self.config = config
        self.metrics = metrics
        self.executor = ThreadPoolExecutor(config.limits.threads, "codec-server")
        self._active = 0

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        # The scope's path, not request.url: building the URL object cost 38 µs a request.
        prefix, _, endpoint = request.scope["path"].rstrip("/").rpartition("/")
        exchange = _Exchange(endpoint)
        limits = self.config.limits
        if self._active >= limits.max_concurrent_requests:
            return self._busy(exchange, started, f"{self._active} requests are in progress")
        self._active += 1
        try:
            response = await self._answer(request, prefix, exchange)
        except Refusal as refused:
            exchange.status = refused.status
            response = JSONResponse({"error": refused.reason}, status_code=refused.status)
        except MemoryError:  # the host's state, not the request's fault: it may pass
            return self._busy(exchange, started, "it ran out of memory")
        except Exception as error:  # a bug, never a payload's fault: say nothing about it
            log.error("codec request failed: %s", type(error).__name__)
            exchange.status = 500
            response = JSONResponse({"error": "internal error"}, status_code=500)
        finally:
            self._active -= 1
        self._record(exchange, time.perf_counter() - started)
        return response

    def _busy(self, exchange: _Exchange, started: float, why: str) -> Response:
        exchange.status = 503
        self._record(exchange, time.perf_counter() - started)
        retry = self.config.limits.retry_after_s
        return JSONResponse(
            {"error": f"the codec server is busy ({why}); retry in {retry} s"},
            status_code=503,
            headers={"Retry-After": str(retry)},
        )

    async def _in_thread(self, work: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, functools.partial(work, *args)
        )

    async def _answer(self, request: Request, prefix: str, exchange: _Exchange) -> Response:
        config = self.config
        if exchange.endpoint not in ("encode", "decode", "download") or (
            (exchange.endpoint == "encode" and not config.encode)
            or (exchange.endpoint == "download" and config.storage is None)
        ):
            exchange.endpoint = "other"
            raise Refusal(404, "not found: POST <prefix>/decode or <prefix>/encode")
        # The UI sends X-Namespace; the CLI substitutes {namespace} into the endpoint's path.
        namespace = request.headers.get("x-namespace", "").strip()
        exchange.namespace = namespace or prefix.rpartition("/")[2] or "default"
        config.auth.check(request.headers.get("authorization"), exchange.namespace)
        chosen = config.codecs.get(exchange.namespace) or config.codecs.get(ANY_NAMESPACE)
        if chosen is None:
            raise Refusal(403, f"namespace {_shown(exchange.namespace)!r} is not served here")
        limits = config.limits
        body = await _body(request, limits.max_body_bytes)
        encode = exchange.endpoint == "encode"
        if isinstance(chosen, ChainCodec) and exchange.endpoint != "download":
            # Parse, decode (or encode) and write in one hand-off to a server thread: three
            # hand-offs cost more than the codec's own work on a payload of 1 KiB.
            text = await self._in_thread(_whole, body, chosen, encode, limits, exchange)
            exchange.status = 200
            return Response(text, media_type="application/json")
        payloads = _received(exchange, await self._in_thread(_payloads, body, limits.max_payloads))
        if exchange.endpoint == "download" and config.storage is not None:
            from payload_codecs.server._download import download  # temporalio 1.35+

            limit = limits.max_stored_bytes
            payloads = await download(config.storage, payloads, exchange.namespace, limit)
        if isinstance(chosen, ChainCodec):
            answered = await self._in_thread(_work, chosen, encode, payloads, limits)
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
        return Response(text, media_type="application/json")

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


def create_app(config: ServerConfig) -> Starlette:
    """The codec server as an ASGI app, to serve with uvicorn or mount into a Starlette or
    FastAPI service (``app.mount("/codec", create_app(config))``)."""
    metrics = _Metrics()
    codec = _CodecEndpoint(config, metrics)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def prometheus(request: Request) -> Response:
        try:
            config.auth.check(request.headers.get("authorization"), None)
        except AuthError as error:
            return JSONResponse({"error": error.reason}, status_code=error.status)
        return Response(prometheus_text(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    middleware = []
    if config.origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.origins),
                allow_methods=["POST", "OPTIONS"],
                allow_headers=list(CORS_HEADERS),
                allow_credentials=config.allow_credentials,
                max_age=600,
            )
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        codec.executor.shutdown(wait=False, cancel_futures=True)

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
            Route("/{path:path}", codec.handle, methods=["POST"]),
        ],
        middleware=middleware,
    )
