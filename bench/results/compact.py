"""Results that stay small: past a bound, an in-process case keeps summaries of its payloads
rather than a figure per payload.

Every in-process case keeps per payload its sizes, repeat counts and a time per round each
way, about 5.4 bytes a figure in ``results.json``: 21 cases over seven rounds of ten million
payloads would be a file of gigabytes. A run whose cases hold more figures than
:data:`RESULTS_NUMBERS` (``codec-bench run --sample 0`` on a large corpus; a sampled run takes
its share and stays under) has its largest cases compacted until it fits: each size bucket
keeps the per-round series that compare, recommend, history and export test and plot, and a
quantile sketch (DDSketch, 1 % relative accuracy, the format Datadog's agents and libraries
share) of each payload's median time per call each way, from which any percentile is read. The
case's summary is computed from every payload before compacting, so it is exact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from ddsketch import DDSketch
from ddsketch.pb.ddsketch_pb2 import DDSketch as DDSketchMessage
from ddsketch.pb.proto import DDSketchProto
from google.protobuf import json_format

from bench.results.metrics import IN_PROCESS, METRICS, BucketView, bucket_indices
from bench.results.model import CaseResult, Layer
from bench.results.samples import CompactSamples, InProcessSamples

RESULTS_NUMBERS = 1_500_000
"""Per-payload figures a run's ``results.json`` may hold (about 8 MB at 5.4 bytes a figure):
each in-process case keeps per payload its sizes, repeat counts and a time per round each way,
so the quick profile's 21 cases over 7 rounds wrote 10.2 MB for 5,000 payloads."""
RELATIVE_ACCURACY = 0.01
"""A sketch's quantile is within 1 % of the true one: finer than a machine's run-to-run drift."""
SIDES = ("encode", "decode")


def figures(samples: object) -> int:
    """Per-payload figures ``samples`` write to results (0 for compact or other layers')."""
    if not isinstance(samples, InProcessSamples):
        return 0
    return len(samples.original_bytes) * (4 + 2 * samples.rounds)


def within_bound(cases: Sequence[CaseResult], bound: int = RESULTS_NUMBERS) -> list[CaseResult]:
    """``cases`` with the largest raw and codec layer ones compacted until their per-payload
    figures together are at most ``bound``; the others as they are, in the same order (the
    reference layer's few fixed payloads are kept whole: the machine's drift is read from them).
    """
    total = sum(figures(case.samples) for case in cases)
    chosen: set[int] = set()
    for index in sorted(range(len(cases)), key=lambda i: -figures(cases[i].samples)):
        if total <= bound or not figures(cases[index].samples):
            break
        if cases[index].layer is Layer.REFERENCE:
            continue
        total -= figures(cases[index].samples)
        chosen.add(index)
    return [compact(case) if i in chosen else case for i, case in enumerate(cases)]


def compact(case: CaseResult) -> CaseResult:
    """``case`` with its in-process samples replaced by their summaries per size bucket."""
    samples = case.samples
    if not isinstance(samples, InProcessSamples):
        return case
    raw = vars(samples)
    series = [m for m in METRICS if m.series is not None and m.layers & IN_PROCESS]
    buckets = {}
    for bucket, indices in bucket_indices(samples.original_bytes).items():
        view = BucketView(raw, indices, bucket)
        buckets[bucket] = {
            "payloads": len(indices),
            "series": {m.name: m.series(view) for m in series if m.series is not None},
            "sketches": {
                side: _sketch_json(np.median(view.per_call(side), axis=0) / 1e3)
                for side in SIDES
                if view.timed(side)
            },
        }
    kept = CompactSamples(
        payloads=len(samples.original_bytes),
        rounds=samples.rounds,
        buckets=buckets,
        encode_cpu_ns=list(samples.encode_cpu_ns),
        decode_cpu_ns=list(samples.decode_cpu_ns),
        peak_memory_bytes=samples.peak_memory_bytes,
    )
    return dataclasses.replace(case, samples=kept)


def quantile(samples: CompactSamples, bucket: str, side: str, q: float) -> float | None:
    """Quantile ``q`` (0 to 1) of the payloads' median time per call in µs, within the sketch's
    relative accuracy; ``None`` where the bucket or side was not timed."""
    stored = samples.buckets.get(bucket, {}).get("sketches", {}).get(side)
    if stored is None:
        return None
    value = sketch_from_json(stored).get_quantile_value(q)
    return None if value is None else float(value)


def _sketch_json(values: Any) -> dict[str, Any]:
    sketch = DDSketch(RELATIVE_ACCURACY)
    for value in np.asarray(values, dtype=np.float64).tolist():
        sketch.add(value)
    document: dict[str, Any] = json_format.MessageToDict(DDSketchProto.to_proto(sketch))
    return document


def sketch_from_json(document: dict[str, Any]) -> DDSketch:
    """A sketch as :func:`compact` stored it (DDSketch's protobuf message, as JSON)."""
    message = json_format.ParseDict(document, DDSketchMessage())
    sketch: DDSketch = DDSketchProto.from_proto(message)
    return sketch
