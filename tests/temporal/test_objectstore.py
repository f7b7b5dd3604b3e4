"""External storage in the client layer, against a real dev server and a real S3 API (moto's
server): what fails inline, what offloading and compression let through, what the store holds,
and no S3 server left behind after a normal end, Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import signal
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.cli import main
from bench.corpus import synthetic
from bench.corpus.history import walk
from bench.run.options import S3_BUCKET
from bench.temporal.devserver import DevServer
from bench.temporal.objectstore import (
    LOCAL_CREDENTIALS,
    S3Target,
    StorageCounts,
    bucket_objects,
    local_s3,
    references,
    s3_client,
    with_storage,
)
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.common import RawValue

from payload_codecs import CorpusWriter, Keyring, data_converter
from tests.processes import alive, start_cli, wait_for
from tests.temporal.codec_server import KEY, SPEC, codec_server

pytestmark = pytest.mark.temporal

ONE_ROUND = ["--rounds", "1", "--client-rounds", "1", "--concurrency", "1", "--no-reading"]
ONE_ROUND += ["--storage-threshold", "256KiB"]


@pytest.fixture(scope="module")
def over_limit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compressible 3 MiB JSON payload: over the server's 2 MiB blob limit as it is."""
    corpus = tmp_path_factory.mktemp("large") / "over.corpus"
    with CorpusWriter(corpus, {"kind": "test"}) as writer:
        writer.write(synthetic.json_records(random.Random(5), 3 << 20))
    return corpus


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Target]:
    """A local S3 server of the test's own, so the bucket can be read after the run."""
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with local_s3(S3_BUCKET) as target:
        yield target
    assert target.pid is not None
    assert not alive(target.pid)


def cases_of(cases: dict[tuple[str, str], object]) -> set[str]:
    return {codec for codec, _ in cases}


def _referenced(address: str, workflow_id: str) -> list[str]:
    async def fetch() -> list[str]:
        client = await Client.connect(address)
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        return references(p for event in history.events for _, p, _ in walk(event))

    return asyncio.run(fetch())


