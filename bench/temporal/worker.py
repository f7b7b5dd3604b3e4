"""The client path's worker, in a process of its own (``python -m bench.temporal.worker``), so
that client and worker do not share one event loop, as in a real deployment.

One Temporal worker per codec, on task queue ``PREFIX-INDEX``, all in this process; with
``--storage-threshold`` each offloads payloads from that size to the S3 bucket given. The harness
talks over stdin/stdout, one JSON line each way: ``take`` answers with the in-codec time per
codec, what each codec's storage driver did, and the event loop's longest stall since the last
``take``; ``exit`` (or end of input)
stops. The process ends with ``os._exit`` once its answer is flushed: the SDK can crash at
interpreter exit (sdk-python issue 300) and nothing of value remains by then.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import sys

from temporalio.client import Client
from temporalio.worker import Worker

from bench.keys import user_keyring
from bench.plan import build_codec
from bench.probes.loopstall import StallMonitor
from bench.temporal.cluster import QUIET_PAYLOAD_BYTES, ClusterOptions, connect
from bench.temporal.codectime import TimedCodec
from bench.temporal.objectstore import (
    DEFAULT_BUCKET,
    S3Target,
    StorageCounts,
    s3_client,
    with_storage,
)
from bench.temporal.workflows import RoundTripWorkflow, echo, task_queue
from payload_codecs import Dictionaries, data_converter

# The answers get stdout to themselves: anything else that writes there (the SDK's core logs)
# is sent to stderr instead, so it cannot garble the protocol. Set up in main().
_answers = sys.stdout


def _send(message: object) -> None:
    _answers.write(json.dumps(message) + "\n")
    _answers.flush()


async def serve(
    cluster: ClusterOptions,
    prefix: str,
    specs: list[str],
    storage: tuple[S3Target, int] | None = None,
) -> None:
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
        _send({"ready": True, "pid": os.getpid()})
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line == "take":
                times = [dataclasses.asdict(codec.take()) for codec in codecs]
                stored = [dataclasses.asdict(count.take()) for count in counts]
                _send({"codecs": times, "storage": stored, "stall_ns": monitor.take()})
            elif line in ("exit", ""):
                break


def main() -> None:
    global _answers  # noqa: PLW0603 - the one process-wide protocol channel
    _answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    parser = argparse.ArgumentParser(prog="python -m bench.temporal.worker")
    ClusterOptions.add_arguments(parser)
    parser.add_argument("--task-queue-prefix", required=True)
    parser.add_argument("--codec", action="append", required=True)
    parser.add_argument("--storage-threshold", type=int)
    parser.add_argument("--s3-endpoint")
    parser.add_argument("--s3-bucket", default=DEFAULT_BUCKET)
    args = parser.parse_args()
    cluster = ClusterOptions.from_args(args)
    storage = None
    if args.storage_threshold is not None:
        storage = (S3Target(args.s3_endpoint, args.s3_bucket), args.storage_threshold)
    code = 0
    try:
        asyncio.run(serve(cluster, args.task_queue_prefix, args.codec, storage))
    except KeyboardInterrupt:
        code = 130
    except Exception as error:  # reported to the harness, which owns the user's terminal
        print(f"worker failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        code = 1
    _answers.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
