"""A generic walk over every ``Payload`` inside any protobuf message: the independent oracle the
tests hold codec and importer output against."""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload


def walk_payloads(message: Message, exclude: frozenset[str] = frozenset()) -> Iterator[Payload]:
    """Every Payload reachable from ``message``, depth first, in field order (map entries in
    sorted-key order, since map iteration order is not stable), leaving out the subtrees of
    messages whose full type name is in ``exclude``."""
    if isinstance(message, Payload):
        yield message
        return
    if message.DESCRIPTOR.full_name in exclude:
        return
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for key in sorted(value):
                item = value[key]
                if isinstance(item, Message):
                    yield from walk_payloads(item, exclude)
        elif field.is_repeated:
            for item in value:
                yield from walk_payloads(item, exclude)
        else:
            yield from walk_payloads(value, exclude)
