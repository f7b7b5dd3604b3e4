"""The results file: versioned JSON with the environment, the raw samples and their summaries.

Report, compare and recommend all read this one file; nothing else carries results. Schema
version 1 (``results.json``)::

    schema, schema_version        "temporal-codec-bench/results", 1
    run_id, started, finished     ISO 8601 UTC
    interrupted                   true if Ctrl-C stopped the run; what was measured is kept
    profile, rounds_planned, rounds_completed, command
    environment                   CPU, load, Python, package and native library versions, malloc
                                  variables, git commit (see bench.results.environment)
    corpora[]                     name, digest (sha256 of the payloads), payload_count,
                                  total_bytes, provenance, skipped
    cases[]                       one per layer x codec x corpus:
        layer                     "raw" (bytes to bytes), "codec" (PayloadCodec on Payloads) or
                                  "client" (a workflow round trip through client, server, worker)
        codec, corpus, library
        samples                   original_bytes[i], encoded_bytes[i] (serialized, metadata
                                  included), encode_repeats[i], decode_repeats[i],
                                  encode_ns[round][i], decode_ns[round][i] (time of repeats[i]
                                  calls), encode_cpu_ns[round], decode_cpu_ns[round],
                                  peak_memory_bytes
        summary                   {bucket name or "all": metrics}, see METRICS
      client-layer samples        original_bytes[i] of the sampled payloads; per round r and
                                  payload i: latency_ns, history_bytes (history_size_bytes from
                                  describe), client_codec_ns, worker_codec_ns, worker_stall_ns
                                  (-1 where the workflow failed); throughput_wps[r] at
                                  `concurrency`; errors, first_error, workflow_ids (last round)
    client                        how the client layer ran: server (embedded or address),
                                  rounds, per_bucket, concurrency, or why it did not

Throughput is in MB/s of original bytes (1 MB = 10^6 bytes, as lzbench counts).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.layers.client import ClientSamples
from bench.layers.inprocess import Samples
from bench.results.buckets import BUCKETS, LIMIT_BYTES, WARN_BYTES, bucket_of
from bench.results.stats import median_ci, percentile_ci, percentiles

SCHEMA = "temporal-codec-bench/results"
SCHEMA_VERSION = 1
ALL = "all"
METRICS = {
    "payloads": "count of payloads",
    "original_bytes": "serialized bytes before encoding",
    "encoded_bytes": "serialized bytes after encoding, as Temporal stores them",
    "ratio": "original_bytes / encoded_bytes",
    "bytes_saved": "original_bytes - encoded_bytes",
    "encode_mbps": "encode throughput in MB/s of original bytes: median, 95% CI, best, rounds",
    "decode_mbps": "decode throughput in MB/s of original bytes",
    "encode_payloads_per_s": "payloads encoded per second (median round)",
    "decode_payloads_per_s": "payloads decoded per second (median round)",
    "encode_latency_us": "per-payload encode time percentiles (p50, p90, p99), microseconds",
    "decode_latency_us": "per-payload decode time percentiles",
    "encode_cpu_per_wall": "process CPU time over wall time while encoding (>1: threads)",
    "decode_cpu_per_wall": "the same while decoding",
    "over_warning_before": "payloads above 512 KiB (server warns) before encoding",
    "over_warning_after": "the same after encoding",
    "over_limit_before": "payloads above 2 MiB (server rejects) before encoding",
    "over_limit_after": "the same after encoding",
    "max_encoded_bytes": "largest payload after encoding",
    "peak_memory_bytes": "peak Python-heap growth over one pass (bucket all only)",
    "latency_ms": "client layer: workflow round-trip time percentiles with 95% CIs",
    "history_bytes_per_workflow": "client layer: history_size_bytes the server stores (median)",
    "client_codec_us_per_workflow": "client layer: time inside the codec in the client",
    "worker_codec_us_per_workflow": "client layer: time inside the codec in the worker",
    "worker_max_stall_ms": "client layer: the worker's longest event-loop stall",
    "throughput_wps": "client layer: workflows per second at `concurrency` in flight",
    "errors": "client layer: workflows that failed",
}


class ResultsError(ValueError):
    """A results file is missing, unreadable, or of another schema version."""


@dataclass(frozen=True)
class CaseResult:
    layer: str
    codec: str
    corpus: str
    library: str
    samples: dict[str, Any]
    summary: dict[str, dict[str, Any]]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.layer, self.codec, self.corpus)


@dataclass(frozen=True)
class Results:
    run_id: str
    started: str
    finished: str
    interrupted: bool
    profile: str
    rounds_planned: int
    rounds_completed: int
    command: list[str]
    environment: dict[str, Any]
    corpora: list[dict[str, Any]]
    cases: list[CaseResult]
    extra: dict[str, Any] = field(default_factory=dict)
    """Sections added by other layers (the client path); kept as they are."""

    def cases_of(self, layer: str, corpus: str) -> list[CaseResult]:
        """The cases of one layer and corpus, in the order they were measured."""
        return [c for c in self.cases if c.layer == layer and c.corpus == corpus]

    def case(self, layer: str, codec: str, corpus: str) -> CaseResult | None:
        return next((c for c in self.cases if c.key == (layer, codec, corpus)), None)

    def to_json(self) -> dict[str, Any]:
        document = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, **asdict(self)}
        document.update(document.pop("extra"))
        return document

    @classmethod
    def from_json(cls, document: Any, source: str = "results") -> Results:
        if not isinstance(document, dict) or document.get("schema") != SCHEMA:
            raise ResultsError(f"{source} is not a codec-bench results file")
        version = document.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ResultsError(
                f"{source} has results schema version {version!r}; this codec-bench reads "
                f"version {SCHEMA_VERSION}. Use the codec-bench version that wrote it"
            )
        known = {f for f in cls.__dataclass_fields__ if f != "extra"} | {"schema", "schema_version"}
        try:
            return cls(
                **{k: document[k] for k in cls.__dataclass_fields__ if k not in ("cases", "extra")},
                cases=[CaseResult(**case) for case in document["cases"]],
                extra={k: v for k, v in document.items() if k not in known},
            )
        except (KeyError, TypeError) as error:
            raise ResultsError(f"{source} is a damaged results file ({error})") from None


def bucket_indices(original_bytes: Sequence[int]) -> dict[str, list[int]]:
    """Payload indices by size bucket of their original size, ``"all"`` first, in bucket order."""
    groups: dict[str, list[int]] = {ALL: list(range(len(original_bytes)))}
    for index, size in enumerate(original_bytes):
        groups.setdefault(bucket_of(size).name, []).append(index)
    order = [ALL, *(b.name for b in BUCKETS)]
    return {name: groups[name] for name in order if groups.get(name)}


def summarize(samples: Samples) -> dict[str, dict[str, Any]]:
    """Metrics per size bucket (by original size) and for all payloads together."""
    groups = bucket_indices(samples.original_bytes)
    return {name: _metrics(samples, indices, name == ALL) for name, indices in groups.items()}


def round_throughput(
    rows: list[list[int]], repeats: list[int], indices: list[int], total_bytes: int
) -> list[float]:
    """MB/s of original bytes in each round over the payloads ``indices``."""
    round_ns = _per_call(rows, repeats)[:, indices].sum(axis=1)
    return [float(x) for x in total_bytes / round_ns * 1e3]


def series(case: CaseResult, bucket: str, metric: str) -> list[float]:
    """The raw samples behind ``metric`` of ``case`` in ``bucket``, for tests between runs:
    per-round MB/s for ``encode_mbps``/``decode_mbps``, per-workflow milliseconds for the client
    layer's ``latency_ms``, per-round workflows/s for ``throughput_wps``; empty if none."""
    s = case.samples
    indices = bucket_indices(s["original_bytes"]).get(bucket, [])
    if not indices:
        return []
    client = case.layer == "client"
    if metric in ("encode_mbps", "decode_mbps") and not client:
        side = metric.removesuffix("_mbps")
        if not s[f"{side}_ns"]:
            return []
        total = sum(s["original_bytes"][i] for i in indices)
        return round_throughput(s[f"{side}_ns"], s[f"{side}_repeats"], indices, total)
    if metric == "latency_ms" and client:
        return [row[i] / 1e6 for row in s["latency_ns"] for i in indices if row[i] >= 0]
    if metric == "throughput_wps" and client and bucket == ALL:
        return list(s["throughput_wps"])
    return []


