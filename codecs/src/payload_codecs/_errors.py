"""Errors that a codec raises while decoding. Messages name encodings and key ids, never keys."""

from __future__ import annotations


class PayloadDecodeError(ValueError):
    """A payload carries this codec's encoding but its data cannot be decoded (corrupt,
    truncated, or written by an incompatible writer)."""


class PayloadDecryptionError(PayloadDecodeError):
    """An encrypted payload failed authentication, is malformed, or names a key id that the
    keyring does not hold. Never silently returns garbage."""
