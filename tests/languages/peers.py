"""The foreign peers: a Go and a Node program that encode and decode payloads as a Go or a
TypeScript team's codec would (``go/payloadcodec.go``, ``node/payloadcodec.mjs``), and what
both exchange with ours: every spec and eight kinds of payload, from the empty one to 5 MiB.

A peer reads jobs as JSON lines and answers one line each; all of a spec's payloads go to one
process, so a matrix of hundreds of exchanges costs a few process starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from payload_codecs import CodecOptions, Dictionaries, Keyring, from_spec, serialize
from payload_codecs._dictionaries import train_dictionary
from tests.codecs.helpers import decode, encode

HERE = Path(__file__).parent
KEY_ID = "peer-key"
KEY = bytes(range(32))
KEYRING = Keyring({KEY_ID: KEY}, active=KEY_ID)


def _json(size: int) -> bytes:
    row = b'{"order": %d, "customer": "ACME Corp", "items": [1, 2, 3], "note": "hello"},'
    out = bytearray(b"[")
    index = 0
    while len(out) < size:
        out += row % index
        index += 1
    return bytes(out[:size])


def _random(size: int) -> bytes:
    """Incompressible bytes, the same in every run."""
    return b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(size // 32))


def _json_payload(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


PAYLOADS: dict[str, Callable[[], Payload]] = {
    "empty": Payload,
    "one byte": lambda: Payload(data=b"x"),
    "100 B JSON": lambda: _json_payload(_json(100)),
    "4 KiB JSON": lambda: _json_payload(_json(4 << 10)),
    "64 KiB JSON": lambda: _json_payload(_json(64 << 10)),
    "256 KiB incompressible": lambda: Payload(
        metadata={"encoding": b"binary/plain"}, data=_random(256 << 10)
    ),
    "1 MiB JSON": lambda: _json_payload(_json(1 << 20)),
    "5 MiB JSON": lambda: _json_payload(_json(5 << 20)),
}
"""The empty Payload serializes to no bytes at all; 5 MiB is over LZ4's largest block."""


def dictionaries(folder: Path) -> tuple[Dictionaries, Path]:
    """A zstd dictionary trained on JSON like the payloads', and its file for the peers."""
    samples = [serialize(_json_payload(_json(300 + 37 * i))) for i in range(400)]
    trained = train_dictionary(samples, 8 << 10, 3)
    path = folder / "orders.zdict"
    path.write_bytes(trained.data)
    return Dictionaries.from_dir(folder), path


OUR_SPECS = [
    "snappy@cramjam",
    "snappy@cramjam-raw",
    "zstd@zstandard",
    "zstd@cramjam",
    "zstd:3:dict=orders",
    "lz4@lz4",
    "lz4@cramjam",
    "gzip@zlib",
    "gzip@cramjam",
    "zlib@zlib",
    "aes256gcm",
    "zstd+aes256gcm",
    "snappy+aes256gcm",
    "lz4+aes256gcm",
    "envelope@local",
    "zstd+envelope@local",
]
"""What we write and a peer must read: every implementation of every family, a dictionary,
encryption alone and after each fast compressor, envelope encryption with a local keyring."""

PEER_SPECS = {
    "zstd": ["zstd@zstandard", "zstd@cramjam"],
    "zstd with a dictionary": ["zstd@zstandard"],
    "snappy": ["snappy@cramjam", "snappy@cramjam-raw"],
    "snappy-raw": ["snappy@cramjam", "snappy@cramjam-raw"],
    "lz4": ["lz4@lz4", "lz4@cramjam"],
    "gzip": ["gzip@zlib", "gzip@cramjam"],
    "zlib": ["zlib@zlib"],
    "aes256gcm": ["aes256gcm"],
    "zstd+aes256gcm": ["zstd@zstandard+aes256gcm", "zstd@cramjam+aes256gcm"],
    "snappy+aes256gcm": ["snappy+aes256gcm"],
    "envelope@local": ["envelope@local"],
    "zstd+envelope@local": ["zstd@zstandard+envelope@local", "zstd@cramjam+envelope@local"],
}
"""What a peer writes, and the specs of ours that must read it: every implementation of the
family."""


