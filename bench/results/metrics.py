"""The one registry of metrics: what each figure means, in which layers it exists, which way is
better, how it is summarised from the raw samples and how two runs compare on it.

Report tables, CSV names, compare's timed and size rows and recommend's figures all come from
here. Adding a metric is one :class:`Metric` row (with the function that summarises it) plus the
code in a layer that records the raw samples it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import Any

import numpy as np

from bench.results.buckets import BUCKETS, LIMIT_BYTES, WARN_BYTES, bucket_of
from bench.results.model import ALL, CaseResult, Layer
from bench.results.samples import FAILED, CompactSamples
from bench.results.stages import NAMES
from bench.results.stats import median_ci, percentiles, quantile_ci

Floats = np.ndarray[Any, np.dtype[np.float64]]


class CompareAs(Enum):
    """How compare treats a metric between two runs of the same case."""

    TIMED = "timed"
    """Tested for a significant change on its raw series."""
    SIZE = "size"
    """Must be identical (within the metric's tolerance) for the same codec and data."""
    NONE = "none"


class BucketView:
    """The raw samples of one case restricted to the payloads of one size bucket, with the
    arrays that several metrics read computed once."""

    def __init__(self, samples: Mapping[str, Any], indices: Sequence[int], bucket: str) -> None:
        self.samples = samples
        self.indices = list(indices)
        self.bucket = bucket

    @property
    def whole(self) -> bool:
        return self.bucket == ALL

    @cached_property
    def original(self) -> list[int]:
        return [self.samples["original_bytes"][i] for i in self.indices]

    @cached_property
    def encoded(self) -> list[int]:
        return [self.samples["encoded_bytes"][i] for i in self.indices]

    def timed(self, side: str) -> bool:
        return bool(self.samples.get(f"{side}_ns"))

    def per_call(self, side: str) -> Floats:
        """Rounds x payloads of this bucket, nanoseconds per call."""
        rows = self.samples[f"{side}_ns"]
        repeats = np.asarray(self.samples[f"{side}_repeats"], dtype=np.float64)
        blocks = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(repeats))
        per_call: Floats = (blocks / repeats)[:, self.indices]
        return per_call

    def best_mbps(self, side: str) -> float:
        """lzbench's best: each payload's fastest pass, added up (not the fastest round)."""
        return float(sum(self.original) / self.per_call(side).min(axis=0).sum() * 1e3)

    def round_mbps(self, side: str) -> list[float]:
        """MB/s of original bytes in each round over this bucket's payloads."""
        round_ns = self.per_call(side).sum(axis=1)
        return [float(x) for x in sum(self.original) / round_ns * 1e3]

    def cells(self, name: str) -> list[int]:
        """Client layer: the per-workflow samples of every round, failed workflows left out."""
        return [row[i] for row in self.samples[name] for i in self.indices if row[i] != FAILED]


def bucket_indices(original_bytes: Sequence[int]) -> dict[str, list[int]]:
    """Payload indices by size bucket of their original size, ``"all"`` first, in bucket order."""
    groups: dict[str, list[int]] = {ALL: list(range(len(original_bytes)))}
    for index, size in enumerate(original_bytes):
        groups.setdefault(bucket_of(size).name, []).append(index)
    order = [ALL, *(b.name for b in BUCKETS)]
    return {name: groups[name] for name in order if groups.get(name)}


Summarise = Callable[[BucketView], Any]
"""The metric's summary value for one bucket, or ``None`` when it cannot be computed there."""


@dataclass(frozen=True)
class Metric:
    """One figure a case can have. ``series`` gives the raw values compare tests on."""

    name: str
    unit: str
    description: str
    layers: frozenset[Layer]
    summarise: Summarise
    higher_is_better: bool | None = None
    comparison: CompareAs = CompareAs.NONE
    tolerance: float = 0.0
    """Relative change a SIZE metric may show between runs of the same codec and data."""
    series: Callable[[BucketView], list[float]] | None = None
    text: bool = False
    """Words (the first error), where every other metric is a figure."""


IN_PROCESS = frozenset({Layer.RAW, Layer.CODEC, Layer.REFERENCE})
CLIENT = frozenset({Layer.CLIENT})
READING = frozenset({Layer.READING})


