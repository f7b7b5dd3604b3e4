"""The codec server's protocol, limits, auth and CORS, against the ASGI app itself (httpx's ASGI
transport: real requests through Starlette, no network). What the Temporal UI and CLI do with it
is tested against the real programs in test_server_with_the_cli.py and
test_server_with_the_web_ui.py."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import DataConverter

from payload_codecs import CodecOptions, Keyring, from_spec
from payload_codecs.server import (
    JwtVerifier,
    Limits,
    ServerConfig,
    StaticTokens,
    create_app,
)
from tests.codecs.bombs import bomb

SPEC = "zstd:3+aes256gcm"
KEYRING = Keyring.generate("server-key")
SECRET = "PLAINTEXT-3f9a"
UI = "http://localhost:8233"


def _plain(*values: Any) -> list[Payload]:
    return DataConverter.default.payload_converter.to_payloads(list(values))


def _body(payloads: list[Payload]) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


def _parsed(text: str) -> list[Payload]:
    message = Payloads()
    json_format.Parse(text, message)
    return list(message.payloads)


def _client(config: ServerConfig) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(config))
    return httpx.AsyncClient(transport=transport, base_url="http://codec")


def _config(**options: Any) -> ServerConfig:
    return ServerConfig({"*": from_spec(SPEC, keyring=KEYRING)}, **options)


async def _encoded(*values: Any) -> list[Payload]:
    return await from_spec(SPEC, keyring=KEYRING).encode(_plain(*values))


async def test_decode_answers_one_plain_payload_per_payload_under_any_prefix() -> None:
    values = [{"secret": SECRET, "n": i} for i in range(5)]
    encoded = await _encoded(*values)
    async with _client(_config()) as client:
        for path in ("/decode", "/default/decode", "/api/v1/namespaces/default/decode"):
            answer = await client.post(
                f"{path}?preserveStorageRefs=true",
                content=_body(encoded),
                headers={"Content-Type": "application/json", "X-Namespace": "default"},
            )
            assert answer.status_code == 200, answer.text
            assert _parsed(answer.text) == _plain(*values)
        # encode is the inverse, so the UI can encode what a user types
        answer = await client.post("/default/encode", content=_body(_plain(*values)))
        assert answer.status_code == 200
        decoded = await from_spec(SPEC, keyring=KEYRING).decode(_parsed(answer.text))
        assert decoded == _plain(*values)


async def test_storage_references_foreign_encodings_and_plain_payloads_pass_through() -> None:
    reference = Payload(
        metadata={
            "encoding": b"json/external-storage-reference",
            "__temporal_external_storage_reference": b"true",
        },
        data=b'{"key":"s3://bucket/object"}',
    )
    foreign = Payload(metadata={"encoding": b"binary/custom-thing"}, data=b"\x00\x01opaque")
    [plain] = _plain({"plain": True})
    [mine] = await _encoded({"secret": SECRET})
    async with _client(_config()) as client:
        answer = await client.post("/decode", content=_body([reference, foreign, plain, mine]))
    assert answer.status_code == 200
    assert _parsed(answer.text) == [reference, foreign, plain, *_plain({"secret": SECRET})]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ("{not json", 400, "not Payloads as protobuf JSON"),
        ("[]", 400, "not Payloads as protobuf JSON"),
        ('{"payloads": 3}', 400, "not Payloads as protobuf JSON"),
        ('{"payloads": [{"data": "%%%"}]}', 400, "not Payloads as protobuf JSON"),
        ('{"payloads": [], "extra": 1}', 400, "not Payloads as protobuf JSON"),
    ],
)
async def test_malformed_bodies_get_400_and_one_line(body: str, status: int, says: str) -> None:
    async with _client(_config()) as client:
        answer = await client.post("/decode", content=body)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert says in error
    assert "\n" not in error


async def _refusal(config: ServerConfig, body: str, **headers: str) -> tuple[int, str]:
    async with _client(config) as client:
        answer = await client.post("/default/decode", content=body, headers=headers)
        # the server keeps serving after any bad request
        ok = await client.post("/default/decode", content=_body(await _encoded(1)))
        assert ok.status_code == 200
    error = answer.json()["error"]
    assert "\n" not in error
    assert SECRET not in error
    return answer.status_code, error


async def test_limits_and_hostile_payloads_get_their_status_and_never_echo_data() -> None:
    limits = Limits(max_body_bytes=64 << 10, max_payloads=10)
    incompressible = os.urandom(100_000).hex()
    status, error = await _refusal(_config(limits=limits), _body(await _encoded(incompressible)))
    assert status == 413
    assert "over the 65,536" in error
    status, error = await _refusal(_config(limits=limits), _body(await _encoded(*range(11))))
    assert status == 413
    assert "11 payloads in one request, over the 10 limit" in error

    [good] = await _encoded({"secret": SECRET})
    tampered = Payload()
    tampered.CopyFrom(good)
    tampered.data = good.data[:-1] + bytes([good.data[-1] ^ 1])
    status, error = await _refusal(_config(), _body([tampered]))
    assert status == 422
    assert error.startswith("cannot decrypt a payload")

    stranger = await from_spec(SPEC, keyring=Keyring.generate("other-key")).encode(_plain(1))
    status, error = await _refusal(_config(), _body(stranger))
    assert status == 422
    assert "other-key" in error

    small = CodecOptions(max_decoded_size=1 << 20)
    zstd_only = ServerConfig({"*": from_spec("zstd:3", options=small)})
    status, error = await _refusal(zstd_only, _body([bomb("zstd-frames")]))
    assert status == 413
    assert "over the decoded-size limit of 1,048,576 bytes" in error

    assert SECRET not in error


async def test_namespaces_are_served_only_when_configured() -> None:
    config = ServerConfig({"orders": from_spec(SPEC, keyring=KEYRING)})
    encoded = _body(await _encoded(SECRET))
    async with _client(config) as client:
        assert (await client.post("/orders/decode", content=encoded)).status_code == 200
        header = await client.post("/x/decode", content=encoded, headers={"X-Namespace": "orders"})
        assert header.status_code == 200  # the UI's header wins over the path
        refused = await client.post("/payments/decode", content=encoded)
    assert refused.status_code == 403
    assert refused.json() == {"error": "namespace 'payments' is not served here"}


async def test_encode_can_be_switched_off() -> None:
    async with _client(_config(encode=False)) as client:
        answer = await client.post("/default/encode", content=_body(_plain(1)))
    assert answer.status_code == 404


async def test_static_tokens_are_required_and_compared_whole() -> None:
    config = _config(auth=StaticTokens(["s3cret-token", "second-token"]))
    body = _body(await _encoded(1))
    async with _client(config) as client:
        for header, status in [
            ({}, 401),
            ({"Authorization": "Bearer s3cret"}, 401),
            ({"Authorization": "Bearer s3cret-token-and-more"}, 401),
            ({"Authorization": "Basic s3cret-token"}, 401),
            ({"Authorization": "Bearer s3cret-token"}, 200),
            ({"Authorization": "bearer second-token"}, 200),
        ]:
            answer = await client.post("/decode", content=body, headers=header)
            assert answer.status_code == status, header
            assert "s3cret" not in answer.text
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/health")).status_code == 200


def _jwt_setup() -> tuple[Any, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    return key, {"keys": [public]}


async def test_jwts_are_verified_against_the_jwks_with_their_claims() -> None:
    key, jwks = _jwt_setup()
    verifier = JwtVerifier(
        jwks, issuer="https://idp", audience="codec", namespace_claim="namespaces"
    )
    now = int(time.time())
    good = {"iss": "https://idp", "aud": "codec", "exp": now + 600, "namespaces": ["default"]}

    def token(claims: dict[str, Any], signer: Any = key) -> dict[str, str]:
        signed = jwt.encode(claims, signer, algorithm="RS256", headers={"kid": "k1"})
        return {"Authorization": f"Bearer {signed}"}

    other_key, _ = _jwt_setup()
    body = _body(await _encoded(1))
    cases = [
        (token(good), 200),
        (token({**good, "exp": now - 3600}), 401),
        (token({**good, "aud": "someone-else"}), 401),
        (token({**good, "iss": "https://evil"}), 401),
        (token(good, other_key), 401),
        (token({k: v for k, v in good.items() if k != "exp"}), 401),
        (token({**good, "namespaces": ["payments"]}), 403),
        (token({**good, "namespaces": "default"}), 200),
    ]
    async with _client(_config(auth=verifier)) as client:
        for headers, status in cases:
            answer = await client.post(
                "/decode", content=body, headers={**headers, "X-Namespace": "default"}
            )
            assert answer.status_code == status, answer.text


async def test_cors_answers_the_allowed_origin_only() -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
    }
    body = _body(await _encoded(1))
    async with _client(_config(origins=(UI,), allow_credentials=True)) as client:
        allowed = await client.options("/decode", headers={"Origin": UI, **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == UI
        assert allowed.headers["access-control-allow-credentials"] == "true"
        for name in ("x-namespace", "authorization", "content-type"):
            assert name in allowed.headers["access-control-allow-headers"].lower()
        post = await client.post("/decode", content=body, headers={"Origin": UI})
        assert post.headers["access-control-allow-origin"] == UI

        evil = "https://evil.example"
        refused = await client.options("/decode", headers={"Origin": evil, **preflight})
        assert "access-control-allow-origin" not in refused.headers
        post = await client.post("/decode", content=body, headers={"Origin": evil})
        assert "access-control-allow-origin" not in post.headers
    async with _client(_config()) as client:  # no origins configured: no browser at all
        refused = await client.options("/decode", headers={"Origin": UI, **preflight})
        assert "access-control-allow-origin" not in refused.headers


async def test_five_hundred_concurrent_requests_are_answered_or_told_when_to_retry() -> None:
    """More requests at once than the server takes on: each is answered correctly or refused
    503 with ``Retry-After``, and every refused one is answered when asked again."""
    values = [{"secret": SECRET, "i": i} for i in range(500)]
    encoded = await _encoded(*values)
    async with _client(_config()) as client:
        answers = await asyncio.gather(
            *(client.post("/decode", content=_body([payload])) for payload in encoded)
        )
        assert {a.status_code for a in answers} <= {200, 503}
        assert all(a.headers["retry-after"] for a in answers if a.status_code == 503)
        for index, answer in enumerate(answers):
            if answer.status_code == 503:
                answers[index] = await client.post("/decode", content=_body([encoded[index]]))
    assert [a.status_code for a in answers] == [200] * 500
    assert [_parsed(a.text)[0] for a in answers] == _plain(*values)


async def test_metrics_count_requests_outcomes_and_bytes() -> None:
    async with _client(_config()) as client:
        await client.post("/default/decode", content=_body(await _encoded(SECRET, SECRET)))
        await client.post("/default/decode", content="{bad")
        text = (await client.get("/metrics")).text
    assert (
        'codec_server_requests_total{endpoint="decode",namespace="other",status="200"} 1.0' in text
    )
    assert (
        'codec_server_requests_total{endpoint="decode",namespace="other",status="400"} 1.0' in text
    )
    assert 'codec_server_payloads_total{endpoint="decode"} 2.0' in text
    assert 'codec_server_payload_bytes_total{direction="in",endpoint="decode"}' in text
    assert "codec_server_request_seconds_bucket" in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--spec", "zstd:3", "--host", "0.0.0.0"], "refusing to serve 0.0.0.0 without auth"),
        (
            ["--spec", "zstd:3", "--host", "10.1.2.3", "--auth", "token"],
            "refusing to serve 10.1.2.3 without TLS",
        ),
        (["--spec", "zstd:3", "--origin", "*"], "give an exact origin"),
        (["--spec", "zstd:3", "--ssl-certfile", "c.pem"], "give both --ssl-certfile"),
        (["--spec", "zstd:3+aes256gcm"], "PAYLOAD_CODEC_KEYS is empty or unset"),
        (["--spec", "zstd:3", "--auth", "token"], "PAYLOAD_CODEC_SERVER_TOKENS is empty"),
        (["--spec", "zstd:3", "--auth", "jwt"], "--auth jwt needs --jwks"),
        (["--spec", "nope:3"], "nope"),
        ([], "give exactly one of --spec and --config"),
    ],
)
def test_the_command_refuses_unsafe_or_wrong_options_in_one_line(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from payload_codecs.server._cli import main

    monkeypatch.delenv("PAYLOAD_CODEC_KEYS", raising=False)
    monkeypatch.delenv("PAYLOAD_CODEC_SERVER_TOKENS", raising=False)
    assert main(args) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("payload-codec-server: ")
    assert says in line


def test_a_config_file_maps_namespaces_to_specs_and_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from payload_codecs.server._cli import _parser, config_from

    monkeypatch.setenv("ORDERS_KEYS", f"orders={base64.b64encode(bytes(32)).decode()}")
    config = tmp_path / "server.toml"
    config.write_text(
        '[namespaces.orders]\nspec = "zstd:3+aes256gcm"\nkeys_env = "ORDERS_KEYS"\n'
        '[namespaces."*"]\nspec = "snappy"\n'
    )
    served = config_from(_parser().parse_args(["--config", str(config), "--ui", "dev-ui"]))
    assert {name: codec.spec for name, codec in served.codecs.items()} == {  # type: ignore[attr-defined]
        "orders": "zstd:3@zstandard+aes256gcm",
        "*": "snappy@cramjam",
    }
    assert served.origins == ("http://localhost:8233", "http://127.0.0.1:8233")