def _per_call(rows: list[list[int]], repeats: list[int]) -> np.ndarray[Any, np.dtype[np.float64]]:
    blocks = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(repeats))
    per_call: np.ndarray[Any, np.dtype[np.float64]] = blocks / np.asarray(repeats, dtype=np.float64)
    return per_call


def _metrics(s: Samples, indices: list[int], whole: bool) -> dict[str, Any]:
    original = [s.original_bytes[i] for i in indices]
    encoded = [s.encoded_bytes[i] for i in indices]
    total, stored = sum(original), sum(encoded)
    metrics: dict[str, Any] = {
        "payloads": len(indices),
        "original_bytes": total,
        "encoded_bytes": stored,
        "ratio": total / stored if stored else None,
        "bytes_saved": total - stored,
        "over_warning_before": sum(size > WARN_BYTES for size in original),
        "over_warning_after": sum(size > WARN_BYTES for size in encoded),
        "over_limit_before": sum(size > LIMIT_BYTES for size in original),
        "over_limit_after": sum(size > LIMIT_BYTES for size in encoded),
        "max_encoded_bytes": max(encoded, default=0),
    }
    if whole:
        metrics["peak_memory_bytes"] = s.peak_memory_bytes
    for side, rows, repeats, cpu in (
        ("encode", s.encode_ns, s.encode_repeats, s.encode_cpu_ns),
        ("decode", s.decode_ns, s.decode_repeats, s.decode_cpu_ns),
    ):
        if not rows:
            continue
        per_call = _per_call(rows, repeats)[:, indices]  # rounds x payloads, ns per call
        round_ns = per_call.sum(axis=1)
        metrics[f"{side}_mbps"] = median_ci(
            round_throughput(rows, repeats, indices, total)
        ).to_json()
        metrics[f"{side}_payloads_per_s"] = len(indices) / float(np.median(round_ns)) * 1e9
        metrics[f"{side}_latency_us"] = percentiles((np.median(per_call, axis=0) / 1e3).tolist())
        if whole:
            wall = np.asarray(rows, dtype=float).sum(axis=1)
            metrics[f"{side}_cpu_per_wall"] = float(np.median(np.asarray(cpu) / wall))
    return metrics


