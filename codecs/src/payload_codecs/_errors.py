"""Errors that a codec raises while decoding. Messages name encodings and key ids, never keys."""

from __future__ import annotations


class PayloadDecodeError(ValueError):
    """A payload carries this codec's encoding but its data cannot be decoded (corrupt,
    truncated, or written by an incompatible writer)."""


class PayloadDecryptionError(PayloadDecodeError):
    """An encrypted payload failed authentication, is malformed, or names a key id that the
    keyring does not hold. Never silently returns garbage."""


class KeyServiceError(RuntimeError):
    """The key management service could not be reached, timed out, or refused (a disabled key,
    missing permissions, a quota): nothing was encoded or decoded, and nothing falls back to
    plaintext. Not the payload's fault: the same call may succeed later (the SDK retries the
    task; a codec server answers 503)."""


class DecodedSizeError(PayloadDecodeError):
    """A payload would decode to more bytes than the codec's limit allows (a decompression bomb,
    or a payload larger than this worker or codec server was configured to accept)."""

    def __init__(
        self, limit: int, declared: int | None = None, *, message: str | None = None
    ) -> None:
        self.limit = limit
        self.declared = declared
        stated = f"states {declared:,} bytes" if declared is not None else "decodes to more"
        super().__init__(
            message
            or f"payload {stated}, over the decoded-size limit of {limit:,} bytes; raise "
            "CodecOptions.max_decoded_size if such payloads are expected"
        )


class FrameCountError(DecodedSizeError):
    """A payload holds more concatenated frames (gzip members, snappy chunks) than its
    decoded-size limit allows. Each frame costs a decoder a fixed amount of work whatever it
    holds, so many empty ones would cost time out of all proportion to the input; real writers
    put one frame in a payload, or one per 64 KiB or more of content."""

    def __init__(self, limit: int, frames: int) -> None:
        super().__init__(
            limit,
            message=f"payload holds more than {frames:,} frames, more than its decoded-size "
            f"limit of {limit:,} bytes allows (16, and one more per 64 KiB); it is not what a "
            "compressor writes",
        )
        self.frames = frames


def max_frames(max_size: int) -> int:
    """The most frames (members, chunks) a payload decoding to at most ``max_size`` bytes may
    hold: a few, and one per 64 KiB, the size of a framed snappy chunk or a bgzip member, the
    smallest units that writers split content into."""
    return 16 + max_size // 65536


class TotalSizeError(DecodedSizeError):
    """Payloads decoded together (one codec server request) would decode to more bytes in all
    than their total limit allows, though each is within the per-payload limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            limit,
            message=f"the payloads decode to more than {limit:,} bytes in all, over the limit "
            "for one request; ask for fewer payloads at once, or raise the limit",
        )
