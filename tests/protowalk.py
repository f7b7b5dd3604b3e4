"""A generic walk over every ``Payload`` inside any protobuf message: the independent oracle the
tests hold codec and importer output against."""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload


def walk_payloads(message: Message) -> Iterator[Payload]:
    """Every Payload reachable from ``message``, depth first, in field order."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for item in value.values():
                if isinstance(item, Message):
                    yield from walk_payloads(item)
        elif field.is_repeated:
            for item in value:
                yield from walk_payloads(item)
        else:
            yield from walk_payloads(value)
