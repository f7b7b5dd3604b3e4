"""Results as a file holds them are checked before any reader uses them: every field of every
case, of its type, and each list as long as the layer's others say it must be. A damaged case
(edited by hand, cut short, written by something else) is refused with one line naming the case
and the field, rather than read as figures that report, compare and recommend would then act on.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from bench.results.metrics import TEXT_METRICS
from bench.results.model import CaseResult
from bench.results.samples import (
    ClientSamples,
    CompactSamples,
    DecodeSamples,
    InProcessSamples,
    ReadingSamples,
)


def check_case(case: CaseResult) -> None:
    """``ValueError`` naming the first damaged field of ``case`` (``samples.encode_ns``)."""
    _check_fields(case.facts, "facts")
    _check_fields(case.samples, "samples")
    _check_lengths(case.samples)
    if not isinstance(case.summary, dict) or not all(
        isinstance(bucket, str) and isinstance(metrics, dict)
        for bucket, metrics in case.summary.items()
    ):
        raise ValueError("summary is not a table of metrics by bucket")
    for bucket, metrics in case.summary.items():
        for metric, value in metrics.items():
            if not (_figures(value) or (metric in TEXT_METRICS and isinstance(value, str))):
                raise ValueError(f"summary[{bucket!r}][{metric!r}] is not a figure")


def _figures(value: object) -> bool:
    """A summary's value: a number, none, or tables of them (an estimate with its interval)."""
    if isinstance(value, dict):
        return all(map(_figures, value.values()))
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _check_fields(record: object, prefix: str) -> None:
    hints = typing.get_type_hints(type(record))
    for field in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, field.name)
        if not _fits(value, hints[field.name]):
            raise ValueError(f"{prefix}.{field.name} is not {_named(hints[field.name])}")


def _fits(value: object, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_fits(value, option) for option in typing.get_args(hint))
    if origin is list:
        [item] = typing.get_args(hint)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin is dict:  # its entries are checked by the layer's own checks
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _named(hint: Any) -> str:
    """``list[int]``, ``int | None``: the type as the dataclass states it."""
    if typing.get_origin(hint) is None and hasattr(hint, "__name__"):
        return str(hint.__name__)
    return str(hint).replace("typing.", "")


def _check_lengths(samples: object) -> None:
    """The shapes each layer writes (per payload, per round, per round and payload)."""
    if isinstance(samples, InProcessSamples):
        payloads = len(samples.original_bytes)
        _same(samples, payloads, "encoded_bytes", "encode_repeats", "decode_repeats")
        rounds = len(samples.encode_ns)
        _rows(samples, rounds, payloads, "encode_ns", "decode_ns")
        _same(samples, rounds, "encode_cpu_ns", "decode_cpu_ns")
    elif isinstance(samples, CompactSamples):
        _check_compact(samples)
    elif isinstance(samples, ClientSamples):
        payloads, rounds = len(samples.original_bytes), len(samples.latency_ns)
        _rows(samples, rounds, payloads, "latency_ns", "history_bytes", "client_codec_ns")
        _rows(samples, rounds, payloads, "worker_codec_ns", "worker_stall_ns")
        if len(samples.throughput_wps) > rounds:  # a profile may run fewer throughput passes
            raise ValueError(
                f"samples.throughput_wps has {len(samples.throughput_wps)} entries, more than "
                f"the {rounds} rounds"
            )
        _same(samples, payloads, "workflow_ids", "payload_errors", empty=True)
        if samples.stage_ns:
            _rows(samples, rounds, payloads, "stage_ns")
        if samples.offloaded:
            _rows(samples, rounds, payloads, "offloaded", "s3_objects", "s3_bytes", "storage_ns")
    elif isinstance(samples, ReadingSamples):
        _same(samples, len(samples.show_ns), "show_requests", "show_codec_bytes")
        _same(samples, len(samples.ui_ns), "ui_requests")
    elif isinstance(samples, DecodeSamples):
        _same(samples, len(samples.requests_per_s), "latency_ns")


def _check_compact(samples: CompactSamples) -> None:
    """Each bucket's payload count, its series (figures, at most one per round) and its
    sketches (what DDSketch's protobuf reads)."""
    from google.protobuf.json_format import ParseError

    from bench.results.compact import sketch_from_json

    _same(samples, samples.rounds, "encode_cpu_ns", "decode_cpu_ns")
    for bucket, kept in samples.buckets.items():
        where = f"samples.buckets[{bucket!r}]"
        if not isinstance(kept, dict) or not _fits(kept.get("payloads"), int):
            raise ValueError(f"{where} has no count of payloads")
        for name, values in (kept.get("series") or {}).items():
            if not _fits(values, list[float]) or len(values) > samples.rounds:
                raise ValueError(f"{where}.series[{name!r}] is not a figure per round")
        for side, sketch in (kept.get("sketches") or {}).items():
            try:
                sketch_from_json(sketch)
            except (ParseError, TypeError, AttributeError):
                raise ValueError(f"{where}.sketches[{side!r}] is not a DDSketch") from None


def _same(samples: object, length: int, *names: str, empty: bool = False) -> None:
    for name in names:
        found = len(getattr(samples, name))
        if found != length and not (empty and found == 0):
            raise ValueError(f"samples.{name} has {found} entries where {length} belong")


def _rows(samples: object, rounds: int, payloads: int, *names: str) -> None:
    _same(samples, rounds, *names)
    for name in names:
        for index, row in enumerate(getattr(samples, name)):
            if len(row) != payloads:
                raise ValueError(
                    f"samples.{name}[{index}] has {len(row)} entries, one per payload belongs "
                    f"({payloads})"
                )
