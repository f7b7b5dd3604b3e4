"""Corpora from a real server: histories exported by the temporal CLI, fetched by codec-bench,
and payloads captured by the recording codec in a real worker."""

from __future__ import annotations

import subprocess
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from bench.cli import main
from bench.temporal.devserver import DevServer, temporal_cli
from temporalio import client as temporal_client
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, OutboundInterceptor, StartWorkflowInput
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from payload_codecs import CorpusReader, RecordingCodec
from tests.conftest import SEARCH_ATTRIBUTE
from tests.temporal.workflows import (
    ChildWorkflow,
    EchoWorkflow,
    EverythingWorkflow,
    echo,
    fail_with_details,
    heartbeat_then_stall,
)

pytestmark = pytest.mark.temporal
CONVERTER = DataConverter.default.payload_converter


def _payload(value: Any) -> Payload:
    return CONVERTER.to_payloads([value])[0]


class _HeaderInterceptor(temporal_client.Interceptor):
    """Adds a header payload to every workflow start, as tracing or tenancy interceptors do."""

    def __init__(self, header: Payload) -> None:
        self.header = header

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        header = self.header

        class Outbound(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput) -> Any:
                input.headers = {**input.headers, "x-tenant": header}
                return await super().start_workflow(input)

        return Outbound(next)


def _key(payload: Payload) -> bytes:
    return payload.SerializeToString(deterministic=True)


def _read(path: Path) -> list[Payload]:
    with CorpusReader(path) as reader:
        return list(reader)


@pytest.fixture(scope="module")
def everything(dev_server: DevServer) -> tuple[str, dict[str, Payload]]:
    """Runs EverythingWorkflow once; returns its id and every payload the test sent by name."""
    import asyncio

    tag = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "input": {"heartbeat": f"hb-{tag}", "failure": f"fail-{tag}", "child": f"child-{tag}"},
        "memo": {"owner": f"memo-{tag}"},
        "header": f"header-{tag}",
        "signal": f"signal-{tag}",
        "update": f"update-{tag}",
    }
    sent = {name: _payload(value) for name, value in values.items()}
    inner = values["input"]
    sent.update(
        memo=_payload(values["memo"]["owner"]),  # a memo is a map of one payload per key
        heartbeat=_payload(inner["heartbeat"]),
        failure=_payload(inner["failure"]),
        child=_payload(inner["child"]),
        child_result=_payload(f"{inner['child']}-from-child"),
        update_result=_payload(f"finished-{values['update']}"),
        result=_payload({"signals": [values["signal"]], "child": f"{inner['child']}-from-child"}),
    )
    workflow_id = f"everything-{tag}"

    async def run() -> None:
        client = await Client.connect(
            dev_server.address, interceptors=[_HeaderInterceptor(sent["header"])]
        )
        task_queue = f"corpus-{tag}"
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[EverythingWorkflow, ChildWorkflow],
            activities=[heartbeat_then_stall, fail_with_details],
        ):
            handle = await client.start_workflow(
                EverythingWorkflow.run,
                values["input"],
                id=workflow_id,
                task_queue=task_queue,
                memo=values["memo"],
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(SearchAttributeKey.for_keyword(SEARCH_ATTRIBUTE), tag)]
                ),
            )
            await handle.signal(EverythingWorkflow.note, values["signal"])
            assert await handle.query(EverythingWorkflow.notes) == [values["signal"]]
            assert await handle.execute_update(EverythingWorkflow.finish, values["update"]) == (
                f"finished-{values['update']}"
            )
            await handle.result()

    asyncio.run(run())
    return workflow_id, sent


def _assert_everything_found(found: list[Payload], sent: dict[str, Payload]) -> None:
    keys = Counter(map(_key, found))
    missing = [name for name, payload in sent.items() if keys[_key(payload)] == 0]
    assert missing == []


