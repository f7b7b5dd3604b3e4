"""Seeded synthetic payloads shaped like what Temporal users send, made by the SDK's own payload
converter so that metadata and JSON layout are exactly what a worker would produce.

The same seed and options give byte-identical payloads (no clock, no global random state).
"""

from __future__ import annotations

import base64
import json
import math
import random
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload, WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsResponse
from temporalio.converter import BinaryProtoPayloadConverter, DataConverter

from bench import __version__
from bench.results.buckets import KIB, LIMIT_BYTES, Bucket

_CONVERTER = DataConverter.default.payload_converter
_PROTO = BinaryProtoPayloadConverter()
_WORDS = [
    "order",
    "customer",
    "invoice",
    "shipment",
    "payment",
    "refund",
    "account",
    "user",
    "session",
    "request",
    "response",
    "status",
    "pending",
    "active",
    "completed",
    "failed",
    "retry",
    "timeout",
    "region",
    "warehouse",
    "product",
    "price",
    "quantity",
    "discount",
    "currency",
    "address",
    "city",
    "country",
    "email",
    "phone",
    "note",
    "priority",
]
_STATUSES = ["PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]
_LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]


@dataclass
class LineItem:
    sku: str
    description: str
    quantity: int
    unit_price: float


@dataclass
class Order:
    """A dataclass argument as workflows and activities typically take."""

    order_id: str
    customer_id: str
    email: str
    status: str
    created_at: str
    total: float
    tags: list[str] = field(default_factory=list)
    items: list[LineItem] = field(default_factory=list)


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=length))


def _timestamp(rng: random.Random) -> str:
    return (
        f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    )


def _record(rng: random.Random) -> dict[str, Any]:
    return {
        "id": rng.randrange(10**12),
        "name": f"{rng.choice(_WORDS)}-{_token(rng, 6)}",
        "status": rng.choice(_STATUSES),
        "updated_at": _timestamp(rng),
        "amount": round(rng.uniform(0, 5000), 2),
        "attributes": {rng.choice(_WORDS): rng.choice(_WORDS) for _ in range(rng.randint(1, 4))},
        "note": " ".join(rng.choices(_WORDS, k=rng.randint(0, 12))),
    }


def small_json(rng: random.Random, size: int) -> Payload:
    """A dataclass argument (an order with line items), 64 B to 2 KiB."""
    order = Order(
        order_id=f"ord-{_token(rng, 10)}",
        customer_id=f"cus-{_token(rng, 8)}",
        email=f"{_token(rng, 7)}@example.com",
        status=rng.choice(_STATUSES),
        created_at=_timestamp(rng),
        total=0.0,
    )
    while len(str(order)) < size * 0.8:
        item = LineItem(
            _token(rng, 8).upper(),
            " ".join(rng.choices(_WORDS, k=3)),
            rng.randint(1, 9),
            round(rng.uniform(1, 300), 2),
        )
        order.items.append(item)
        order.total = round(order.total + item.quantity * item.unit_price, 2)
        if len(order.tags) < 4:
            order.tags.append(rng.choice(_WORDS))
    return _CONVERTER.to_payloads([order])[0]


def json_records(rng: random.Random, size: int) -> Payload:
    """A JSON document holding a list of records (a page of query results, a batch)."""
    records: list[dict[str, Any]] = []
    length = 0
    while length < size:
        record = _record(rng)
        records.append(record)
        length += len(json.dumps(record, separators=(",", ":"))) + 1  # as the converter writes

    return _CONVERTER.to_payloads([{"page": rng.randint(1, 100), "records": records}])[0]


def log_text(rng: random.Random, size: int) -> Payload:
    """Log-like text (a string argument: build output, a transcript, a report)."""
    lines = []
    length = 0
    while length < size:
        line = (
            f"{_timestamp(rng)} {rng.choice(_LEVELS):5} [{rng.choice(_WORDS)}-worker-"
            f"{rng.randint(1, 16)}] {' '.join(rng.choices(_WORDS, k=rng.randint(4, 14)))} "
            f"id={_token(rng, 12)} took={rng.randint(1, 900)}ms"
        )
        lines.append(line)
        length += len(line) + 1
    return _CONVERTER.to_payloads(["\n".join(lines)])[0]


