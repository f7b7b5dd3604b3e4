"""Reference workloads: fixed work timed in the same rounds as the codecs, that no change to the
codecs, their libraries or this harness can move. Compare divides each round's codec times by
the reference times of the same round, so that machine drift (a neighbour on the host, a cooler
CPU) is taken out without taking out a real regression of every codec.

Why these three: measured on this project's shared 2-core machine with a CPU-bound process on
the other core, the time of compressing, decrypting and copying work drifts together between
runs by 5-8 % (up to 30 % within a run), while pure-register work (SHA-256) does not drift and
Python-bound work drifts differently. Dividing by the geometric mean of stdlib zlib, stdlib lzma
and a large memory copy, round by round, left 1-4.5 % between processes (median 2.5 %); dividing
by SHA-256 or a Python loop left 4-9 %.
"""

from __future__ import annotations

import lzma
import random
import zlib
from collections.abc import Callable
from typing import Any

from bench.layers.inprocess import Case
from bench.results import CodecFacts, Layer

CORPUS = "reference"
_SEED = 20261128


def _text(size: int) -> bytes:
    """Seeded log-like text: compressible about 4x, like much of what codecs see."""
    rng = random.Random(_SEED)
    words = [f"{w}{i}".encode() for i, w in enumerate(["order", "status", "worker", "id"] * 40)]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choices(words, k=12)) + b" %d\n" % rng.randrange(10**9)
    return bytes(out[:size])


def _same(decoded: Any, original: Any) -> bool:
    return bool(bytes(decoded) == original)


WORKLOADS: dict[str, tuple[int, Callable[[bytes], Any], Callable[[Any], Any]]] = {
    "zlib": (256 << 10, lambda x: zlib.compress(x, 1), zlib.decompress),
    "lzma": (64 << 10, lambda x: lzma.compress(x, preset=0), lzma.decompress),
    "memory": (4 << 20, bytearray, bytes),
}
"""name: (input size, the "encode" work, the "decode" work on its output)."""


def reference_cases() -> list[Case]:
    """One case per workload, timed and checked like a codec's raw layer."""
    cases = []
    for name, (size, forward, back) in WORKLOADS.items():
        library = "python stdlib" if name != "memory" else "bytearray/bytes copies"
        cases.append(
            Case(
                Layer.REFERENCE,
                name,
                CORPUS,
                library,
                CodecFacts(name, "reference"),
                [_text(size)],
                forward,
                back,
                False,
                _same,
                len,
            )
        )
    return cases
