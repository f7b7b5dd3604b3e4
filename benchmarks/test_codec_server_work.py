"""A codec server request's own work (parse the body, decode, write the answer), without HTTP:
``payload-codec-server``'s against the same work done as the Temporal Python sample does it
(protobuf's ``json_format`` both ways). ``nox -s microbench -- -k codec_server``; grouped by
request shape, so each group reads as a side-by-side pair.

Each shape is one request's body of ``zstd:3+aes256gcm`` payloads of JSON-like data. Timed in
one process, after other work: glibc's malloc has then raised its mmap threshold as in a
serving process (timed first in a fresh process, a 1 MiB answer's buffers are mapped and
faulted in anew on every call; see docs/findings/page-faults.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from payload_codecs import ChainCodec, Keyring, from_spec
from payload_codecs.server._app import Limits, _Exchange, _whole

CODEC = from_spec("zstd:3+aes256gcm", keyring=Keyring.generate("microbench"))
SHAPES = {
    "1KiB": (1, 1 << 10),
    "64KiB": (1, 64 << 10),
    "1MiB": (1, 1 << 20),
    "100x1KiB": (100, 1 << 10),
}


def _body(count: int, size: int) -> bytes:
    plain = [
        Payload(
            metadata={"encoding": b"json/plain"}, data=os.urandom(size // 2) + b"a" * (size // 2)
        )
        for _ in range(count)
    ]
    return json_format.MessageToJson(Payloads(payloads=CODEC.encode_sync(plain))).encode()


def sample_work(body: bytes, codec: ChainCodec) -> bytes:
    """What the sample's handler does with a body: ``Parse``, decode, ``MessageToJson``."""
    message = Payloads()
    json_format.Parse(body, message)
    return json_format.MessageToJson(
        Payloads(payloads=codec.decode_sync(list(message.payloads)))
    ).encode()


def server_work(body: bytes, codec: ChainCodec) -> bytes:
    return _whole(body, codec, False, Limits(), _Exchange("decode"))


WORK: dict[str, Callable[[bytes, ChainCodec], bytes]] = {
    "payload-codec-server": server_work,
    "sample (json_format)": sample_work,
}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("server", list(WORK))
def test_codec_server_work(benchmark: Any, shape: str, server: str) -> None:
    body = _body(*SHAPES[shape])
    work = WORK[server]
    for _ in range(5):  # the warm-up a serving process has had
        work(body, CODEC)
    benchmark.group = f"codec server work: {shape}"
    answer = benchmark(work, body, CODEC)
    assert len(json_format.Parse(answer, Payloads()).payloads) == SHAPES[shape][0]
