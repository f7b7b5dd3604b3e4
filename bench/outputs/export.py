"""A run in the formats other benchmark tools read: pytest-benchmark JSON (``pytest-benchmark
compare`` and the chart tools that read it), github-action-benchmark's custom JSON and Bencher's
Metric Format (the services that keep results per commit and alert on them).

In pytest-benchmark's, one benchmark per layer, codec, corpus, size bucket and direction
(encode, decode; the client layer's round trip); its samples are the run's rounds: seconds per
payload in the in-process layers (count-weighted: each payload once), seconds per workflow round
trip in the client layer.
pytest-benchmark's own ``Stats`` computes every statistic, so the figures mean what they mean
there. Ratio, throughput and sizes go to ``extra_info``.

The other two carry what a history keeps of a run (``bench.history.points``): one value per
layer, codec, corpus and metric over all payloads, with its 95 % interval.
"""

from __future__ import annotations

import datetime as dt
import platform
from typing import Any

from bench.history.points import Point, points
from bench.results import ALL, CaseResult, Layer, Results
from bench.results.metrics import metric as metric_named
from bench.results.metrics import series_of

FORMAT = "pytest-benchmark"


def _stats(samples: list[float]) -> dict[str, Any]:
    from pytest_benchmark.stats import Stats  # loaded only when a run is exported

    stats = Stats()
    for value in samples:
        stats.update(value)
    document: dict[str, Any] = stats.as_dict()
    # Each sample is already a per-payload (or per-workflow) figure: one iteration per round.
    return {**document, "data": samples, "iterations": 1}


def _extra(case: CaseResult, bucket: str, direction: str) -> dict[str, Any]:
    wanted = {
        "ratio": "ratio",
        "mbps": f"{direction}_mbps",
        "original_bytes": "original_bytes",
        "encoded_bytes": "encoded_bytes",
        "payloads": "payloads",
        "history_bytes_per_workflow": "history_bytes_per_workflow",
    }
    extra: dict[str, Any] = {"layer": case.layer.value, "run_samples": "rounds"}
    for key, metric in wanted.items():
        value = case.value(bucket, metric)
        if value is not None:
            extra[key] = value
    return extra


def _benchmark(case: CaseResult, bucket: str, direction: str, rounds: int) -> dict[str, Any] | None:
    if case.layer is Layer.CLIENT:
        samples = [ms / 1e3 for ms in series_of(case, bucket, "latency_ms")]
    else:
        samples = [us / 1e6 for us in series_of(case, bucket, f"{direction}_us_per_payload")]
    samples = [s for s in samples if s > 0 and s != float("inf")]
    if not samples:
        return None
    name = f"{case.layer.value}[{case.codec}-{case.corpus}-{bucket}-{direction}]"
    params = {"codec": case.codec, "corpus": case.corpus, "bucket": bucket, "side": direction}
    return {
        "group": f"{case.layer.value} {case.corpus} {bucket} {direction}",
        "name": name,
        "fullname": f"codec-bench::{name}",
        "params": params,
        "param": f"{case.codec}-{case.corpus}-{bucket}-{direction}",
        "extra_info": _extra(case, bucket, direction),
        "options": {"min_rounds": rounds, "timer": "perf_counter_ns", "warmup": True},
        "stats": _stats(samples),
    }


def to_pytest_benchmark(results: Results) -> dict[str, Any]:
    """The pytest-benchmark document for ``results`` (its ``--benchmark-json`` layout)."""
    benchmarks = []
    for case in results.cases:
        if case.layer is Layer.REFERENCE:
            continue
        directions = ("round_trip",) if case.layer is Layer.CLIENT else ("encode", "decode")
        for bucket in [b for b in case.buckets if b != ALL] or [ALL]:
            for direction in directions:
                found = _benchmark(case, bucket, direction, results.rounds_completed)
                if found is not None:
                    benchmarks.append(found)
    environment = results.environment
    python = environment.python
    commit = environment.git_commit or ""
    return {
        "machine_info": {
            "node": platform.node(),
            "processor": environment.cpu_model or "",
            "machine": platform.machine(),
            "python_implementation": python.get("implementation", ""),
            "python_version": python.get("version", ""),
            "python_compiler": python.get("compiler", ""),
            "release": platform.release(),
            "system": platform.system(),
            "cpu": {"count": environment.cpu_count},
        },
        "commit_info": {
            "id": commit.removesuffix("-dirty"),
            "dirty": commit.endswith("-dirty"),
            "project": "temporal-codec-bench",
            "run_id": results.run_id,
        },
        "benchmarks": benchmarks,
        "datetime": results.finished or dt.datetime.now(dt.UTC).isoformat(),
        "version": _version(),
    }


def _version() -> str:
    import pytest_benchmark

    return str(pytest_benchmark.__version__)


def _tracked(results: Results) -> list[Point]:
    return [p for p in points([results]) if p.layer != Layer.REFERENCE.value]


def to_github_action_benchmark(results: Results) -> list[dict[str, Any]]:
    """github-action-benchmark's custom format (``tool: customSmallerIsBetter``): every
    figure where smaller is better (times per payload or workflow, stored bytes), so one file
    serves one tool setting; the higher-is-better rates are the same measurements inverted."""
    entries = []
    for point in _tracked(results):
        definition = metric_named(point.metric)
        if definition.higher_is_better:
            continue
        entry: dict[str, Any] = {
            "name": "/".join(point.series),
            "unit": definition.unit or "1",
            "value": point.value,
        }
        if point.low is not None and point.high is not None:
            entry["range"] = f"± {(point.high - point.low) / 2:.4g}"
            entry["extra"] = (
                f"95% CI {point.low:.4g} .. {point.high:.4g} over {point.samples} rounds; "
                f"run {results.run_id}"
            )
        else:
            entry["extra"] = f"exact; run {results.run_id}"
        entries.append(entry)
    return entries


def to_bencher(results: Results) -> dict[str, dict[str, dict[str, float]]]:
    """Bencher Metric Format: one benchmark per layer, codec and corpus, one measure per
    tracked metric (its slug: the metric's name in kebab case), with the 95 % interval as
    ``lower_value`` and ``upper_value`` where there is one."""
    document: dict[str, dict[str, dict[str, float]]] = {}
    for point in _tracked(results):
        measure: dict[str, float] = {"value": point.value}
        if point.low is not None and point.high is not None:
            measure["lower_value"], measure["upper_value"] = point.low, point.high
        benchmark = "/".join(point.series[:3])
        document.setdefault(benchmark, {})[point.metric.replace("_", "-")] = measure
    return document


FORMATS = {
    FORMAT: to_pytest_benchmark,
    "github-action-benchmark": to_github_action_benchmark,
    "bencher": to_bencher,
}
"""Each format's writer: the document it returns is written as JSON."""