def _ratio(v: BucketView) -> float | None:
    stored = sum(v.encoded)
    return sum(v.original) / stored if stored else None


def _mbps(side: str) -> Summarise:
    def summarise(v: BucketView) -> dict[str, float | int] | None:
        if not v.timed(side):
            return None
        estimate = median_ci(v.round_mbps(side)).to_json()
        estimate["best"] = v.best_mbps(side)
        return estimate

    return summarise


def _us_series(side: str) -> Callable[[BucketView], list[float]]:
    def series(v: BucketView) -> list[float]:
        return (v.per_call(side).mean(axis=1) / 1e3).tolist() if v.timed(side) else []

    return series


def _geomean_series(side: str) -> Callable[[BucketView], list[float]]:
    def series(v: BucketView) -> list[float]:
        if not v.timed(side):
            return []
        per_round = np.exp(np.log(v.per_call(side)).mean(axis=1)) / 1e3
        return [float(x) for x in per_round]

    return series


def _median_of(series: Callable[[BucketView], list[float]]) -> Summarise:
    """A time metric's summary: the median over rounds of its per-round series, with its CI."""

    def summarise(v: BucketView) -> dict[str, float | int] | None:
        rounds = series(v)
        return median_ci(rounds, higher_is_better=False).to_json() if rounds else None

    return summarise


def _mbps_series(side: str) -> Callable[[BucketView], list[float]]:
    return lambda v: v.round_mbps(side) if v.timed(side) else []


def _payloads_per_s(side: str) -> Summarise:
    def summarise(v: BucketView) -> float | None:
        if not v.timed(side):
            return None
        return len(v.indices) / float(np.median(v.per_call(side).sum(axis=1))) * 1e9

    return summarise


def _latency_us(side: str) -> Summarise:
    def summarise(v: BucketView) -> dict[str, float] | None:
        if not v.timed(side):
            return None
        return percentiles((np.median(v.per_call(side), axis=0) / 1e3).tolist())

    return summarise


def _us_per_kib(side: str) -> Summarise:
    def summarise(v: BucketView) -> dict[str, float] | None:
        if not v.timed(side):
            return None
        per_payload = np.median(v.per_call(side), axis=0) / 1e3  # µs, each payload's median
        per_kib = per_payload / (np.asarray(v.original, dtype=np.float64) / 1024)
        return percentiles(per_kib.tolist(), (50, 99))

    return summarise


def _cpu_per_wall(side: str) -> Summarise:
    def summarise(v: BucketView) -> float | None:
        if not v.whole or not v.timed(side):
            return None
        wall = np.asarray(v.samples[f"{side}_ns"], dtype=float).sum(axis=1)
        return float(np.median(np.asarray(v.samples[f"{side}_cpu_ns"]) / wall))

    return summarise


def _count_over(limit: int, which: str) -> Summarise:
    return lambda v: sum(size > limit for size in getattr(v, which))


def _round_latency_ms(v: BucketView) -> list[float]:
    """Per round, the median round trip of this bucket's workflows in milliseconds, a failed
    workflow counting as infinitely slow (so failing never looks fast); for bucket ``all``, the
    geometric mean of the size buckets' medians (sizes are never pooled into one sample)."""
    if v.whole:
        buckets = bucket_indices(v.samples["original_bytes"])
        groups = [group for name, group in buckets.items() if name != ALL]
    else:
        groups = [v.indices]
    per_round = []
    for row in v.samples["latency_ns"]:
        medians = [
            float(np.median([row[i] / 1e6 if row[i] != FAILED else np.inf for i in group]))
            for group in groups
        ]
        per_round.append(float(np.exp(np.mean(np.log(medians)))))
    return per_round


def _latency_ms(v: BucketView) -> dict[str, Any] | None:
    rounds = [x for x in _round_latency_ms(v) if np.isfinite(x)]
    return median_ci(rounds, higher_is_better=False).to_json() if rounds else None


def _failed(v: BucketView) -> int:
    return sum(row[i] == FAILED for row in v.samples["latency_ns"] for i in v.indices)


