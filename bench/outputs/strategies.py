"""For payloads near and over Temporal's limits, what each way of sending them did (inline,
compressed, offloaded to external storage, compressed then offloaded), by payload size class,
from the client layer's raw samples: plain data for the report's section and its plot.

Sizes are finer here than the report's buckets: the interesting edges (2 MiB blob limit, 4 MiB
gRPC message) all fall in the last bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.results import CaseResult, Layer, Results
from bench.results.buckets import KIB, MIB
from bench.results.samples import FAILED, ClientSamples

SIZE_CLASSES = (
    (256 * KIB, "256 KiB-1 MiB"),
    (MIB, "1-2 MiB"),
    (2 * MIB, "2-3 MiB"),
    (3 * MIB, "3-4 MiB"),
    (4 * MIB, "4-8 MiB"),
    (8 * MIB, "8-16 MiB"),
    (16 * MIB, "16 MiB and more"),
)
"""Lower bound and name of each size class, by the payload's size before the codec. Smaller
payloads are left out: below every threshold and limit, they travel inline whatever is chosen."""
STRATEGIES = ("inline", "compress", "offload", "compress, then offload")


def size_class(size: int) -> str | None:
    found = None
    for low, name in SIZE_CLASSES:
        if size >= low:
            found = name
    return found


def strategy(case: CaseResult) -> str:
    offloads = case.route is not None and case.route.offloads
    if case.facts.baseline:
        return "offload" if offloads else "inline"
    return "compress, then offload" if offloads else "compress"


@dataclass(frozen=True)
class Cell:
    """One case's workflows whose payloads fall in one size class, over every round."""

    workflows: int
    failed: int
    error: str
    p50_ms: float | None
    history: float | None
    stored: float | None
    """Bytes written to the object store per workflow (median); ``None`` when inline."""

    @property
    def passes(self) -> bool:
        return self.failed == 0


def _median(rows: Sequence[Sequence[int]], indices: Sequence[int]) -> float | None:
    cells = [row[i] for row in rows for i in indices if row[i] != FAILED]
    return float(np.median(cells)) if cells else None


def cells(case: CaseResult) -> dict[str, Cell]:
    """The client-layer case's figures by size class, in class order."""
    samples = case.samples
    if not isinstance(samples, ClientSamples):
        return {}
    by_class: dict[str, list[int]] = {}
    for index, size in enumerate(samples.original_bytes):
        if (name := size_class(size)) is not None:
            by_class.setdefault(name, []).append(index)
    errors = samples.payload_errors
    found = {}
    for name, indices in by_class.items():
        latency = samples.latency_ns
        p50 = _median(latency, indices)
        found[name] = Cell(
            workflows=len(indices) * len(latency),
            failed=sum(row[i] == FAILED for row in latency for i in indices),
            error=next((errors[i] for i in indices if i < len(errors) and errors[i]), ""),
            p50_ms=None if p50 is None else p50 / 1e6,
            history=_median(samples.history_bytes, indices),
            stored=_median(samples.s3_bytes, indices) if samples.s3_bytes else None,
        )
    order = [name for _, name in SIZE_CLASSES]
    return {name: found[name] for name in order if name in found}


def large_cases(results: Results, corpus: str) -> list[CaseResult]:
    """The client cases of ``corpus`` with payloads in a size class, one baseline replica per
    route, ordered by strategy."""
    cases = [
        c
        for c in results.cases_of(Layer.CLIENT, corpus)
        if cells(c)
        and (not c.facts.baseline or c is results.baseline(Layer.CLIENT, corpus, c.variant))
    ]
    return sorted(cases, key=lambda c: STRATEGIES.index(strategy(c)))
