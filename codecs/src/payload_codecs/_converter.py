"""A ready ``DataConverter`` for a spec: what a worker, client or codec server plugs in."""

from __future__ import annotations

import dataclasses

from temporalio.converter import (
    DataConverter,
    DefaultFailureConverter,
    DefaultFailureConverterWithEncodedAttributes,
)

from payload_codecs._keyring import Keyring
from payload_codecs._spec import from_spec
from payload_codecs._stages import CodecOptions


def data_converter(
    spec: str, *, keyring: Keyring | None = None, options: CodecOptions | None = None
) -> DataConverter:
    """The SDK's default data converter with the codec ``spec`` names.

    When the chain encrypts, failure messages and stack traces are moved into an encoded
    attributes payload too, so the codec encrypts them; otherwise they would reach the server in
    clear text.
    """
    codec = from_spec(spec, keyring=keyring, options=options)
    failure_converter_class = (
        DefaultFailureConverterWithEncodedAttributes if codec.encrypts else DefaultFailureConverter
    )
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=codec,
        failure_converter_class=failure_converter_class,
    )
