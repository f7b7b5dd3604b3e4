"""The codec server reads and writes ``Payloads`` JSON as protobuf's own parser and printer do
(the server builds the common shape directly, for speed), and answers every request where it is
served: on the event loop, on the thread for small requests, or on the shared threads."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.routing import Mount
from temporalio.api.common.v1 import Payload, Payloads

from payload_codecs import from_spec
from payload_codecs.server import ServerConfig, create_app
from payload_codecs.server._app import ON_LOOP_BODY_BYTES, ON_LOOP_DECODED_BYTES

ODD = [
    Payload(),
    Payload(data=b"\x00\xff" * 7),
    Payload(metadata={"encoding": b"binary/plain"}),
    Payload(metadata={'a "quoted"\\ key': b"\xfe", "ключ": b"", "e": b"json/plain"}, data=b"x"),
    Payload(metadata={"encoding": b"json/plain"}, data=bytes(range(256)) * 40),
]
"""Payloads no stage decodes, so /decode answers each as it came: empty, no metadata, no data,
keys that JSON must escape, an empty value, all byte values."""


def _client(app: object, base: str = "http://codec") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)  # type: ignore[arg-type]


def _respelled(text: str, how: str) -> str:
    """``text``'s base64 values as another writer may spell them."""
    document = json.loads(text)
    for payload in document["payloads"]:
        for values, key in [
            (payload, "data"),
            *((payload["metadata"], k) for k in payload.get("metadata", {})),
        ]:
            if key not in values:
                continue
            raw = base64.b64decode(values[key])
            spelled = base64.urlsafe_b64encode(raw) if how == "url-safe" else base64.b64encode(raw)
            values[key] = spelled.decode().rstrip("=" if how != "padded" else "")
    return json.dumps(document)


@pytest.mark.parametrize("how", ["padded", "url-safe", "unpadded"])
async def test_payloads_come_back_as_protobuf_reads_and_writes_them(how: str) -> None:
    body = _respelled(json_format.MessageToJson(Payloads(payloads=ODD)), how)
    async with _client(create_app(ServerConfig({"*": from_spec("zstd")}))) as client:
        answer = await client.post("/decode", content=body)
    assert answer.status_code == 200, answer.text
    assert list(json_format.Parse(answer.text, Payloads()).payloads) == ODD
    # field for field what protobuf's printer writes, defaults left out
    expected = json.loads(json_format.MessageToJson(Payloads(payloads=ODD)))
    assert answer.json() == expected


@pytest.mark.parametrize(
    "value", ["%%%", "Y", "YQ==\n", " YQ==", "YQ=%", "Y Q==", "ä", "YQ===", "YWI===="]
)
async def test_base64_that_protobuf_would_read_leniently_is_refused(value: str) -> None:
    """Whether the server reads the payload itself or through protobuf (another field, here
    an empty ``externalPayloads``, sends it there), the same base64 is refused."""
    for payload in (
        {"data": value},
        {"metadata": {"encoding": value}},
        {"data": value, "externalPayloads": []},
        {"metadata": {"encoding": value}, "externalPayloads": []},
    ):
        body = json.dumps({"payloads": [payload]})
        async with _client(create_app(ServerConfig({"*": from_spec("zstd")}))) as client:
            answer = await client.post("/decode", content=body)
        assert answer.status_code == 400, (value, answer.text)
        assert "not Payloads as protobuf JSON" in answer.json()["error"]


async def test_other_fields_of_a_payload_are_read_and_written_by_protobuf() -> None:
    """The server builds only ``metadata`` and ``data`` itself; a payload with another field
    (external storage's details) goes through protobuf's parser and printer whole."""
    offloaded = Payload(
        metadata={"encoding": b"json/plain"},
        data=b"{}",
        external_payloads=[Payload.ExternalPayloadDetails(size_bytes=5 << 20)],
    )
    body = json_format.MessageToJson(Payloads(payloads=[offloaded, *ODD]))
    async with _client(create_app(ServerConfig({"*": from_spec("zstd")}))) as client:
        answer = await client.post("/decode", content=body)
    assert answer.status_code == 200, answer.text
    assert list(json_format.Parse(answer.text, Payloads()).payloads) == [offloaded, *ODD]


async def test_a_small_request_that_decodes_large_is_answered_whole() -> None:
    """A body the event loop takes, whose payloads decode past the loop's share: answered
    all the same (from a server thread), and nothing of it is lost."""
    codec = from_spec("zstd:3")
    plain = Payload(metadata={"encoding": b"binary/plain"}, data=bytes(4 * ON_LOOP_DECODED_BYTES))
    body = json_format.MessageToJson(Payloads(payloads=codec.encode_sync([plain] * 3)))
    assert len(body) <= ON_LOOP_BODY_BYTES
    async with _client(create_app(ServerConfig({"*": codec}))) as client:
        answer = await client.post("/decode", content=body)
    assert answer.status_code == 200, answer.text
    assert list(json_format.Parse(answer.text, Payloads()).payloads) == [plain] * 3


async def test_mounted_under_a_prefix_it_serves_its_routes_below_it() -> None:
    """Mounted at ``/codec`` in a Starlette app, the namespace comes from the path below the
    mount (``/codec/decode`` is the default namespace, not one called "codec")."""
    codec = from_spec("zstd")
    app = Starlette(routes=[Mount("/codec", create_app(ServerConfig({"default": codec})))])
    encoded = codec.encode_sync(ODD[1:2])
    async with _client(app) as client:
        assert (await client.get("/codec/health")).status_code == 200
        answer = await client.post(
            "/codec/decode", content=json_format.MessageToJson(Payloads(payloads=encoded))
        )
        assert answer.status_code == 200, answer.text
        assert list(json_format.Parse(answer.text, Payloads()).payloads) == ODD[1:2]
        assert (await client.get("/codec/metrics")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("GET", "/decode", "POST"), ("PUT", "/default/encode", "POST"), ("POST", "/health", "GET")],
)
async def test_a_route_asked_with_another_method_says_which_it_takes(
    method: str, path: str, allowed: str
) -> None:
    async with _client(create_app(ServerConfig({"*": from_spec("zstd")}))) as client:
        answer = await client.request(method, path)
    assert answer.status_code == 405
    assert allowed in answer.headers["allow"]
    assert f"use {allowed}" in answer.json()["error"]
