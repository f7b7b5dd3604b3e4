"""Reference workloads: fixed work timed in the same rounds as the codecs, that no change to the
codecs, their libraries or this harness can move. Compare divides each round's codec times by
the reference times of the same round, so that machine drift (a neighbour on the host, a cooler
CPU) is taken out without taking out a real regression of every codec.

Why these two: measured on this project's shared 2-core machine with a CPU-bound process on the
other core, the time of compressing work drifts together between runs by 5-8 % (up to 30 %
within a run), while pure-register work (SHA-256) does not drift and Python-bound work drifts
differently. They are stdlib bz2 and lzma, which no codec here uses (an earlier zlib workload
shared its library with gzip:6 and zlib:6, so a change to zlib would have moved the yardstick
with the thing measured). A large memory copy was dropped: its slices took 0.4x to 8x their
median by whether the allocator handed back touched pages, which is not the machine's speed.

Why several slices a round: one timed block of each workload per round lands at one moment of
the round and beside whichever case the shuffle put before it; its log sd across rounds was
0.11-0.26 with a CPU-bound neighbour, twice the codecs' own round-to-round spread, so dividing
by it widened what it should have tightened. ``SLICES`` timings of each workload, scattered over
the round by the shuffle, give a factor for the whole round (``bench.results.drift``).
"""

from __future__ import annotations

import bz2
import lzma
import random
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


SLICES = 8
"""Timings of each workload per round, each at its own place in the round."""
WORKLOADS: dict[str, tuple[int, Callable[[bytes], Any], Callable[[Any], Any]]] = {
    "bz2": (32 << 10, lambda x: bz2.compress(x, 1), bz2.decompress),
    "lzma": (32 << 10, lambda x: lzma.compress(x, preset=0), lzma.decompress),
}
"""name: (input size, the "encode" work, the "decode" work on its output). Each takes 0.6-2.4 ms
here, so the ``SLICES`` of both add about 50 ms (1.5 %) to a round of the ``ci`` profile."""


def reference_cases() -> list[Case]:
    """One case per workload, ``SLICES`` identical inputs timed at scattered places in each
    round, checked like a codec's raw layer."""
    cases = []
    for name, (size, forward, back) in WORKLOADS.items():
        cases.append(
            Case(
                Layer.REFERENCE,
                name,
                CORPUS,
                "python stdlib",
                CodecFacts(name, "reference"),
                [_text(size)] * SLICES,
                forward,
                back,
                False,
                _same,
                len,
            )
        )
    return cases