def _slowest_ms(v: BucketView) -> float | None:
    cells = v.cells("latency_ns")
    return max(cells) / 1e6 if cells else None


def _cell_median(name: str, scale: float) -> Summarise:
    def summarise(v: BucketView) -> float | None:
        if not v.cells("latency_ns"):
            return None
        return float(np.median(v.cells(name))) / scale

    return summarise


def _stored_median(name: str, scale: float) -> Summarise:
    """A client-layer storage figure, only where the case offloaded (else there is nothing to
    say, rather than a zero that reads as measured)."""
    inner = _cell_median(name, scale)
    return lambda v: inner(v) if v.samples.get(name) else None


def _max_stall_ms(v: BucketView) -> float | None:
    return max(v.cells("worker_stall_ns")) / 1e6 if v.cells("latency_ns") else None


def _stage_ms(v: BucketView) -> dict[str, float] | None:
    rows = [row[i] for row in v.samples.get("stage_ns", []) for i in v.indices if row[i]]
    if not rows:
        return None
    medians = np.median(np.asarray(rows, dtype=np.float64), axis=0) / 1e6
    return {name: float(x) for name, x in zip(NAMES, medians, strict=True)}


def _whole(key: str) -> Summarise:
    return lambda v: v.samples.get(key) if v.whole else None


def _throughput(v: BucketView) -> dict[str, float | int] | None:
    if not v.whole or not v.samples["throughput_wps"]:
        return None
    return median_ci(v.samples["throughput_wps"]).to_json()


def _completed_ms(key: str) -> Callable[[BucketView], list[float]]:
    """Reading layer: the rounds' times in milliseconds, failed readings left out (counted in
    ``failed_readings``); a history's and a /decode load's cases hold different samples."""
    return lambda v: [x / 1e6 for x in v.samples.get(key, []) if x != FAILED]


def _quantiles_ms(key: str) -> Summarise:
    """p50 and p90 over rounds, each with its distribution-free interval."""

    def summarise(v: BucketView) -> dict[str, Any] | None:
        times = _completed_ms(key)(v)
        if not times:
            return None
        return {
            name: quantile_ci(times, q, higher_is_better=False).to_json()
            for name, q in (("p50", 0.5), ("p90", 0.9))
        }

    return summarise


def _round_median(key: str) -> Summarise:
    return lambda v: float(np.median(v.samples[key])) if v.samples.get(key) else None


def _request_ms(v: BucketView) -> dict[str, Any] | None:
    """/decode over HTTP: p50 and p90 of every request of every round."""
    times = [x / 1e6 for row in v.samples.get("latency_ns", []) for x in row]
    if "requests_per_s" not in v.samples or not times:
        return None
    return {
        name: quantile_ci(times, q, higher_is_better=False).to_json()
        for name, q in (("p50", 0.5), ("p90", 0.9))
    }


def _requests_per_s(v: BucketView) -> dict[str, float | int] | None:
    rates = v.samples.get("requests_per_s")
    return median_ci(rates).to_json() if rates else None


def _speed(side: str) -> list[Metric]:
    """How fast a whole bucket goes, each with the raw series compare tests on."""
    return [
        Metric(
            f"{side}_mbps",
            "MB/s",
            f"{side} throughput in MB/s of original bytes, byte-weighted (all bytes over all "
            "time): median over rounds with its 95% CI; best is lzbench's (each payload's "
            "fastest pass, added up)",
            IN_PROCESS,
            _mbps(side),
            higher_is_better=True,
            comparison=CompareAs.TIMED,
            series=_mbps_series(side),
        ),
        Metric(
            f"{side}_us_per_payload",
            "µs",
            f"{side} time per payload, count-weighted (every payload counts once): median over "
            "rounds of each round's mean, with its 95% CI",
            IN_PROCESS,
            _median_of(_us_series(side)),
            higher_is_better=False,
            comparison=CompareAs.TIMED,
            series=_us_series(side),
        ),
        Metric(
            f"{side}_geomean_us",
            "µs",
            f"{side} time per payload, geometric mean over the payloads of each round (every "
            "payload in proportion, whatever its size: a change hitting small or large payloads "
            "moves it alike): median over rounds with its 95% CI; what the regression gate reads",
            IN_PROCESS,
            _median_of(_geomean_series(side)),
            higher_is_better=False,
            comparison=CompareAs.TIMED,
            series=_geomean_series(side),
        ),
        Metric(
            f"{side}_payloads_per_s",
            "1/s",
            f"payloads {side}d per second (median round)",
            IN_PROCESS,
            _payloads_per_s(side),
            higher_is_better=True,
        ),
    ]


