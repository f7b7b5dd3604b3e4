"""The cost per byte of every compression stage, the priors in ``Compressor.costs`` that decide
where a codec's work runs before it has timed its own calls.

    python -m experiments.stage_costs [SPEC ...]

For each spec: nanoseconds per byte to compress (per input byte) and to decompress (per output
byte), best of 3, on 1 MiB blocks of the classic files in ``bench/data/classic/`` and of
seeded JSON; the slowest block is printed, since a prior that is too low keeps slow work on the
event loop. A benchmark, not a test: it prints a table and asserts nothing.
"""

from __future__ import annotations

import json
import lzma
import random
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from payload_codecs import CompressionStage, from_spec

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "bench" / "data" / "classic"
BLOCK = 1 << 20
SPECS = [
    "snappy",
    "snappy@cramjam-raw",
    *(f"zstd:{level}" for level in (-5, 1, 3, 6, 9, 12, 19)),
    "zstd:3@cramjam",
    *(f"lz4:{level}" for level in (1, 3, 9, 12)),
    "lz4:1@cramjam",
    *(f"gzip:{level}" for level in (1, 6, 9)),
    "gzip:6@cramjam",
    *(f"zlib:{level}" for level in (1, 6, 9)),
]


def _blocks() -> dict[str, bytes]:
    blocks = {
        f.name.split(".")[0]: lzma.decompress(f.read_bytes())[:BLOCK] for f in FILES.glob("*.xz")
    }
    rng = random.Random(1)
    records = [
        {"id": i, "name": f"order-{rng.randrange(10**6)}", "total": rng.random(), "state": "paid"}
        for i in range(20_000)
    ]
    blocks["json"] = json.dumps(records).encode()[:BLOCK]
    return blocks


def _best_ns(work: Callable[[], object], repeats: int = 3) -> int:
    best = 1 << 62
    for _ in range(repeats):
        started = time.perf_counter_ns()
        work()
        best = min(best, time.perf_counter_ns() - started)
    return best


def main() -> None:
    blocks = _blocks()
    print(f"{'spec':22} {'encode ns/B':>12} {'decode ns/B':>12}  (slowest of {len(blocks)} blocks)")
    for spec in sys.argv[1:] or SPECS:
        [stage] = from_spec(spec).stages
        assert isinstance(stage, CompressionStage)
        compressor = stage.compressor
        encode = decode = 0.0
        for data in blocks.values():
            packed = compressor.compress(data)
            encode = max(encode, _best_ns(partial(compressor.compress, data)) / len(data))
            unpack = partial(compressor.decompress, packed, 64 << 20)
            decode = max(decode, _best_ns(unpack) / len(data))
        print(f"{spec:22} {encode:12.2f} {decode:12.2f}", flush=True)


if __name__ == "__main__":
    main()