@dataclass(frozen=True)
class Peer:
    """A foreign program that answers jobs."""

    name: str
    argv: tuple[str, ...]

    def run(self, jobs: list[dict[str, str]], dictionary: Path | None = None) -> list[str]:
        """Each job's error, ``""`` where it succeeded."""
        argv = [*self.argv, "--key", KEY.hex(), "--key-id", KEY_ID]
        if dictionary is not None:
            argv += ["--dict", str(dictionary)]
        done = subprocess.run(
            argv,
            input="".join(json.dumps(job) + "\n" for job in jobs),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        answers = [json.loads(line)["error"] for line in done.stdout.splitlines()]
        assert len(answers) == len(jobs), done.stderr[-2000:]
        return answers


def missing(what: str, install: str) -> None:
    """Skip, outside CI only, with the line that installs what is missing; in CI, fail."""
    message = f"{what} is not installed: {install}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def go_peer(build: Path) -> Peer:
    """``go/payloadcodec.go`` built in GOPATH mode against Debian's packaged libraries (no Go
    module proxy is reachable here)."""
    gopath = Path("/usr/share/gocode")
    needed = ["github.com/klauspost/compress", "github.com/pierrec/lz4", "github.com/golang/snappy"]
    if shutil.which("go") is None or not all((gopath / "src" / n).is_dir() for n in needed):
        missing(
            "Go with Debian's libraries",
            "apt-get install golang-go golang-github-klauspost-compress-dev "
            "golang-github-pierrec-lz4-dev golang-github-golang-snappy-dev "
            "golang-google-protobuf-dev",
        )
    binary = build / "payloadcodec"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(gopath), "GOFLAGS": ""}
    subprocess.run(
        ["go", "build", "-o", str(binary), str(HERE / "go" / "payloadcodec.go")],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return Peer("Go", (str(binary),))


def node_peer() -> Peer:
    """``node/payloadcodec.mjs`` with the packages its lock file pins (``npm ci`` in ``node/``,
    which ``nox -s languages`` runs)."""
    folder = HERE / "node"
    if shutil.which("node") is None:
        missing("Node.js", "apt-get install nodejs npm")
    if not (folder / "node_modules" / "zstd-napi").is_dir():
        missing("The Node peer's packages", f"npm ci --prefix {folder}")
    return Peer("Node", ("node", str(folder / "payloadcodec.mjs")))


def peers_read_ours(
    peer: Peer, spec: str, folder: Path, dicts: tuple[Dictionaries, Path]
) -> list[str]:
    """Every payload encoded by ``spec`` here, decoded by ``peer``: one line per mismatch."""
    codec = from_spec(
        spec,
        keyring=KEYRING,
        dictionaries=dicts[0],
        options=CodecOptions(keep_if_not_smaller=False),
    )
    jobs, originals = [], {}
    for index, (name, build) in enumerate(PAYLOADS.items()):
        original = build()
        [encoded] = encode(codec, [original])
        source, target = folder / f"{index}.in", folder / f"{index}.out"
        source.write_bytes(serialize(encoded))
        jobs.append({"op": "decode", "in": str(source), "out": str(target)})
        originals[name] = (original, target)
    failures = []
    for (name, (original, target)), error in zip(
        originals.items(), peer.run(jobs, dicts[1]), strict=True
    ):
        if error:
            failures.append(f"{name}: {peer.name} failed: {error}")
        elif Payload.FromString(target.read_bytes()) != original:
            failures.append(f"{name}: {peer.name} decoded different bytes")
    return failures


def we_read_the_peers(
    peer: Peer, written: str, folder: Path, dicts: tuple[Dictionaries, Path]
) -> list[str]:
    """Every payload ``peer`` encodes as ``written``, decoded by each of our specs that
    ``PEER_SPECS`` names: one line per mismatch."""
    stages = "zstd" if written == "zstd with a dictionary" else written
    jobs, targets = [], {}
    for index, (name, build) in enumerate(PAYLOADS.items()):
        source, target = folder / f"{index}.in", folder / f"{index}.out"
        source.write_bytes(serialize(build()))
        jobs.append({"op": "encode", "spec": stages, "in": str(source), "out": str(target)})
        targets[name] = (build(), target)
    dictionary = dicts[1] if written == "zstd with a dictionary" else None
    failures = []
    for (name, (original, target)), error in zip(
        targets.items(), peer.run(jobs, dictionary), strict=True
    ):
        if error:
            failures.append(f"{name}: {peer.name} could not encode: {error}")
            continue
        outer = Payload.FromString(target.read_bytes())
        for spec in PEER_SPECS[written]:
            codec = from_spec(spec, keyring=KEYRING, dictionaries=dicts[0])
            try:
                decoded = decode(codec, [outer])
            except Exception as error:  # any failure is a finding, reported with the rest
                failures.append(f"{name}: {spec} failed: {type(error).__name__}: {error}")
                continue
            if decoded != [original]:
                failures.append(f"{name}: {spec} decoded a different payload")
    return failures