def test_over_the_limit_inline_fails_offloaded_passes_and_the_store_holds_what_is_referenced(
    dev_server: DevServer, over_limit: Path, s3: S3Target, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    argv = ["run", "--codec", "zstd:3", "--corpus", str(over_limit), *ONE_ROUND]
    argv += ["--address", dev_server.address, "--s3-endpoint", s3.endpoint, "--out", str(out)]
    assert main(argv) == 0
    document = json.loads((out / "results.json").read_text())
    client = document["layers"]["client"]
    assert client["status"] == "complete"
    assert "S3 driver from 256 KiB" in client["external_storage"]
    cases = {(c["codec"], c["variant"]): c for c in document["cases"] if c["layer"] == "client"}
    inline = cases["none (A)", ""]["samples"]
    assert inline["errors"] == 1
    assert "Blob data size exceeds limit" in inline["first_error"]  # the server's own words
    assert cases["zstd:3@zstandard", ""]["samples"]["errors"] == 0  # compression fits it inline

    objects = bucket_objects(s3, LOCAL_CREDENTIALS)
    for codec in ("none (A)", "none (B)", "zstd:3@zstandard"):
        samples = cases[codec, "s3 from 256 KiB"]["samples"]
        assert samples["errors"] == 0
        [workflow_id] = samples["workflow_ids"]
        keys = _referenced(dev_server.address, workflow_id)
        assert samples["offloaded"] == [[len(keys)]]
        # The driver writes one object per distinct key (content-addressed; input and result
        # share one when their bytes and scope agree); every one is in the bucket, and nothing
        # else of this workflow is.
        mine = {key for key in objects if f"/wi/{workflow_id}/" in key}
        assert mine == set(keys)
        assert samples["s3_objects"] == [[len(mine)]]
        assert samples["s3_bytes"] == [[sum(objects[key] for key in mine)]]
    none_keys = _referenced(
        dev_server.address, cases["none (A)", "s3 from 256 KiB"]["samples"]["workflow_ids"][0]
    )
    assert len(none_keys) == 4  # input, activity input, activity result, result
    # Compressed, the JSON is still over the threshold: offloaded, but smaller in the store.
    offloaded = {codec: cases[codec, "s3 from 256 KiB"]["samples"] for codec in cases_of(cases)}
    assert offloaded["zstd:3@zstandard"]["offloaded"] == [[4]]
    assert offloaded["zstd:3@zstandard"]["s3_bytes"][0][0] < offloaded["none (A)"]["s3_bytes"][0][0]
    large = (out / "report.md").read_text().split("## Large payloads")[1].split("\n## ")[0]
    assert "| 3-4 MiB | inline | none (A) | inline, gRPC gzip | no (1 of 1 failed) |" in large
    assert "| 3-4 MiB | offload | none (A) | s3 from 256 KiB | yes |" in large
    assert "| 3-4 MiB | compress | zstd:3@zstandard | inline, gRPC gzip | yes |" in large
    assert "(RPCError: Blob data size exceeds limit.)" in large


# One signal per cleanup path: Ctrl-C and SIGTERM cancel the run alike (tests/run/test_faults.py
# checks that); the reading layer's test stops its run with SIGINT.
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143)])
def test_no_s3_server_outlives_an_interrupted_run(
    over_limit: Path, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    argv = ["run", "--codec", "zstd:3", "--corpus", str(over_limit), *ONE_ROUND]
    argv += ["--client-rounds", "1000", "--out", str(tmp_path / "run")]
    process = start_cli(argv, stdout=subprocess.DEVNULL)
    seen = wait_for(process, "started local S3 server")
    [pid] = (int(p) for p in re.findall(r"started local S3 server \(moto\) pid (\d+)", seen))
    wait_for(process, "client round")
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert "Traceback" not in err
    assert not alive(pid)
    document = json.loads((tmp_path / "run" / "results.json").read_text())
    assert document["layers"]["client"]["status"] == "interrupted"


async def _offloaded_input(address: str, target: S3Target, payload: Payload) -> Payload:
    """Start a workflow (no worker needed) whose input the SDK offloads after the test codec;
    the reference its history holds."""
    keyring = Keyring.from_mapping({"ui-test": base64.b64encode(KEY).decode()})
    async with s3_client(target, LOCAL_CREDENTIALS) as s3:
        converter = with_storage(
            data_converter(SPEC, keyring=keyring), s3, target, 1024, StorageCounts()
        )
        client = await Client.connect(address, data_converter=converter)
        workflow_id = f"download-{uuid.uuid4()}"
        handle = await client.start_workflow(
            "NoSuchWorkflow", RawValue(payload), id=workflow_id, task_queue=f"none-{workflow_id}"
        )
        history = await handle.fetch_history()
        await handle.terminate()
    started = history.events[0].workflow_execution_started_event_attributes
    [reference] = started.input.payloads
    return reference


def _post(url: str, payloads: list[Payload], namespace: str = "default") -> tuple[int, bytes]:
    body = json_format.MessageToJson(Payloads(payloads=payloads)).encode()
    request = urllib.request.Request(
        url, body, {"Content-Type": "application/json", "X-Namespace": namespace}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_codec_server_downloads_and_decodes_offloaded_payloads(
    dev_server: DevServer, s3: S3Target, tmp_path: Path
) -> None:
    payload = synthetic.json_records(random.Random(3), 300 << 10)
    reference = asyncio.run(_offloaded_input(dev_server.address, s3, payload))
    assert references([reference]) != []  # the history holds a reference, not the payload
    argv = ["--spec", SPEC, "--s3-bucket", s3.bucket, "--s3-endpoint", s3.endpoint]
    with codec_server(*argv, log=tmp_path / "log", env=LOCAL_CREDENTIALS) as served:
        status, body = _post(f"{served.url}/default/download", [reference])
        assert status == 200, body
        assert list(json_format.Parse(body, Payloads()).payloads) == [payload]
        # /decode answers a reference with itself: that is what /download is for.
        status, body = _post(f"{served.url}/default/decode", [reference])
        assert (status, list(json_format.Parse(body, Payloads()).payloads)) == (200, [reference])
        status, body = _post(f"{served.url}/other/download", [reference], namespace="other")
        assert status == 403, body  # stored for namespace default
        status, body = _post(f"{served.url}/default/download", [payload])
        assert status == 400
        assert b"not an external-storage reference" in body
    with codec_server("--spec", SPEC, log=tmp_path / "log2") as plain:
        assert _post(f"{plain.url}/default/download", [reference])[0] == 404


def test_a_bucket_that_is_not_there_fails_before_measuring(
    over_limit: Path, s3: S3Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["run", "--codec", "zstd:3", "--corpus", str(over_limit), *ONE_ROUND]
    argv += ["--s3-endpoint", s3.endpoint, "--s3-bucket", "no-such-bucket", "--out", str(out)]
    assert main(argv) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("codec-bench: error: bucket 'no-such-bucket' at http://127.0.0.1:")
    assert "create it" in line
    assert not (out / "results.json").exists()
