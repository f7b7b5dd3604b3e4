"""Why the codec times its calls in thread CPU time: with CPU-bound processes competing for the
cores, count how many of 3,000 decodes of a 64 KiB payload (lz4, far under the 1 ms budget)
the codec sends to a thread, when its calls are timed by the wall clock and by the thread's
CPU time.

    python -m experiments.preemption [COMPETITORS]   # default 2: one per core here

A benchmark, not a test: it prints counts and asserts nothing.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import types

from bench.corpus.synthetic import json_payload

import payload_codecs._codec as chain
from payload_codecs import from_spec

CALLS = 3000
SIZE = 64 << 10


async def _offloaded(clock: str) -> int:
    chain.time = types.SimpleNamespace(  # type: ignore[attr-defined,assignment]
        thread_time_ns=time.perf_counter_ns if clock == "wall" else time.thread_time_ns
    )
    codec = from_spec("lz4")
    encoded = codec.encode_sync([json_payload(SIZE)])
    budget_ns = codec.options.offload_after_us * 1e3  # type: ignore[operator]
    offloaded = 0
    for _ in range(CALLS):
        offloaded += codec.costs[1] * SIZE >= budget_ns
        await codec.decode(encoded)
    return offloaded


def main() -> None:
    competitors = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(competitors)
    ]
    try:
        for clock in ("wall", "cpu", "wall", "cpu"):
            count = asyncio.run(_offloaded(clock))
            print(f"{clock:4} clock: {count} of {CALLS} decodes of {SIZE >> 10} KiB offloaded")
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


if __name__ == "__main__":
    main()
