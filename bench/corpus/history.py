"""Payloads out of Temporal workflow histories: JSON exports (current and legacy spelling) and
history messages fetched from a cluster.

Every Payload field of every event counts (inputs, results, signals, updates, memos, headers,
failure details and encoded attributes, heartbeat details, markers, user metadata), found by
walking the protobuf descriptors, so new event types are covered without a field list. Search
attributes are indexed by the server, never seen by a codec: they are counted and skipped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import ParseDict, ParseError
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History

import payload_codecs
from payload_codecs import ChainCodec

SEARCH_ATTRIBUTES = "temporal.api.common.v1.SearchAttributes"
CODEC_ENCODINGS = frozenset(
    family.encoding.encode() for family in payload_codecs.families() if family.encoding
)
EXPORT_HINT = "export one with: temporal workflow show -w WORKFLOW_ID --output json"


class HistoryFormatError(ValueError):
    """A file is not a Temporal history export."""


def parse_histories(text: str, source: str) -> list[History]:
    """The histories in one export: a single history object or a JSON array of them, in the
    current proto3 JSON or the legacy enum spelling of older exports."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryFormatError(
            f"{source} is not JSON ({error.msg} at line {error.lineno}); {EXPORT_HINT}"
        ) from None
    except RecursionError:
        raise HistoryFormatError(
            f"{source} nests JSON deeper than any history does; {EXPORT_HINT}"
        ) from None
    items = document if isinstance(document, list) else [document]
    if not items:
        raise HistoryFormatError(f"{source} is an empty JSON array; {EXPORT_HINT}")
    histories = []
    for index, item in enumerate(items):
        where = source if len(items) == 1 else f"{source} item {index}"
        if not isinstance(item, dict) or not isinstance(item.get("events"), list):
            raise HistoryFormatError(
                f"{where} is not a Temporal history (no 'events' list); {EXPORT_HINT}"
            )
        histories.append(_parse_one(item, where))
    return histories


def _parse_one(item: dict[str, Any], where: str) -> History:
    try:
        return _parse_strict_then_legacy(item, where)
    except RecursionError:
        raise HistoryFormatError(f"{where} nests messages deeper than any history does") from None


def _parse_strict_then_legacy(item: dict[str, Any], where: str) -> History:
    try:
        # Strict: ignoring unknown fields would also drop enum values spelled the old way.
        return ParseDict(item, History())
    except ParseError:
        pass
    try:
        # Older exports spell enums differently (and newer servers may add fields); the SDK's
        # reader translates the enums and ignores what it does not know.
        from temporalio.client import WorkflowHistory  # the client only for legacy exports

        return History(events=WorkflowHistory.from_json("imported", item).events)
    except (ParseError, ValueError, TypeError, KeyError) as error:
        raise HistoryFormatError(f"{where} is not a valid Temporal history: {error}") from None


def walk(message: Message, path: str = "") -> Iterator[tuple[str, Payload, bool]]:
    """``(path, payload, is_search_attribute)`` for every Payload under ``message``."""
    if isinstance(message, Payload):
        yield path, message, False
        return
    if message.DESCRIPTOR.full_name == SEARCH_ATTRIBUTES:
        fields = message.indexed_fields  # type: ignore[attr-defined]
        for name in sorted(fields):
            yield f"{path}.{name}", fields[name], True
        return
    for descriptor, value in message.ListFields():
        if descriptor.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        here = f"{path}.{descriptor.name}" if path else descriptor.name
        entry = descriptor.message_type
        if entry is not None and entry.GetOptions().map_entry:
            # Sorted: a protobuf map iterates in an order that differs between processes, and
            # the corpus (and its digest) must not.
            for key in sorted(value):
                item = value[key]
                if isinstance(item, Message):
                    yield from walk(item, f"{here}[{key}]")
        elif descriptor.is_repeated:
            for index, item in enumerate(value):
                yield from walk(item, f"{here}[{index}]")
        else:
            yield from walk(value, here)


@dataclass
class Extraction:
    """What importing found: codec-visible payloads, and what was skipped by reason."""

    payloads: list[Payload] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def extract(history: History, codec: ChainCodec | None = None) -> Extraction:
    """The payloads a codec would see in ``history``, as the payload converter made them.

    Payloads already in a codec's encoding are decoded with ``codec`` when given; otherwise they
    are skipped and counted under ``encoded:<encoding>``.
    """
    found = Extraction()
    for _, payload, is_search_attribute in walk(history):
        encoding = payload.metadata.get("encoding")
        if is_search_attribute:
            found.skipped["search_attributes"] += 1
        elif encoding not in CODEC_ENCODINGS:
            found.payloads.append(payload)
        elif codec is None:
            found.skipped[f"encoded:{encoding.decode()}"] += 1
        else:
            found.payloads.extend(codec.decode_sync([payload]))
    return found