def _per_payload(side: str) -> list[Metric]:
    """How single payloads fare: the spread across a bucket's payloads, and CPU use."""
    return [
        Metric(
            f"{side}_latency_us",
            "µs",
            f"{side} time of single payloads (each payload's median over rounds): percentiles "
            "across the bucket's payloads, so they show the spread of sizes, not a tail",
            IN_PROCESS,
            _latency_us(side),
            higher_is_better=False,
        ),
        Metric(
            f"{side}_us_per_kib",
            "µs/KiB",
            f"{side} time per KiB of each payload (its median over rounds): p50 and p99 across "
            "the bucket's payloads; per KiB, so sizes do not dominate the tail",
            IN_PROCESS,
            _us_per_kib(side),
            higher_is_better=False,
        ),
        Metric(
            f"{side}_cpu_per_wall",
            "",
            f"process CPU time over wall time while {side[:-1]}ing (above 1: threads helped)",
            IN_PROCESS,
            _cpu_per_wall(side),
        ),
    ]


READING_METRICS = (
    Metric(
        "payloads_in_history",
        "",
        "reading layer: payloads the history holds (input, signals, result)",
        READING,
        lambda v: len(v.indices) if "show_ns" in v.samples else None,
    ),
    Metric(
        "show_ms",
        "ms",
        "reading layer: wall time of `temporal workflow show --output json` with the codec "
        "server (the baseline without one), p50 and p90 over rounds with their intervals",
        READING,
        _quantiles_ms("show_ns"),
        higher_is_better=False,
        comparison=CompareAs.TIMED,
        series=_completed_ms("show_ns"),
    ),
    Metric(
        "show_requests",
        "",
        "reading layer: codec-server requests one `workflow show` made (from its /metrics)",
        READING,
        _round_median("show_requests"),
    ),
    Metric(
        "show_codec_bytes",
        "B",
        "reading layer: payload bytes one `workflow show` sent the codec server to decode",
        READING,
        _round_median("show_codec_bytes"),
        higher_is_better=False,
    ),
    Metric(
        "ui_ms",
        "ms",
        "reading layer: Web UI, navigation to the workflow page showing its decoded input and "
        "result with every codec request it made answered (browser clock), p50 and p90",
        READING,
        _quantiles_ms("ui_ns"),
        higher_is_better=False,
        comparison=CompareAs.TIMED,
        series=_completed_ms("ui_ns"),
    ),
    Metric(
        "ui_requests",
        "",
        "reading layer: codec-server requests the Web UI page made",
        READING,
        _round_median("ui_requests"),
    ),
    Metric(
        "reading_history_bytes",
        "B",
        "reading layer: history_size_bytes the server stores for the history",
        READING,
        _whole("history_bytes"),
        higher_is_better=False,
        comparison=CompareAs.SIZE,
        tolerance=0.01,
    ),
    Metric(
        "failed_readings",
        "",
        "reading layer: CLI or UI readings that failed",
        READING,
        _whole("errors"),
        higher_is_better=False,
    ),
    Metric(
        "reading_error",
        "",
        "reading layer: the first failure",
        READING,
        _whole("first_error"),
        text=True,
    ),
    Metric(
        "decode_request_ms",
        "ms",
        "reading layer: one /decode request over HTTP (one payload of the case's size), p50 "
        "and p90 over every request",
        READING,
        _request_ms,
        higher_is_better=False,
    ),
    Metric(
        "decode_requests_per_s",
        "1/s",
        "reading layer: /decode requests answered per second at the case's concurrency",
        READING,
        _requests_per_s,
        higher_is_better=True,
        comparison=CompareAs.TIMED,
        series=lambda v: list(v.samples.get("requests_per_s", [])),
    ),
)


