"""The client path's worker, in a process of its own (the program ``python -m
bench.commands.worker`` runs :func:`serve`), so that client and worker do not share one event
loop, as in a real deployment.

One Temporal worker per codec, on task queue ``PREFIX-INDEX``, all in this process; with
``--storage-threshold`` each offloads payloads from that size to the S3 bucket given. The harness
talks over stdin/stdout, one JSON line each way: ``take`` answers with the in-codec time per
codec, what each codec's storage driver did, and the event loop's longest stall since the last
``take``; ``exit`` (or end of input)
stops. The process ends with ``os._exit`` once its answer is flushed: the SDK can crash at
interpreter exit (sdk-python issue 300) and nothing of value remains by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import sys
from typing import TextIO

from temporalio.client import Client
from temporalio.worker import Worker

from bench.cluster import ClusterOptions
from bench.codec_rows import build_codec
from bench.keys import user_keyring
from bench.loopstall import StallMonitor
from bench.temporal.codectime import TimedCodec
from bench.temporal.connect import QUIET_PAYLOAD_BYTES, connect
from bench.temporal.objectstore import (
    S3Target,
    StorageCounts,
    s3_client,
    with_storage,
)
from bench.temporal.workflows import RoundTripWorkflow, echo, task_queue
from payload_codecs import Dictionaries, data_converter


def _send(answers: TextIO, message: object) -> None:
    answers.write(json.dumps(message) + "\n")
    answers.flush()


async def serve(
    cluster: ClusterOptions,
    prefix: str,
    specs: list[str],
    storage: tuple[S3Target, int] | None = None,
    *,
    answers: TextIO,
) -> None:
    """Run the workers until ``exit`` or the end of stdin, answering on ``answers`` (a channel
    of its own: the SDK's core logs may write to stdout)."""
    keyring = user_keyring()
    dictionaries = Dictionaries.from_env()  # the run's --dictionaries, when it has them
    codecs = [TimedCodec(build_codec(spec, keyring, dictionaries)) for spec in specs]
    counts = [StorageCounts() for _ in specs]
    base = await connect(cluster, warn_payload_bytes=QUIET_PAYLOAD_BYTES)
    loop = asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as stack, StallMonitor() as monitor:
        s3 = (
            None
            if storage is None
            else await stack.enter_async_context(s3_client(storage[0], os.environ))
        )
        for index, codec in enumerate(codecs):
            converter = data_converter(codec)
            if storage is not None and s3 is not None:
                converter = with_storage(converter, s3, storage[0], storage[1], counts[index])
            client = Client(
                base.service_client, namespace=cluster.namespace, data_converter=converter
            )
            await stack.enter_async_context(
                Worker(
                    client,
                    task_queue=task_queue(prefix, index),
                    workflows=[RoundTripWorkflow],
                    activities=[echo],
                    max_concurrent_activities=64,
                )
            )
        _send(answers, {"ready": True, "pid": os.getpid()})
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line == "take":
                times = [dataclasses.asdict(codec.take()) for codec in codecs]
                stored = [dataclasses.asdict(count.take()) for count in counts]
                _send(answers, {"codecs": times, "storage": stored, "stall_ns": monitor.take()})
            elif line in ("exit", ""):
                break


if __name__ == "__main__":
    # Earlier runs printed their join command with this module: it still starts the worker
    # program, which now lives with the other command lines.
    import runpy

    runpy.run_module("bench.commands.worker", run_name="__main__", alter_sys=True)
