"""What glibc's memory heuristics cost a codec on large payloads: the AES-GCM codec path and its
bare call on one JSON payload of 256 KiB or 1 MiB, in a fresh process for each setting (glibc's
default thresholds, and fixed ones), timing each call and counting the minor page faults it took.

glibc hands buffers of hundreds of kilobytes back to the kernel when they are freed, or not,
depending on what the process allocated before (its thresholds move with the sizes it has seen);
when it does, the next call faults every page of its buffers in again. The codec path holds more
buffers at once than the bare call (the serialized payload, the ciphertext and the outer
payload's copy), so it meets this first. On this project's virtual machine a fault costs about 2
us, more than encrypting the page takes.

    python -m experiments.page_faults

A benchmark, not a test: it prints a table and asserts nothing.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from bench.corpus.synthetic import json_payload

from payload_codecs import Keyring, from_spec, serialize

CALLS = 15
SIZES = (256 << 10, 1 << 20)
FIXED = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}


def _per_call(call: Callable[[], object]) -> tuple[float, float]:
    """Median microseconds and minor page faults per call, after one warm-up call."""
    call()
    times, faults = [], []
    for _ in range(CALLS):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - start) / 1e3)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return statistics.median(times), statistics.median(faults)


def _child(size: int) -> None:
    codec = from_spec("aes256gcm", keyring=Keyring.generate("bench"))
    [stage] = codec.stages
    payload = json_payload(size)
    blob = serialize(payload)
    # In this order, glibc's thresholds have settled on the bare calls' buffers when the codec
    # path starts; other orders (keep one more buffer alive before it, say) settle elsewhere.
    _print("bare encrypt", _per_call(lambda: stage.raw_encode(blob)))
    _print("bare encrypt + decrypt", _per_call(lambda: stage.raw_decode(stage.raw_encode(blob))))
    _print("codec encode", _per_call(lambda: codec.encode_sync([payload])))
    _print(
        "codec encode + decode", _per_call(lambda: codec.decode_sync(codec.encode_sync([payload])))
    )


def _print(name: str, measured: tuple[float, float]) -> None:
    micros, faults = measured
    print(f"{name}|{micros:,.0f} us|{faults:,.0f}")


def main() -> None:
    print("| payload | malloc thresholds | call | median per call | page faults per call |")
    print("|---|---|---|---|---|")
    settings: tuple[tuple[str, dict[str, str]], ...] = (
        ("glibc's defaults", {}),
        ("fixed: mmap 32 MiB, trim 64 MiB", FIXED),
    )
    for size in SIZES:
        for label, extra in settings:
            env = {key: value for key, value in os.environ.items() if key not in FIXED} | extra
            out = subprocess.run(
                [sys.executable, "-m", "experiments.page_faults", "--child", str(size)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for line in out.splitlines():
                print(f"| {size >> 10} KiB | {label} | {' | '.join(line.split('|'))} |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(int(sys.argv[2]))
    else:
        main()