METRICS: tuple[Metric, ...] = (
    Metric("payloads", "", "count of payloads", IN_PROCESS, lambda v: len(v.indices)),
    Metric(
        "original_bytes",
        "B",
        "serialized bytes before encoding",
        IN_PROCESS,
        lambda v: sum(v.original),
    ),
    Metric(
        "encoded_bytes",
        "B",
        "serialized bytes after encoding, as Temporal stores them",
        IN_PROCESS,
        lambda v: sum(v.encoded),
        comparison=CompareAs.SIZE,
    ),
    Metric(
        "ratio",
        "",
        "original_bytes / encoded_bytes",
        IN_PROCESS,
        _ratio,
        higher_is_better=True,
    ),
    Metric(
        "bytes_saved",
        "B",
        "original_bytes - encoded_bytes",
        IN_PROCESS,
        lambda v: sum(v.original) - sum(v.encoded),
        higher_is_better=True,
    ),
    Metric(
        "over_warning_before",
        "",
        "payloads above 512 KiB (server warns) before encoding",
        IN_PROCESS,
        _count_over(WARN_BYTES, "original"),
    ),
    Metric(
        "over_warning_after",
        "",
        "the same after encoding",
        IN_PROCESS,
        _count_over(WARN_BYTES, "encoded"),
    ),
    Metric(
        "over_limit_before",
        "",
        "payloads above 2 MiB (server rejects) before encoding",
        IN_PROCESS,
        _count_over(LIMIT_BYTES, "original"),
    ),
    Metric(
        "over_limit_after",
        "",
        "the same after encoding",
        IN_PROCESS,
        _count_over(LIMIT_BYTES, "encoded"),
    ),
    Metric(
        "max_encoded_bytes",
        "B",
        "largest payload after encoding",
        IN_PROCESS,
        lambda v: max(v.encoded, default=0),
    ),
    Metric(
        "peak_memory_bytes",
        "B",
        "peak Python-heap growth over one pass (bucket all only)",
        IN_PROCESS,
        _whole("peak_memory_bytes"),
        higher_is_better=False,
    ),
    *_speed("encode"),
    *_per_payload("encode"),
    *_speed("decode"),
    *_per_payload("decode"),
    Metric(
        "workflows",
        "",
        "client layer: workflows run in the sequential rounds",
        CLIENT,
        lambda v: len(v.indices) * len(v.samples["latency_ns"]),
    ),
    Metric(
        "original_bytes_per_workflow",
        "B",
        "client layer: payload bytes each workflow carries, before encoding",
        CLIENT,
        lambda v: sum(v.samples["original_bytes"][i] for i in v.indices) / len(v.indices),
    ),
    Metric(
        "latency_ms",
        "ms",
        "client layer: workflow round trip, the median over rounds of each round's median (in "
        "bucket all: the geometric mean over size buckets, each bucket counting once); a failed "
        "workflow counts as infinitely slow, a round whose median failed is left out and counted",
        CLIENT,
        _latency_ms,
        higher_is_better=False,
        comparison=CompareAs.TIMED,
        series=lambda v: [x for x in _round_latency_ms(v) if np.isfinite(x)],
    ),
    Metric(
        "failed_rounds",
        "",
        "client layer: rounds whose median workflow failed",
        CLIENT,
        lambda v: sum(not np.isfinite(x) for x in _round_latency_ms(v)),
    ),
    Metric(
        "failed_workflows",
        "",
        "client layer: workflows that failed in the sequential rounds, by size bucket",
        CLIENT,
        _failed,
        higher_is_better=False,
    ),
    Metric(
        "slowest_ms",
        "ms",
        "client layer: the slowest single workflow that completed (one sample, not a percentile)",
        CLIENT,
        _slowest_ms,
        higher_is_better=False,
    ),
    Metric(
        "history_bytes_per_workflow",
        "B",
        "client layer: history_size_bytes the server stores (median)",
        CLIENT,
        _cell_median("history_bytes", 1.0),
        higher_is_better=False,
        comparison=CompareAs.SIZE,
        tolerance=0.01,  # the history holds workflow ids and timestamps
    ),
    Metric(
        "offloaded_per_workflow",
        "",
        "client layer, external storage: payloads the stored history holds as references "
        "(median; input, activity input and result, result)",
        CLIENT,
        _stored_median("offloaded", 1.0),
    ),
    Metric(
        "s3_objects_per_workflow",
        "",
        "client layer, external storage: objects written to the store by client and worker",
        CLIENT,
        _stored_median("s3_objects", 1.0),
    ),
    Metric(
        "s3_bytes_per_workflow",
        "B",
        "client layer, external storage: bytes written to the store by client and worker",
        CLIENT,
        _stored_median("s3_bytes", 1.0),
        higher_is_better=False,
        comparison=CompareAs.SIZE,
        tolerance=0.01,
    ),
    Metric(
        "storage_ms_per_workflow",
        "ms",
        "client layer, external storage: wall time inside the store's calls, client + worker",
        CLIENT,
        _stored_median("storage_ns", 1e6),
        higher_is_better=False,
    ),
    Metric(
        "client_codec_us_per_workflow",
        "µs",
        "client layer: time inside the codec in the client",
        CLIENT,
        _cell_median("client_codec_ns", 1e3),
        higher_is_better=False,
    ),
    Metric(
        "worker_codec_us_per_workflow",
        "µs",
        "client layer: time inside the codec in the worker",
        CLIENT,
        _cell_median("worker_codec_ns", 1e3),
        higher_is_better=False,
    ),
    Metric(
        "worker_max_stall_ms",
        "ms",
        "client layer: the worker's longest event-loop stall",
        CLIENT,
        _max_stall_ms,
        higher_is_better=False,
    ),
    Metric(
        "stage_ms",
        "ms",
        "client layer: the round trip by stage (bench.temporal.stages), the median of each "
        "stage over this bucket's workflows; the medians need not add up to the round trip's",
        CLIENT,
        _stage_ms,
    ),
    Metric(
        "first_error",
        "",
        "client layer: the first failure",
        CLIENT,
        _whole("first_error"),
        text=True,
    ),
    Metric(
        "concurrency",
        "",
        "client layer: workflows in flight in the throughput pass",
        CLIENT,
        _whole("concurrency"),
    ),
    Metric(
        "throughput_wps",
        "1/s",
        "client layer: workflows per second at `concurrency` in flight",
        CLIENT,
        _throughput,
        higher_is_better=True,
        comparison=CompareAs.TIMED,
        series=lambda v: list(v.samples["throughput_wps"]) if v.whole else [],
    ),
    *READING_METRICS,
)
BY_NAME = {metric.name: metric for metric in METRICS}