def base64_json(rng: random.Random, size: int) -> Payload:
    """A binary attachment base64-encoded inside a JSON object (a common anti-pattern)."""
    blob = rng.randbytes(max(0, size * 3 // 4 - 96))
    return _CONVERTER.to_payloads(
        [
            {
                "filename": f"{_token(rng, 10)}.pdf",
                "content_type": "application/pdf",
                "uploaded_at": _timestamp(rng),
                "content": base64.b64encode(blob).decode(),
            }
        ]
    )[0]


def protobuf(rng: random.Random, size: int) -> Payload:
    """A binary protobuf message (``binary/protobuf``): a page of workflow executions."""
    response = ListWorkflowExecutionsResponse(next_page_token=rng.randbytes(16))
    while response.ByteSize() < size:
        start = Timestamp(seconds=1_780_000_000 + rng.randrange(10**7), nanos=rng.randrange(10**9))
        response.executions.append(
            WorkflowExecutionInfo(
                execution=WorkflowExecution(
                    workflow_id=f"{rng.choice(_WORDS)}-{_token(rng, 12)}",
                    run_id=str(rng.getrandbits(128)),
                ),
                type=WorkflowType(name=f"{rng.choice(_WORDS).title()}Workflow"),
                start_time=start,
                status=rng.choice(list(WorkflowExecutionStatus.values())),
                history_length=rng.randint(5, 5000),
                task_queue=f"{rng.choice(_WORDS)}-queue",
                history_size_bytes=rng.randint(1000, 10**7),
            )
        )
    payload = _PROTO.to_payload(response)
    assert payload is not None
    return payload


def large_protobuf(rng: random.Random, size: int) -> Payload:
    """:func:`protobuf` at MiB sizes: 16 KiB pages concatenated, which protobuf reads as one
    message with every page's executions (building one message of 16 MiB execution by
    execution re-measures it each time and takes minutes)."""
    first = protobuf(rng, min(size, 16 << 10))
    data = bytearray(first.data)
    while len(data) < size:
        data += protobuf(rng, min(size - len(data), 16 << 10)).data
    return Payload(metadata=first.metadata, data=bytes(data))


def random_bytes(rng: random.Random, size: int) -> Payload:
    """Incompressible bytes (``binary/plain``): encrypted or already compressed data."""
    return _CONVERTER.to_payloads([rng.randbytes(size)])[0]


@dataclass(frozen=True)
class Shape:
    """One kind of payload with the data sizes it comes in."""

    name: str
    make: Callable[[random.Random, int], Payload]
    low: int
    high: int


# Large JSON stops short of the 2 MiB limit so that the SDK's metadata still fits under it.
SHAPES: tuple[Shape, ...] = (
    Shape("small-json", small_json, 64, 2 * KIB),
    Shape("medium-json", json_records, 4 * KIB, 256 * KIB),
    Shape("large-json", json_records, 256 * KIB, LIMIT_BYTES - 16 * KIB),
    Shape("log-text", log_text, KIB, 128 * KIB),
    Shape("base64-json", base64_json, KIB, 256 * KIB),
    Shape("protobuf", protobuf, 256, 64 * KIB),
    Shape("random-bytes", random_bytes, 64, 256 * KIB),
)
SHAPES_BY_NAME = {shape.name: shape for shape in SHAPES}
DEFAULT_MIX: Mapping[str, int] = {
    "small-json": 40,
    "medium-json": 15,
    "large-json": 2,
    "log-text": 12,
    "base64-json": 8,
    "protobuf": 15,
    "random-bytes": 8,
}
DEFAULT_COUNT = 300
DEFAULT_SEED = 0


def parse_mix(text: str) -> dict[str, int]:
    """``name=weight,...``; ``ValueError`` naming the valid shapes otherwise."""
    mix: dict[str, int] = {}
    for item in text.split(","):
        name, sep, weight = item.strip().partition("=")
        if name not in SHAPES_BY_NAME:
            raise ValueError(
                f"unknown payload shape {name!r}; choose from: {', '.join(SHAPES_BY_NAME)}"
            )
        if not sep or not weight.strip().isdigit():
            raise ValueError(
                f"mix entry {item.strip()!r} must be name=WHOLE_NUMBER, e.g. small-json=40"
            )
        mix[name] = int(weight)
    if not any(mix.values()):
        raise ValueError("the mix gives every shape weight 0; nothing to generate")
    return mix


def _counts(count: int, mix: Mapping[str, int]) -> dict[str, int]:
    # Largest remainder: exact totals, so the mix is what was asked, not a random draw.
    total = sum(mix.values())
    exact = {name: count * weight / total for name, weight in mix.items()}
    counts = {name: math.floor(value) for name, value in exact.items()}
    short = count - sum(counts.values())
    for name in sorted(exact, key=lambda n: exact[n] - counts[n], reverse=True)[:short]:
        counts[name] += 1
    return counts


def _ranges(shape: Shape, buckets: tuple[Bucket, ...] | None) -> list[tuple[int, int]]:
    if buckets is None:
        return [(shape.low, shape.high)]
    ranges = [(max(shape.low, b.low), min(shape.high, b.high - 1)) for b in buckets]
    return [(low, high) for low, high in ranges if low <= high]


def _size(rng: random.Random, ranges: list[tuple[int, int]]) -> int:
    # Log-uniform: as many payloads around 1 KiB as around 100 KiB, as real traffic tends to be.
    weights = [math.log(high + 1) - math.log(low) + 1e-9 for low, high in ranges]
    low, high = rng.choices(ranges, weights)[0]
    return min(high, int(math.exp(rng.uniform(math.log(low), math.log(high + 1)))))


def generate(
    seed: int = DEFAULT_SEED,
    count: int = DEFAULT_COUNT,
    mix: Mapping[str, int] | None = None,
    buckets: tuple[Bucket, ...] | None = None,
) -> Iterator[Payload]:
    """``count`` payloads in a shuffled order, shapes apportioned by ``mix`` weights, sizes drawn
    within each shape's range (restricted to ``buckets`` when given)."""
    mix = dict(DEFAULT_MIX if mix is None else mix)
    usable = {
        name: _ranges(SHAPES_BY_NAME[name], buckets) for name, weight in mix.items() if weight
    }
    usable = {name: ranges for name, ranges in usable.items() if ranges}
    if not usable:
        raise ValueError("no payload shape of the mix comes in the chosen size buckets")
    rng = random.Random(seed)
    counts = _counts(count, {name: mix[name] for name in usable})
    order = [name for name, n in counts.items() for _ in range(n)]
    rng.shuffle(order)
    for name in order:
        yield SHAPES_BY_NAME[name].make(rng, _size(rng, usable[name]))


def provenance(
    seed: int, count: int, mix: Mapping[str, int] | None, buckets: tuple[Bucket, ...] | None
) -> dict[str, Any]:
    """What made a synthetic corpus; no timestamp, so equal options give equal files."""
    return {
        "kind": "synthetic",
        "generator": "bench.corpus.synthetic",
        "seed": seed,
        "count": count,
        "mix": dict(DEFAULT_MIX if mix is None else mix),
        "buckets": None if buckets is None else [b.name for b in buckets],
        "tool_version": __version__,
    }


def json_payload(size: int, seed: int = 1) -> Payload:
    """A ``json/plain`` payload of ``size`` data bytes: typical JSON records (ids, names, tags,
    floats), compressible like real workflow data."""
    rng = random.Random(seed)
    out = bytearray(b"[")
    while len(out) < size:
        record = {
            "id": rng.randrange(10**9),
            "name": f"user{rng.randrange(10**4)}",
            "tags": [rng.choice("abcdefgh") for _ in range(5)],
            "score": rng.random(),
        }
        out += json.dumps(record).encode() + b","
    return Payload(metadata={"encoding": b"json/plain"}, data=bytes(out[:size]))