def test_a_cli_export_imports_every_payload_sent(
    dev_server: DevServer, everything: tuple[str, dict[str, Payload]], tmp_path: Path
) -> None:
    workflow_id, sent = everything
    export = tmp_path / "history.json"
    with export.open("w") as out:
        subprocess.run(
            [
                temporal_cli(),
                "workflow",
                "show",
                "-w",
                workflow_id,
                "--address",
                dev_server.address,
                "--output",
                "json",
            ],
            stdout=out,
            check=True,
            timeout=60,
        )
    corpus = tmp_path / "imported.corpus"
    assert main(["corpus", "import", str(export), "--out", str(corpus)]) == 0
    imported = _read(corpus)
    _assert_everything_found(imported, sent)
    with CorpusReader(corpus) as reader:
        list(reader)
        assert reader.trailer is not None
        assert reader.trailer["skipped"] == {"search_attributes": 1}


def test_corpus_fetch_finds_the_same_payloads_as_the_export(
    dev_server: DevServer, everything: tuple[str, dict[str, Payload]], tmp_path: Path
) -> None:
    workflow_id, sent = everything
    by_id = tmp_path / "by-id.corpus"
    assert (
        main(
            [
                "corpus",
                "fetch",
                "--address",
                dev_server.address,
                "--workflow-id",
                workflow_id,
                "--out",
                str(by_id),
            ]
        )
        == 0
    )
    _assert_everything_found(_read(by_id), sent)
    by_query = tmp_path / "by-query.corpus"
    query = f"WorkflowId = '{workflow_id}'"
    assert (
        main(
            [
                "corpus",
                "fetch",
                "--address",
                dev_server.address,
                "--query",
                query,
                "--limit",
                "5",
                "--out",
                str(by_query),
            ]
        )
        == 0
    )
    assert sorted(map(_key, _read(by_query))) == sorted(map(_key, _read(by_id)))


def test_fetch_of_nothing_writes_nothing(dev_server: DevServer, tmp_path: Path) -> None:
    out = tmp_path / "none.corpus"
    assert (
        main(
            [
                "corpus",
                "fetch",
                "--address",
                dev_server.address,
                "--query",
                "WorkflowId = 'no-such-workflow'",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert not out.exists()


async def _run_echoes(dev_server: DevServer, recorder: RecordingCodec, count: int) -> list[Payload]:
    """Runs ``count`` echo workflows on a worker whose codec records; returns what that worker
    encoded: each activity's input and result, and each workflow's result."""
    import dataclasses

    worker_client = await Client.connect(
        dev_server.address,
        data_converter=dataclasses.replace(DataConverter.default, payload_codec=recorder),
    )
    client = await Client.connect(dev_server.address)
    task_queue = f"record-{uuid.uuid4()}"
    expected = []
    async with Worker(
        worker_client, task_queue=task_queue, workflows=[EchoWorkflow], activities=[echo]
    ):
        for index in range(count):
            value = {"index": index, "tag": uuid.uuid4().hex}
            await client.execute_workflow(
                EchoWorkflow.run, value, id=f"echo-{uuid.uuid4()}", task_queue=task_queue
            )
            expected += [_payload(value)] * 3
    recorder.close()
    return expected


async def test_the_recording_codec_in_a_real_worker_captures_everything_at_rate_one(
    dev_server: DevServer, tmp_path: Path
) -> None:
    path = tmp_path / "recorded.corpus"
    expected = await _run_echoes(dev_server, RecordingCodec(path, rate=1.0), 10)
    assert sorted(map(_key, _read(path))) == sorted(map(_key, expected))


async def test_the_recording_codec_samples_roughly_the_rate_asked(
    dev_server: DevServer, tmp_path: Path
) -> None:
    path = tmp_path / "sampled.corpus"
    expected = await _run_echoes(dev_server, RecordingCodec(path, rate=0.3, seed=5), 60)
    recorded = _read(path)
    # 180 payloads at p=0.3: mean 54, standard deviation 6.1
    assert 30 <= len(recorded) <= 78
    expected_keys = set(map(_key, expected))
    assert all(_key(payload) in expected_keys for payload in recorded)


def test_fetching_a_workflow_that_does_not_exist_is_one_line(
    dev_server: DevServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "none.corpus"
    argv = ["corpus", "fetch", "--address", dev_server.address, "--workflow-id", "no-such-wf"]
    assert main([*argv, "--out", str(out)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("codec-bench: error: ")
    assert "(namespace default); check the workflow id and --namespace" in line
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
