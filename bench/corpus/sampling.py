"""A sample of a corpus file too large to time whole, drawn in one streaming pass.

A recording of a production namespace holds millions of payloads; timing every one of them
tells little more than timing a few thousand, and holding them all does not fit in memory. A
run therefore times a sample: every payload gets a random priority from a seeded generator; the
sample is the payloads of the lowest priorities, up to a count and a byte budget (a uniform
sample), plus, from every stratum (size bucket x payload type) the uniform part left short, the
lowest-priority payloads of that stratum up to a minimum, so that rare large payloads or rare
types are measured at all. Memory holds the sample and the strata's minimums, never the corpus.

The same pass counts every stratum and hashes every payload, so results still name the whole
corpus (its sha256) and say how the sample relates to it, and measures the sizes, which need no
timing, over every payload under every codec (:class:`Sizer`): one pass over the file in all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from temporalio.api.common.v1 import Payload

from bench.results.buckets import BUCKETS, MIB, bucket_of
from bench.results.compact import RESULTS_NUMBERS

DEFAULT_SIZE = 5_000
"""Payloads a run times from a corpus file by default: timing figures per size bucket are
medians, whose intervals narrow little past a few thousand payloads."""
MEMORY_BUDGET = 512 * MIB
"""What the timed payloads of a run may take in memory, all corpora and their copies together:
every in-process case keeps its encoded payloads for the rounds (an AES-only case as many bytes
as the payloads), beside the payloads and their serialized bytes, so a run of three codec rows
on 1 MiB JSON payloads held 6.5 times the sample's bytes, and more codecs or data that does
not compress hold more."""
MIN_PER_STRATUM = 5
BUCKET_NAMES = [bucket.name for bucket in BUCKETS]
METHOD = (
    "one streaming pass: the payloads of the lowest seeded random priorities up to the size and "
    "byte budget (uniform), plus up to {minimum} more per stratum (payload type x size bucket) "
    "the uniform part left short, within as many bytes again"
)


@dataclass(frozen=True)
class Sampling:
    """How many payloads (and bytes) a run times from one corpus, and the seed that draws
    them. ``size`` 0: time every payload."""

    size: int = DEFAULT_SIZE
    max_bytes: int = MEMORY_BUDGET
    """Payload bytes of the uniform part; as many again at most for the strata's minimums."""
    seed: int = 1
    min_per_stratum: int = MIN_PER_STRATUM

    @property
    def whole(self) -> bool:
        return self.size == 0

    def sharing(self, corpora: int, copies: int, figures: int) -> Sampling:
        """This sampling for one of ``corpora`` corpora measured together, each held
        ``copies`` times over and written as ``figures`` per-payload figures in results: its
        share of the memory budget and of ``RESULTS_NUMBERS`` (``--sample 0`` stays 0: every
        payload, whatever it takes)."""
        share = self.max_bytes // max(1, corpora * copies)
        size = min(self.size, max(RESULTS_NUMBERS // max(1, corpora * figures), 100))
        return dataclasses.replace(
            self, max_bytes=max(share, MIB), size=self.size if self.whole else size
        )


@dataclass(frozen=True)
class Stratum:
    population: int
    population_bytes: int
    sampled: int


@dataclass(frozen=True)
class SampleInfo:
    """What a sample is, as results record it: enough to draw it again from the same file."""

    method: str
    seed: int
    size: int
    """Payloads sampled."""
    max_bytes: int
    population: int
    """Payloads in the corpus."""
    population_bytes: int
    population_digest: str
    """sha256 of the corpus's serialized payloads in order (what an unsampled run records)."""
    strata: dict[str, Stratum] = field(default_factory=dict)
    stratum_of_each: list[int] = field(default_factory=list)
    """Each sampled payload's stratum, as its position in ``strata``, in sample order: what a
    stratified estimate of the corpus weighs the payload's figures by."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> SampleInfo:
        strata = {name: Stratum(**counts) for name, counts in document["strata"].items()}
        return cls(**{**document, "strata": strata})


@dataclass(frozen=True)
class WholeSizes:
    """Sizes over every payload of a corpus file, as results record them for a sampled corpus:
    exact, where the sample's own sizes are estimates."""

    payloads: int
    bytes: int
    encoded: dict[str, int]
    """Encoded payload bytes (serialized, as the server stores them) per codec row."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Sample:
    payloads: list[Payload]
    info: SampleInfo
    indexes: list[int]
    """Each sampled payload's position in the corpus, in corpus order."""
    whole: WholeSizes | None = None
    """The sizes over every payload, when the draw was given a :class:`Sizer`."""


_Entry = tuple[float, int, str, bytes]
"""(minus the priority, position, stratum, serialized payload): heaps keep the lowest
priorities by dropping the largest."""


def stratum_of(payload: Payload, size: int) -> str:
    """``json/plain 16-256KiB``: the payload type (its encoding) and the size bucket of its
    ``size`` serialized bytes."""
    encoding = payload.metadata.get("encoding", b"(none)")
    return f"{encoding.decode('utf-8', 'replace')[:60]} {bucket_of(size).name}"


def _stratum_order(name: str) -> tuple[str, int]:
    """By payload type, then by size bucket from the smallest."""
    kind, _, bucket = name.rpartition(" ")
    return kind, BUCKET_NAMES.index(bucket)


def draw(blobs: Iterable[bytes], sampling: Sampling, sizer: Sizer | None = None) -> Sample:
    """The sample of the serialized payloads ``blobs``, read once, in corpus order; every
    payload also goes to ``sizer``, so the exact sizes come from the same pass."""
    rng = random.Random(sampling.seed)
    uniform: list[_Entry] = []
    uniform_bytes = 0
    least: dict[str, list[_Entry]] = {}
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    hasher = hashlib.sha256()
    for index, blob in enumerate(blobs):
        hasher.update(blob)
        # Parsed once here, for its type and for the sizer (the pass's costliest step).
        payload = Payload.FromString(blob)
        if sizer is not None:
            sizer.add(payload, len(blob))
        stratum = stratum_of(payload, len(blob))
        counts[stratum] += 1
        sizes[stratum] += len(blob)
        entry = (-rng.random(), index, stratum, blob)
        heapq.heappush(uniform, entry)
        uniform_bytes += len(blob)
        while len(uniform) > sampling.size or (
            uniform_bytes > sampling.max_bytes and len(uniform) > 1
        ):
            uniform_bytes -= len(heapq.heappop(uniform)[3])
        kept = least.setdefault(stratum, [])
        heapq.heappush(kept, entry)
        if len(kept) > sampling.min_per_stratum:
            heapq.heappop(kept)
    # The uniform part holds the lowest priorities overall, so each stratum's share of it is
    # that stratum's lowest: adding the stratum's lowest few tops it up to the minimum, within
    # as many bytes again as the uniform part may hold (smallest strata first).
    chosen = {entry[1]: entry for entry in uniform}
    added = 0
    for kept in sorted(least.values(), key=lambda k: sizes[k[0][2]] / counts[k[0][2]]):
        for entry in sorted(kept, reverse=True):
            if entry[1] not in chosen and added + len(entry[3]) <= sampling.max_bytes:
                chosen[entry[1]] = entry
                added += len(entry[3])
    order = sorted(chosen)
    sampled = Counter(chosen[i][2] for i in order)
    names = sorted(counts, key=_stratum_order)
    position = {name: index for index, name in enumerate(names)}
    info = SampleInfo(
        method=METHOD.format(minimum=sampling.min_per_stratum),
        seed=sampling.seed,
        size=len(order),
        max_bytes=sampling.max_bytes,
        population=sum(counts.values()),
        population_bytes=sum(sizes.values()),
        population_digest=hasher.hexdigest(),
        strata={name: Stratum(counts[name], sizes[name], sampled[name]) for name in names},
        stratum_of_each=[position[chosen[i][2]] for i in order],
    )
    whole = sizer.result() if sizer is not None else None
    return Sample([Payload.FromString(chosen[i][3]) for i in order], info, order, whole)


Encoder = Callable[[Sequence[Payload]], list[Payload]]
CHUNK_PAYLOADS = 256
CHUNK_BYTES = 8 * MIB


class Sizer:
    """Payloads, serialized bytes and, per encoder, encoded bytes over every payload it is
    given, as a stream (``CHUNK_PAYLOADS`` payloads or ``CHUNK_BYTES`` in memory at a time,
    with each encoder's output of them): the size figures a sample only estimates."""

    def __init__(self, encoders: Mapping[str, Encoder]) -> None:
        self.encoders = encoders
        self._encoded: Counter[str] = Counter()
        self._chunk: list[Payload] = []
        self._held = self._count = self._bytes = 0

    def add(self, payload: Payload, size: int) -> None:
        """One more payload, of ``size`` serialized bytes."""
        self._count += 1
        self._bytes += size
        self._chunk.append(payload)
        self._held += size
        if len(self._chunk) == CHUNK_PAYLOADS or self._held >= CHUNK_BYTES:
            self._flush()

    def _flush(self) -> None:
        for name, encode in self.encoders.items():
            self._encoded[name] += sum(p.ByteSize() for p in encode(self._chunk))
        self._chunk, self._held = [], 0

    def result(self) -> WholeSizes:
        self._flush()
        return WholeSizes(self._count, self._bytes, {n: self._encoded[n] for n in self.encoders})