def _client_metrics(s: ClientSamples, indices: list[int], whole: bool) -> dict[str, Any]:
    def cells(rows: list[list[int]]) -> list[int]:
        return [row[i] for row in rows for i in indices if row[i] >= 0]

    latency_ms = [ns / 1e6 for ns in cells(s.latency_ns)]
    metrics: dict[str, Any] = {
        "workflows": len(indices) * len(s.latency_ns),
        "original_bytes_per_workflow": sum(s.original_bytes[i] for i in indices) / len(indices),
    }
    if latency_ms:
        metrics["latency_ms"] = {
            f"p{q}": percentile_ci(latency_ms, q).to_json() for q in (50, 90, 99)
        }
        metrics["history_bytes_per_workflow"] = float(np.median(cells(s.history_bytes)))
        metrics["client_codec_us_per_workflow"] = float(np.median(cells(s.client_codec_ns))) / 1e3
        metrics["worker_codec_us_per_workflow"] = float(np.median(cells(s.worker_codec_ns))) / 1e3
        metrics["worker_max_stall_ms"] = max(cells(s.worker_stall_ns)) / 1e6
    if whole:
        metrics["errors"] = s.errors
        metrics["first_error"] = s.first_error
        metrics["concurrency"] = s.concurrency
        if s.throughput_wps:
            metrics["throughput_wps"] = median_ci(s.throughput_wps).to_json()
    return metrics


def client_case_result(samples: ClientSamples) -> CaseResult:
    """A client-layer case: its samples and metrics per size bucket of the sampled payloads."""
    summary = {
        name: _client_metrics(samples, indices, name == ALL)
        for name, indices in bucket_indices(samples.original_bytes).items()
    }
    raw = asdict(samples)
    label, corpus = raw.pop("label"), raw.pop("corpus")
    return CaseResult("client", label, corpus, "temporal dev server or cluster", raw, summary)


def case_result(samples: Samples) -> CaseResult:
    raw = asdict(samples)
    layer, codec, corpus, library = (raw.pop(k) for k in ("layer", "label", "corpus", "library"))
    return CaseResult(layer, codec, corpus, library, raw, summarize(samples))


def samples_of(case: CaseResult) -> Samples:
    """The raw samples of a stored case, to summarize again (e.g. a subset of rounds)."""
    return Samples(case.layer, case.codec, case.corpus, case.library, **case.samples)


def _atomic_write(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".partial", dir=path.parent
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            write(out)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save(results: Results, path: Path) -> None:
    """Write ``results`` to ``path`` atomically (a reader never sees half a file)."""
    _atomic_write(path, lambda out: json.dump(results.to_json(), out, separators=(",", ":")))


def load(path: str | os.PathLike[str]) -> Results:
    """Read a results file; :class:`ResultsError` with one line for every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ResultsError(f"cannot read results {os.fspath(path)!r}: {error.strerror}") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise ResultsError(
            f"{os.fspath(path)} is not JSON; expected a codec-bench results.json"
        ) from None
    return Results.from_json(document, os.fspath(path))


def csv_rows(results: Results) -> Iterator[list[Any]]:
    """One row per layer, codec, corpus, bucket and metric (long format, for pandas)."""
    yield ["run_id", "layer", "codec", "corpus", "bucket", "metric", "value", "ci_low", "ci_high"]
    for case in results.cases:
        for bucket, metrics in case.summary.items():
            prefix = [results.run_id, case.layer, case.codec, case.corpus, bucket]
            for name, value in metrics.items():
                if isinstance(value, dict) and "median" in value:
                    yield [*prefix, name, value["median"], value["low"], value["high"]]
                    yield [*prefix, f"{name}_best", value["best"], "", ""]
                elif isinstance(value, dict):
                    for sub, number in value.items():
                        yield [*prefix, f"{name}_{sub}", number, "", ""]
                else:
                    yield [*prefix, name, "" if value is None else value, "", ""]


def save_csv(results: Results, path: Path) -> None:
    _atomic_write(path, lambda out: csv.writer(out).writerows(csv_rows(results)))
