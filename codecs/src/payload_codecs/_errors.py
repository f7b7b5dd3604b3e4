"""Errors that a codec raises while decoding. Messages name encodings and key ids, never keys."""

from __future__ import annotations


class PayloadDecodeError(ValueError):
    """A payload carries this codec's encoding but its data cannot be decoded (corrupt,
    truncated, or written by an incompatible writer)."""


class PayloadDecryptionError(PayloadDecodeError):
    """An encrypted payload failed authentication, is malformed, or names a key id that the
    keyring does not hold. Never silently returns garbage."""


class DecodedSizeError(PayloadDecodeError):
    """A payload would decode to more bytes than the codec's limit allows (a decompression bomb,
    or a payload larger than this worker or codec server was configured to accept)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        self.limit = limit
        self.declared = declared
        stated = f"states {declared:,} bytes" if declared is not None else "decodes to more"
        super().__init__(
            f"payload {stated}, over the decoded-size limit of {limit:,} bytes; raise "
            "CodecOptions.max_decoded_size if such payloads are expected"
        )
