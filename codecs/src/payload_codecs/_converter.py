"""A ready ``DataConverter`` for a spec: what a worker, client or codec server plugs in."""

from __future__ import annotations

import dataclasses

from temporalio.converter import (
    DataConverter,
    DefaultFailureConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from payload_codecs._dictionaries import Dictionaries
from payload_codecs._envelope import DataKeyPolicy, KeyProvider
from payload_codecs._keyring import Keyring
from payload_codecs._spec import from_spec
from payload_codecs._stages import CodecOptions


def data_converter(
    codec: str | PayloadCodec,
    *,
    keyring: Keyring | None = None,
    options: CodecOptions | None = None,
    dictionaries: Dictionaries | None = None,
    kms: KeyProvider | None = None,
    data_keys: DataKeyPolicy | None = None,
) -> DataConverter:
    """The SDK's default data converter with a codec: a spec string (built with
    :func:`from_spec`, which the keyword arguments go to) or any ``PayloadCodec``, such as one
    that wraps ours.

    When the codec encrypts (its ``encrypts`` attribute is true), failure messages and stack
    traces are moved into an encoded attributes payload too, so the codec encrypts them;
    otherwise they would reach the server in clear text.
    """
    given = (keyring, options, dictionaries, kms, data_keys)
    if isinstance(codec, str):
        codec = from_spec(
            codec,
            keyring=keyring,
            options=options,
            dictionaries=dictionaries,
            kms=kms,
            data_keys=data_keys,
        )
    elif any(value is not None for value in given):
        raise ValueError(
            "keyring, options, dictionaries, kms and data_keys apply to a spec string, not to "
            "a built codec"
        )
    failure_converter_class = (
        DefaultFailureConverterWithEncodedAttributes
        if getattr(codec, "encrypts", False)
        else DefaultFailureConverter
    )
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=codec,
        failure_converter_class=failure_converter_class,
    )