def metric(name: str) -> Metric:
    return BY_NAME[name]


def of_layer(layer: Layer, comparison: CompareAs | None = None) -> list[Metric]:
    """The metrics a layer has, optionally only those compared in one way."""
    return [
        m
        for m in METRICS
        if layer in m.layers and (comparison is None or m.comparison is comparison)
    ]


def summarise(layer: Layer, samples: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every metric of ``layer`` per size bucket (by original size) and for all payloads."""
    out: dict[str, dict[str, Any]] = {}
    groups = bucket_indices(samples["original_bytes"])
    if layer is Layer.READING:  # a history is read whole: its payloads are not split by size
        groups = {ALL: groups[ALL]}
    for bucket, indices in groups.items():
        view = BucketView(samples, indices, bucket)
        values = {m.name: m.summarise(view) for m in of_layer(layer)}
        out[bucket] = {name: value for name, value in values.items() if value is not None}
    return out


def series_of(case: CaseResult, bucket: str, name: str) -> list[float]:
    """The raw values behind metric ``name`` of ``case`` in ``bucket`` that runs are compared
    on (per-round MB/s, per-workflow milliseconds, ...); empty when it has none."""
    m = BY_NAME[name]
    if isinstance(case.samples, CompactSamples):
        return list(case.samples.buckets.get(bucket, {}).get("series", {}).get(name, []))
    indices = bucket_indices(case.samples.original_bytes).get(bucket)
    if m.series is None or case.layer not in m.layers or not indices:
        return []
    return m.series(BucketView(vars(case.samples), indices, bucket))


TEXT_METRICS = frozenset(metric.name for metric in METRICS if metric.text)
