"""The figures codecs are ranked by, shared by the report, its plots and recommend, so that the
front a plot draws is the front a table marks (no plotting here: ranking loads no matplotlib)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bench.results import ALL, CaseResult


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes (higher is better on both),
    ordered by the first axis."""
    front = [
        i
        for i, (x, y) in enumerate(points)
        if not any(
            (ox >= x and oy >= y) and (ox > x or oy > y)
            for j, (ox, oy) in enumerate(points)
            if j != i
        )
    ]
    return sorted(front, key=lambda i: points[i][0])


def cpu_us_per_kib(case: CaseResult, bucket: str = ALL) -> float | None:
    """Encode plus decode CPU time per KiB of payload (threads counted), codec layer."""
    encode, decode = case.value(bucket, "encode_mbps"), case.value(bucket, "decode_mbps")
    if not encode or not decode:
        return None
    # µs per KiB = 1024 B / (MB/s x 10^6 B/s) x 10^6; CPU/wall is measured over all payloads.
    return 1024 / encode * (case.value(ALL, "encode_cpu_per_wall") or 1.0) + 1024 / decode * (
        case.value(ALL, "decode_cpu_per_wall") or 1.0
    )


def saved_share(case: CaseResult, bucket: str = ALL) -> float:
    """Share of the original bytes a codec saved (negative: it added bytes)."""
    original = case.value(bucket, "original_bytes") or 0.0
    return 1 - (case.value(bucket, "encoded_bytes") or 0.0) / original if original else 0.0


def saving_front(figures: Mapping[str, tuple[float, float]]) -> list[str]:
    """Codecs (by label) that no other beats on both CPU per KiB (lower is better) and bytes
    saved, ordered from the cheapest; a codec that saves nothing is the baseline's corner, not a
    point of the front."""
    labels = [label for label, (_, saved) in figures.items() if saved > 0]
    points = [(-figures[label][0], figures[label][1]) for label in labels]
    return [labels[i] for i in reversed(pareto_front(points))]


def front(cases: Sequence[CaseResult]) -> list[str]:
    """The codec-layer codecs no other beats on both CPU per KiB and bytes saved: the set the
    report's detail table marks and its plot draws."""
    figures = {c.codec: (cpu_us_per_kib(c), saved_share(c)) for c in cases}
    return saving_front({k: (cpu, saved) for k, (cpu, saved) in figures.items() if cpu})
