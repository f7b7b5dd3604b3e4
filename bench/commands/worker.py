"""The client layer's worker program, ``python -m bench.commands.worker``: the run starts it as a
child process, and prints its command line so that workers on other machines can join a run.
Its flags become plain options here; the worker itself is ``bench.temporal.worker.serve``.

The process ends with ``os._exit`` once its answer is flushed: the SDK can crash at interpreter
exit (sdk-python issue 300) and nothing of value remains by then."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from bench.commands.common import add_cluster_arguments, cluster_options
from bench.run.options import S3_BUCKET


def parser() -> argparse.ArgumentParser:
    worker = argparse.ArgumentParser(prog="python -m bench.commands.worker", allow_abbrev=False)
    add_cluster_arguments(worker)
    worker.add_argument("--task-queue-prefix", required=True)
    worker.add_argument("--codec", action="append", required=True)
    worker.add_argument("--storage-threshold", type=int)
    worker.add_argument("--s3-endpoint")
    worker.add_argument("--s3-bucket", default=S3_BUCKET)
    return worker


def main() -> None:
    # The answers get stdout to themselves: anything else that writes there (the SDK's core
    # logs) is sent to stderr instead, so it cannot garble the protocol.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    args = parser().parse_args()
    from bench.temporal.objectstore import S3Target
    from bench.temporal.worker import serve

    storage = None
    if args.storage_threshold is not None:
        storage = (S3Target(args.s3_endpoint, args.s3_bucket), args.storage_threshold)
    code = 0
    try:
        asyncio.run(
            serve(
                cluster_options(args), args.task_queue_prefix, args.codec, storage, answers=answers
            )
        )
    except KeyboardInterrupt:
        code = 130
    except Exception as error:  # reported to the harness, which owns the user's terminal
        print(f"worker failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        code = 1
    answers.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
