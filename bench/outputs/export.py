"""A run as pytest-benchmark JSON, so ``pytest-benchmark compare`` and the chart tools that read
that format show harness runs beside pytest-benchmark's own.

One benchmark per layer, codec, corpus, size bucket and direction (encode, decode; the client
layer's round trip); its samples are the run's rounds: seconds per payload in the in-process
layers (count-weighted: each payload once), seconds per workflow round trip in the client layer.
pytest-benchmark's own ``Stats`` computes every statistic, so the figures mean what they mean
there. Ratio, throughput and sizes go to ``extra_info``.
"""

from __future__ import annotations

import datetime as dt
import platform
from typing import Any

from bench.results import ALL, CaseResult, Layer, Results
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
