"""What running a call on the event loop's default executor costs beyond the call itself, the
price of every offload: the same work on the loop's thread and on the executor, interleaved,
best of 10 rounds of 5 calls each. A no-op shows the hand-off alone; SHA-256 of 8 MiB and a
pure-Python loop (both about 5 ms) show what the work pays for running on another thread right
after a hand-off; zstd:3 of a 1 MiB JSON payload is the codec's own case.

    python -m experiments.handoff

A benchmark, not a test: it prints a table and asserts nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

from bench.corpus.synthetic import json_payload

from payload_codecs import from_spec, serialize

ROUNDS = 10
CALLS = 5


async def _compare(work: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float]]:
    loop = asyncio.get_running_loop()
    best: dict[str, list[float]] = {name: [float("inf")] * 2 for name in work}
    for _ in range(ROUNDS):
        for name, call in work.items():
            started = time.perf_counter_ns()
            for _ in range(CALLS):
                call()
            direct = (time.perf_counter_ns() - started) / CALLS
            started = time.perf_counter_ns()
            for _ in range(CALLS):
                await loop.run_in_executor(None, call)
            offloaded = (time.perf_counter_ns() - started) / CALLS
            best[name] = [min(best[name][0], direct), min(best[name][1], offloaded)]
    return {name: (direct, offloaded) for name, (direct, offloaded) in best.items()}


def main() -> None:
    blob = serialize(json_payload(1 << 20))
    stage = from_spec("zstd:3").stages[0]
    zeros = bytes(8 << 20)
    work: dict[str, Callable[[], object]] = {
        "no-op": lambda: None,
        "sha256 of 8 MiB": lambda: hashlib.sha256(zeros).digest(),
        "python loop": lambda: sum(range(300_000)),
        "zstd:3 of 1 MiB JSON": lambda: stage.raw_encode(blob),
    }
    print("| work | on the loop's thread | on the executor | added |")
    print("|---|---|---|---|")
    for name, (direct, offloaded) in asyncio.run(_compare(work)).items():
        print(
            f"| {name} | {direct / 1e3:,.1f} us | {offloaded / 1e3:,.1f} us "
            f"| {(offloaded - direct) / 1e3:,.1f} us |"
        )


if __name__ == "__main__":
    main()
