"""Bytes-to-bytes compression algorithms, one class per algorithm and implementation.

A :class:`Compressor` is what the raw benchmark layer times and what a compression stage wraps,
so the bytes a user measures are the bytes their workers write. Each class names the library and
native version that does the work, because "snappy" or "zstd" alone does not say which code ran.

Every decoder treats its input as hostile (a codec server decodes what a browser sends): the
decoded size is bounded *while* decoding, never by trusting a declared length; truncated input and
trailing bytes are errors; concatenated frames or members (which the formats define as the
concatenation of their contents) are decoded whole, up to :func:`max_frames` of them, so that no
input costs a decoder much more time than its size. Every implementation of a format behaves the
same on all of these. Where other languages' writers write no bytes at all for empty content
(Go's framed snappy writer, klauspost/compress's zstd ``EncodeAll``), no bytes decode to empty
content.
"""

from __future__ import annotations

import mmap
import struct
import threading
import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

import cramjam
import lz4
import lz4.frame
import xxhash
import zstandard

from payload_codecs._dictionaries import Dictionaries, Dictionary
from payload_codecs._errors import DecodedSizeError, FrameCountError, max_frames

SNAPPY_STREAM_IDENTIFIER = b"\xff\x06\x00\x00sNaPpY"
"""First chunk of every snappy framed stream; a raw snappy block cannot start with it when it
holds a serialized Payload (which never starts with a zero byte)."""

_CRAMJAM = f"cramjam {cramjam.__version__}"
_ZSTD_WINDOW_MAX = 8 << 20
"""Largest window accepted in zstd frames that do not state their size (streaming writers): the
decoder's own buffer is that large. The zstd CLI up to level 19 and Go's klauspost encoder by
default stay within it; frames that state their size are bounded by the decoded-size limit."""
_HEAP_BUFFER = 8 << 20
"""Output buffers up to this size may come from the heap, larger ones from the kernel (see
``_buffer``): four times Temporal's 2 MiB payload limit, so every payload the server accepts
can decode into reused memory."""
_SMALL_BUFFER = 256 << 10
"""Output buffers up to this size always come from the heap."""
_PLAUSIBLE_RATIO = 64
"""Above ``_SMALL_BUFFER``, a heap buffer only for an output at most this many times its input:
what real data reaches (JSON compresses 5-30x), where a few lying bytes that state megabytes do
not."""


class CorruptInput(ValueError):
    """The input is not a complete, valid stream of the format (truncated, trailing bytes,
    corrupted). Stages turn it into a :class:`PayloadDecodeError`."""


Costs = Mapping[int, tuple[float, float]]
"""Nanoseconds per byte (encode, decode) by anchor level."""


class Compressor(ABC):
    """One compression algorithm at one level, in one implementation.

    Instances are immutable and safe to share between threads: the codec runs large payloads on
    executor threads. ``decompress`` returns any bytes-like object (some libraries hand back their
    own buffer type); callers that need ``bytes`` convert it themselves, once.
    """

    implementation: ClassVar[str]
    """Short name used after ``@`` in a spec string."""

    library: ClassVar[str]
    """The library that does the work, with its version and the native code inside it."""

    takes_dictionaries: ClassVar[bool] = False
    """Whether it can compress with a trained dictionary (``dictionaries=`` and ``active=``)."""

    takes_checksum: ClassVar[bool] = False
    """Whether a spec may ask it for a content checksum its format leaves optional and this
    implementation leaves off by default (``lz4:1:checksum``)."""

    integrity: str | None = None
    """What in the frames it writes detects a corrupted payload when decoding, ``None`` for
    nothing: a flipped bit then decodes to wrong bytes (or, by luck, to an unparsable
    Payload)."""

    checked_integrity: ClassVar[str | None] = None
    """``integrity`` when a spec asks for the checksum (``takes_checksum``)."""

    @classmethod
    def integrity_with(cls, checksum: bool) -> str | None:
        """``integrity`` of what it writes, with the checksum a spec asks for or without."""
        return cls.checked_integrity if checksum else cls.integrity

    hints_size: ClassVar[bool] = False
    """Whether :meth:`decoded_size` reads a size that :meth:`decompress` does not enforce
    before decoding (gzip's trailer, the last member's length modulo 2^32: a hint, never a
    limit). Formats that state their size (a zstd or LZ4 frame's content size, snappy's
    lengths) refuse one over ``max_size`` before any work, and leave this ``False``."""

    costs: ClassVar[Costs] = {0: (10.0, 10.0)}
    """Nanoseconds per byte at anchor levels (encode per input byte, decode per output byte):
    the slowest of six kinds of data, measured on this project's shared 2-core machine with
    ``python -m experiments.stage_costs``: every level of python-zstandard up to 19, of
    python-lz4, of stdlib gzip and zlib, and snappy; the cramjam implementations were measured
    at their default level only and their other anchors scaled from their sibling's, and zstd
    level 22 extrapolated. cramjam's decoding figures were measured again (2026-11-29, the
    slowest of three runs) once the buffers it decodes into came from the heap. A prior only:
    the codec corrects it from its own calls (see ``ChainCodec``). Families without levels use
    anchor 0."""

    input_cost: ClassVar[float] = 1.0
    """Nanoseconds per *input* byte that decoding the costliest input of its size may take,
    whatever it states (empty or skippable frames, tiny chunks, streamed incompressible
    frames), under a decoded-size limit of 1 MiB, about the event loop's share: the worst of
    ``python -m experiments.input_costs`` on this project's machine, rounded up. The codec
    keeps a payload off the loop when its bytes times this exceed the budget, whatever it
    states."""

    def __init__(self, level: int | None) -> None:
        self.level = level

    def cost(self) -> tuple[float, float]:
        """Expected nanoseconds per byte, encode and decode, at this level: the anchor at the
        nearest level at or above it (the slower side), else the highest anchor."""
        level = 0 if self.level is None else self.level
        above = [anchor for anchor in self.costs if anchor >= level]
        return self.costs[min(above) if above else max(self.costs)]

    @abstractmethod
    def compress(self, data: bytes) -> bytes:
        """Compress ``data`` into the family's wire format."""

    @abstractmethod
    def decompress(self, data: bytes | memoryview, max_size: int) -> bytes | memoryview:
        """Decompress what :meth:`compress` (or a peer implementation of the format) wrote.

        Raises :class:`DecodedSizeError` as soon as the output would pass ``max_size`` bytes
        (memory stays bounded by it plus a small constant), :class:`CorruptInput` when the input
        is not a complete stream of the format.
        """

    def decoded_size(self, data: bytes | memoryview) -> int | None:
        """The decoded size the input states or implies, when the format carries one, for
        scheduling only (the limit in :meth:`decompress` does not trust it); ``None`` if unknown."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level={self.level!r})"


def _buffer(size: int, source: int) -> bytearray | mmap.mmap:
    """A zeroed buffer of ``size`` bytes to decode ``source`` bytes of input into."""
    # The heap reuses pages the process already holds; a fresh mapping faults in every page it
    # is written to, which on this project's virtual machine cost as much as decoding into it
    # (snappy, 1 MiB: 2.0 ms into a mapping, 0.9 ms into a heap buffer). But a heap buffer is
    # zeroed, every page of it, before anything is decoded: so it is only used for a size the
    # input can plausibly fill. Larger ones, the decoded-size limit's fallback above all, and
    # sizes that a few bytes merely state, come from the kernel: zeroed lazily, they cost
    # memory only for the pages written.
    if size <= _SMALL_BUFFER or size <= min(_HEAP_BUFFER, _PLAUSIBLE_RATIO * source):
        return bytearray(size)
    return mmap.mmap(-1, size)


def _decompress_into(
    decompress_into: object, data: bytes | memoryview, hint: int | None, max_size: int
) -> memoryview:
    """Run one of cramjam's ``decompress_into`` functions into a bounded buffer: first one of
    the size the input states (or, when it states none, a guess at a typical ratio: cheap when
    right), then one of ``max_size + 1`` bytes, so a larger output is an error rather than an
    allocation. cramjam stops with "failed to write whole buffer" when the output does not fit,
    and checks truncation and trailing bytes itself."""
    first = hint if hint is not None else _GUESSED_RATIO * len(data) + 1024
    sizes = [first, max_size + 1] if first <= max_size else [max_size + 1]
    for size in sizes:
        out = _buffer(size, len(data))
        try:
            written: int = decompress_into(data, out)  # type: ignore[operator]
        except cramjam.DecompressionError as error:
            if "failed to write whole buffer" in str(error):
                continue
            raise CorruptInput(str(error)) from None
        if written > max_size:
            break
        return memoryview(out)[:written]
    raise DecodedSizeError(max_size)


_GUESSED_RATIO = 8


def _may_hold_more_frames(
    data: bytes | memoryview, starts: tuple[bytes, ...], max_size: int
) -> bool:
    """Whether ``data`` may hold more frames than ``max_size`` allows (see
    :func:`max_frames`): an upper bound from counting where a frame could start, for decoders
    that cannot count frames themselves (cramjam's decode them all in one call). Every frame
    starts with one of its format's ``starts`` (magic numbers; for zstd and LZ4 also
    ``_SKIPPABLE``); a payload with no more such places than frames allowed may go to the fast
    decoder, any other goes to the frame-by-frame one, which counts exactly. Counting costs
    about 0.8 ns per byte and pattern here."""
    cap = max_frames(max_size)
    if len(data) <= _SMALLEST_FRAME * cap:
        return False
    blob = data if isinstance(data, bytes) else bytes(data)
    return sum(blob.count(start) for start in starts) > cap


def _counted(
    decoded: memoryview,
    data: bytes | memoryview,
    starts: tuple[bytes, ...],
    exact: Compressor,
    max_size: int,
) -> bytes | memoryview:
    """What a fast decoder made of ``data``, once the frames in it are known to be within the
    count ``max_size`` allows; else what the frame-by-frame decoder ``exact`` says. Asked after
    decoding, and only of a payload that decoded to less than its own size: cramjam spends
    about 0.1 us per zstd or LZ4 frame, so frames cost more than their content only when they
    hold less than they take, and counting first would add a third to decoding LZ4."""
    if len(decoded) >= len(data) or not _may_hold_more_frames(data, starts, max_size):
        return decoded
    return exact.decompress(data, max_size)


_SMALLEST_FRAME = 8
"""Bytes in the smallest frame of any format here: a skippable zstd or LZ4 frame with nothing
in it (an empty zstd frame takes 9, an empty LZ4 frame 11, an empty gzip member 20)."""
_SKIPPABLE = b"\x2a\x4d\x18"
"""The last three bytes of the magic numbers 0x184D2A50-0x184D2A5F, little-endian, that start
a skippable frame in zstd and in LZ4."""
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_CHECKSUM_FLAG = 0x04
"""The Content_Checksum_flag of a zstd frame header descriptor (the byte after the magic)."""
ZSTD_INTEGRITY = "XXH64 content checksum (written by default; read when present)"
_GZIP_MAGIC = b"\x1f\x8b\x08"
"""ID1, ID2 and CM (deflate, the only method RFC 1952 defines)."""


def _zstd_dict_id(data: bytes | memoryview) -> int:
    """The dictionary id the first zstd frame names; 0 for none (or for no readable header,
    which the decoder then rejects itself)."""
    try:
        return int(zstandard.get_frame_parameters(data).dict_id)
    except zstandard.ZstdError:
        return 0


def _zstd_window(data: bytes | memoryview) -> int:
    """The window the first zstd frame asks for; 0 for no readable header, which the decoder
    then rejects itself."""
    try:
        return int(zstandard.get_frame_parameters(data).window_size)
    except zstandard.ZstdError:
        return 0


def _zstd_declared(data: bytes | memoryview) -> int | None:
    try:
        size: int = zstandard.get_frame_parameters(data).content_size
    except zstandard.ZstdError:
        return None
    return None if size == zstandard.CONTENTSIZE_UNKNOWN else size


class SnappyCramjam(Compressor):
    """Snappy framed stream out (what the Temporal Python docs write), framed or raw block in
    (the Go samples write a raw block with ``snappy.Encode``)."""

    implementation = "cramjam"
    integrity: str | None = "CRC-32C of each chunk"
    costs: ClassVar[Costs] = {0: (4.0, 2.0)}
    library = f"{_CRAMJAM} (Rust snap crate, not Google's C++ snappy)"

    def compress(self, data: bytes) -> bytes:
        # cramjam writes nothing at all for empty input, which no framed reader accepts; an
        # empty framed stream is the stream identifier alone.
        return bytes(cramjam.snappy.compress(data)) or SNAPPY_STREAM_IDENTIFIER

    def decompress(self, data: bytes | memoryview, max_size: int) -> memoryview:
        if not data:
            # What Go's framed writer (and cramjam's) writes for empty content: no chunk at all.
            return memoryview(b"")
        size = self._size(data, max_size)
        if size is None:
            raise CorruptInput("not a snappy framed stream or raw block")
        if size > max_size:
            raise DecodedSizeError(max_size, size)
        if data[: len(SNAPPY_STREAM_IDENTIFIER)] == SNAPPY_STREAM_IDENTIFIER:
            return _decompress_into(cramjam.snappy.decompress_into, data, size, max_size)
        try:
            return memoryview(cramjam.snappy.decompress_raw(data))
        except cramjam.DecompressionError as error:
            raise CorruptInput(str(error)) from None

    def decoded_size(self, data: bytes | memoryview) -> int | None:
        """Exact: a raw block states its length up front, a framed stream in each chunk."""
        return self._size(data, None)

    @staticmethod
    def _size(data: bytes | memoryview, max_size: int | None) -> int | None:
        if not data:
            return 0
        if data[: len(SNAPPY_STREAM_IDENTIFIER)] != SNAPPY_STREAM_IDENTIFIER:
            try:
                return int(cramjam.snappy.decompress_raw_len(data))
            except cramjam.DecompressionError:
                return None
        return _snappy_framed_size(data, max_size)


class SnappyRawCramjam(SnappyCramjam):
    """Snappy raw block out (the Go samples' ``snappy.Encode`` format), framed or raw in.

    Measured faster than the framed stream (no per-chunk CRC-32C, no chunk headers), but only
    readers that expect a raw block read it: the Temporal Python docs' decoder does not. Its
    integrity is the caller's: chain it with ``aes256gcm`` or rely on the transport."""

    implementation = "cramjam-raw"
    integrity: str | None = None
    costs: ClassVar[Costs] = {0: (4.0, 1.5)}

    def compress(self, data: bytes) -> bytes:
        return bytes(cramjam.snappy.compress_raw(data))


def _snappy_framed_size(data: bytes | memoryview, max_size: int | None) -> int | None:
    """Sum of the chunk lengths of a framed stream; ``None`` if a chunk is cut short or of a
    reserved type (https://github.com/google/snappy/blob/main/framing_format.txt). Runs on
    every decode, to refuse a stream over the limit before any work and to size the buffer (and
    once more on the calls the codec times): one struct read per chunk header and no copies of
    chunk bodies. With ``max_size``, more chunks than it allows are :class:`FrameCountError`
    and more content :class:`DecodedSizeError`; without, a stream of more chunks than a GiB
    allows is ``None`` too (the codec asks this to schedule work, and so bounds it)."""
    total = position = chunks = 0
    end = len(data)
    cap = max_frames(1 << 30 if max_size is None else max_size)
    while position < end:
        chunks += 1
        if chunks > cap:
            if max_size is None:
                return None
            raise FrameCountError(max_size, cap)
        if position + 4 > end:
            return None
        (header,) = _CHUNK_HEADER.unpack_from(data, position)
        kind, length = header & 0xFF, header >> 8
        body, position = position + 4, position + 4 + length
        if position > end:
            return None
        if kind == 0x00 and length > 4:
            # After the 4-byte CRC, the block's varint length: at most 5 bytes.
            try:
                total += int(cramjam.snappy.decompress_raw_len(bytes(data[body + 4 : body + 9])))
            except cramjam.DecompressionError:
                return None
        elif kind == 0x01 and length >= 4:
            total += length - 4
        elif kind not in (0xFF, 0xFE):
            # Reserved types, and skippable ones (0x80-0xFD), which the format says to skip but
            # no snappy writer writes: a data chunk whose type lost one bit becomes one, and its
            # content would vanish without an error.
            return None
        if max_size is not None and total > max_size:
            raise DecodedSizeError(max_size, total)
    return total


_CHUNK_HEADER = struct.Struct("<I")
"""A framed snappy chunk's header: type in the low byte, then the body length (24 bits)."""


class ZstdZstandard(Compressor):
    """zstd frames with the content size in the header, via python-zstandard; with a trained
    dictionary (``active``, one of ``dictionaries``), frames that name it by id. Frames naming
    any dictionary of ``dictionaries`` decode; one naming another id is :class:`CorruptInput`
    that names the id."""

    implementation = "zstandard"
    takes_dictionaries = True
    integrity = ZSTD_INTEGRITY
    input_cost = 22.0
    costs: ClassVar[Costs] = {
        -5: (4.0, 1.0),
        1: (5.0, 1.1),
        3: (16.0, 1.4),
        6: (52.0, 1.2),
        9: (68.0, 1.2),
        12: (300.0, 1.9),
        19: (2300.0, 2.6),
        22: (5000.0, 3.0),
    }
    library = (
        f"zstandard {zstandard.__version__} (libzstd {'.'.join(map(str, zstandard.ZSTD_VERSION))})"
    )

    def __init__(
        self,
        level: int | None,
        dictionaries: Dictionaries | None = None,
        active: str | None = None,
    ) -> None:
        super().__init__(level)
        if active is not None and dictionaries is None:
            raise ValueError(f"zstd dictionary {active!r} is named but no dictionaries were given")
        self.dictionary = (
            None if active is None or dictionaries is None else dictionaries.named(active)
        )
        self._local = _ZstdContexts(3 if level is None else level, self.dictionary, dictionaries)

    def compress(self, data: bytes) -> bytes:
        return self._local.compressor.compress(data)

    def decompress(self, data: bytes | memoryview, max_size: int) -> bytes | memoryview:
        if not data:
            return b""  # what Go's klauspost/compress writes for empty content: no frame
        try:
            header = zstandard.get_frame_parameters(data)
        except zstandard.ZstdError:
            return self._frames(data, max_size)  # which says what is wrong with it
        declared = header.content_size  # CONTENTSIZE_UNKNOWN is larger than any limit
        # (A frame that states 0 bytes is returned as b"" by python-zstandard unread, so it
        # takes the checked path too.)
        if declared and declared <= max_size:
            whole, _ = self._local.decompressors(header.dict_id)
            try:
                # One frame that states its size: decoded into a buffer of exactly that size.
                return whole.decompress(data, allow_extra_data=False)
            except zstandard.ZstdError:
                pass  # more frames, or not what it states: the frame-by-frame path decides
        return self._frames(data, max_size)

    def _frames(self, data: bytes | memoryview, max_size: int) -> memoryview:
        """Frame by frame, each checked complete, all of them concatenated (RFC 8878). Frames
        are decoded where they lie: copying what follows each one would make many tiny frames
        cost time in the square of the input."""
        out = bytearray()
        view = memoryview(data)
        offset = frames = 0
        cap = max_frames(max_size)
        while offset < len(view):
            frames += 1
            if frames > cap:
                raise FrameCountError(max_size, cap)
            rest = view[offset:]
            declared = _zstd_declared(rest)
            if declared is not None and len(out) + declared > max_size:
                raise DecodedSizeError(max_size, len(out) + declared)
            offset += self._frame(rest, declared is None, out, max_size)
        return memoryview(out)

    def _frame(self, data: memoryview, undeclared: bool, out: bytearray, max_size: int) -> int:
        """Decode the first frame of ``data`` onto ``out``; return its length in bytes."""
        whole, streaming = self._local.decompressors(_zstd_dict_id(data))
        obj = (streaming if undeclared else whole).decompressobj()
        # Input goes in pieces so small that one can never decode to more than the budget left,
        # nor to more than 4 MiB (a zstd block of 4 bytes can stand for 128 KiB of output, and
        # the library holds a piece's output twice before it is appended).
        piece = max(32, min(128, (max_size - len(out)) // 32768))
        try:
            for start in range(0, len(data), piece):
                out += obj.decompress(data[start : start + piece])
                if len(out) > max_size:
                    raise DecodedSizeError(max_size)
                if obj.eof:
                    return min(start + piece, len(data)) - len(obj.unused_data)
        except zstandard.ZstdError as error:
            raise CorruptInput(str(error)) from None
        raise CorruptInput("the zstd frame is truncated")

    def decoded_size(self, data: bytes | memoryview) -> int | None:
        return _zstd_declared(data)


class _ZstdContexts(threading.local):
    """zstandard's contexts are reusable (cheaper than new ones) but not thread safe: one set
    per thread, made on the thread's first use; decompressors per dictionary id, made on the
    first frame that names it."""

    def __init__(
        self, level: int, active: Dictionary | None, dictionaries: Dictionaries | None
    ) -> None:
        prepared = None if active is None else active.for_level(level)
        # With the content checksum: up to 5 % more encoding time, 2-11 % more decoding, 4
        # bytes (``python -m experiments.checksums``), for corruption that is an error, not
        # wrong data acted on.
        self.compressor = zstandard.ZstdCompressor(
            level=level, dict_data=prepared, write_checksum=True
        )
        self._dictionaries = dictionaries
        self._by_id: dict[int, tuple[zstandard.ZstdDecompressor, zstandard.ZstdDecompressor]] = {
            0: (
                zstandard.ZstdDecompressor(),
                zstandard.ZstdDecompressor(max_window_size=_ZSTD_WINDOW_MAX),
            )
        }

    def decompressors(
        self, dict_id: int
    ) -> tuple[zstandard.ZstdDecompressor, zstandard.ZstdDecompressor]:
        """(for frames that state their size, for streamed frames) for frames naming
        ``dict_id`` (0: none)."""
        found = self._by_id.get(dict_id)
        if found is None:
            known = None if self._dictionaries is None else self._dictionaries.by_id(dict_id)
            if known is None:
                held = "none" if self._dictionaries is None else self._dictionaries.describe()
                raise CorruptInput(
                    f"the frame needs zstd dictionary id {dict_id}, which this codec does not "
                    f"hold (it holds: {held})"
                )
            data = known.for_level(None)
            found = (
                zstandard.ZstdDecompressor(dict_data=data),
                zstandard.ZstdDecompressor(dict_data=data, max_window_size=_ZSTD_WINDOW_MAX),
            )
            self._by_id[dict_id] = found
        return found


_ZSTD_FRAMES = ZstdZstandard(None)
"""The frame-by-frame decoder for zstd input with many places a frame could start."""


class ZstdCramjam(Compressor):
    """zstd frames via cramjam (Rust bindings to libzstd), with the content checksum that
    ``ZstdZstandard`` writes."""

    implementation = "cramjam"
    integrity = ZSTD_INTEGRITY
    input_cost = 15.0
    # Scaled from python-zstandard's: cramjam was measured at level 3 only, where its slowest
    # runs took about twice as long both ways.
    costs: ClassVar[Costs] = {
        level: (2 * encode, 2 * decode) for level, (encode, decode) in ZstdZstandard.costs.items()
    }
    library = f"{_CRAMJAM} (zstd crate, bundled libzstd)"

    def compress(self, data: bytes) -> bytes:
        frame = bytes(cramjam.zstd.compress(data, level=self.level))
        # cramjam cannot be asked for the content checksum, which python-zstandard writes:
        # its flag set in the frame header descriptor, and the low 4 bytes of the content's
        # XXH64 after the last block (RFC 8878, 3.1.1).
        if frame[4] & _ZSTD_CHECKSUM_FLAG:
            return frame
        checksum = (xxhash.xxh64_intdigest(data) & 0xFFFFFFFF).to_bytes(4, "little")
        return b"".join((frame[:4], bytes((frame[4] | _ZSTD_CHECKSUM_FLAG,)), frame[5:], checksum))

    def decompress(self, data: bytes | memoryview, max_size: int) -> bytes | memoryview:
        if not data:
            return b""  # as ZstdZstandard
        declared = _zstd_declared(data)
        if declared is not None and declared > max_size:
            raise DecodedSizeError(max_size, declared)
        if declared is None and (window := _zstd_window(data)) > _ZSTD_WINDOW_MAX:
            # libzstd would allocate the window before decoding a byte; refused as
            # python-zstandard refuses it (its decompressors are capped at the same size).
            raise CorruptInput(
                f"the zstd frame states no size and asks for a {window:,}-byte window; frames "
                f"without a stated size may use at most {_ZSTD_WINDOW_MAX:,}"
            )
        decoded = _decompress_into(cramjam.zstd.decompress_into, data, declared, max_size)
        return _counted(decoded, data, (_ZSTD_MAGIC, _SKIPPABLE), _ZSTD_FRAMES, max_size)

    def decoded_size(self, data: bytes | memoryview) -> int | None:
        return _zstd_declared(data)


_LZ4_MAGIC = b"\x04\x22\x4d\x18"


def _lz4_declared(data: bytes | memoryview) -> int | None:
    """The content size of the first LZ4 frame when its header carries one."""
    if len(data) < 14 or data[:4] != _LZ4_MAGIC or not data[4] & 0x08:
        return None
    return int.from_bytes(data[6:14], "little")


def _lz4_only_block(data: bytes | memoryview) -> memoryview | None:
    """The compressed block of a frame that is nothing else: content size stated, header
    checksum right, no dictionary, no block or content checksums, one compressed block, the end
    mark, nothing after it. ``None`` for any other frame, which the frame decoder reads. The
    magic number is not checked again: ``data`` is a frame whose size :func:`_lz4_declared`
    read."""
    if len(data) < _LZ4_ONE_BLOCK:
        return None
    flags, word = _LZ4_ONE_BLOCK_HEADER.unpack_from(data, 4)
    # FLG: version 01, content size, no block or content checksum, no dictionary id (blocks
    # linked or not: one block links to nothing); the block stored compressed, the frame's
    # only one, and then the end mark and nothing more.
    if (
        flags & ~_LZ4_INDEPENDENT != 0x48
        or word >> 31
        or len(data) != _LZ4_ONE_BLOCK + word
        or data[-4:] != b"\0\0\0\0"
    ):
        return None
    try:
        lz4.frame.get_frame_info(data)  # verifies the header checksum
    except RuntimeError:
        return None
    return memoryview(data)[19 : 19 + word]


def _lz4_header(size: int, checksum: bool) -> bytes:
    """An LZ4 frame header: version 01, independent blocks, content size ``size``, no block
    checksums or dictionary, the content checksum if asked for, blocks of up to 4 MiB, and the
    header checksum (the second byte of the descriptor's xxHash-32)."""
    flags = _LZ4_FLAGS | (_LZ4_CONTENT_CHECKSUM if checksum else 0)
    descriptor = bytes((flags, _LZ4_BLOCK_MAX_4MB)) + size.to_bytes(8, "little")
    return b"".join(
        (_LZ4_MAGIC, descriptor, bytes(((xxhash.xxh32_intdigest(descriptor) >> 8) & 0xFF,)))
    )


_LZ4_FLAGS = 0x68
"""FLG: version 01, independent blocks, content size."""
_LZ4_CONTENT_CHECKSUM = 0x04
_LZ4_BLOCK_MAX_4MB = 0x70
"""BD: blocks of up to 4 MiB."""
_CRAMJAM_LZ4_HEADER = {
    checksum: _LZ4_MAGIC + bytes((0x70 | (_LZ4_CONTENT_CHECKSUM if checksum else 0), 0x40))
    for checksum in (False, True)
}
"""What cramjam's frame writer starts with, told independent blocks: FLG (version 01,
independent blocks, block checksums, the content checksum if asked for) and BD (blocks of up to
64 KiB)."""


LZ4_INTEGRITY = "xxHash-32 content checksum (written with :checksum; read when present)"


_LZ4_UNCOMPRESSED = 1 << 31
"""A block size word's flag for a block stored as it is."""
_LZ4_WORD = struct.Struct("<I")
_LZ4_ONE_BLOCK = 23
"""A one-block frame's bytes besides the block: 15 of header, 4 of block size, 4 of end mark."""
_LZ4_INDEPENDENT = 0x20
"""FLG's block-independence bit."""
_LZ4_ONE_BLOCK_HEADER = struct.Struct("<B10xI")
"""From byte 4 of such a frame: FLG, then (past BD, the content size and the header checksum)
the block's size word."""


class _Lz4Frames(Compressor):
    """What both LZ4 implementations share: the content checksum a spec may ask for
    (``lz4:1:checksum``), and the size the first frame states."""

    takes_checksum = True
    checked_integrity = LZ4_INTEGRITY

    def __init__(self, level: int | None, checksum: bool = False) -> None:
        super().__init__(level)
        self.checksum = checksum
        self.integrity = self.integrity_with(checksum)

    def decoded_size(self, data: bytes | memoryview) -> int | None:
        return _lz4_declared(data)


class Lz4Cramjam(_Lz4Frames):
    """LZ4 *frame* format (not block): the frame is self-describing (magic, content size,
    checksum) and is what every lz4 implementation reads without a side-channel length, so
    codec servers in Go (pierrec/lz4), Java (lz4-java), Node (lz4js) or the ``lz4`` CLI can
    decode it. Block format would save about 15 bytes per payload but needs a private length
    prefix.

    Frames that every reader decodes: independent blocks, content size stated, no checksums.
    cramjam's frame writer links its blocks by default, which Go's pierrec/lz4 refuses ("block
    dependency not supported"), and always puts a checksum after each block, which lz4js reads
    as data; its block API ignores the level. So blocks come from its frame writer with
    independent blocks, and are laid out again here without their checksums, after a header
    that states the size. Its blocks are 64 KiB (it cannot be told otherwise): independent, they
    compress payloads larger than that less well than ``Lz4Lz4``'s 4 MiB blocks."""

    implementation = "cramjam"
    input_cost = 5.0
    costs: ClassVar[Costs] = {1: (4.5, 1.5), 3: (48.0, 1.5), 9: (200.0, 1.5), 12: (2600.0, 1.5)}
    library = f"{_CRAMJAM} (lz4 crate, bundled liblz4)"

    def compress(self, data: bytes) -> bytes:
        writer = cramjam.lz4.Compressor(
            level=self.level, content_checksum=self.checksum, block_linked=False
        )
        writer.compress(data)
        frame = memoryview(bytes(writer.finish()))
        expected = _CRAMJAM_LZ4_HEADER[self.checksum]
        if bytes(frame[: len(expected)]) != expected:
            raise RuntimeError(f"cramjam wrote an unexpected LZ4 frame header {bytes(frame[:7])!r}")
        parts: list[bytes | memoryview] = [_lz4_header(len(data), self.checksum)]
        position = len(expected) + 1  # and the header checksum
        while (word := _LZ4_WORD.unpack_from(frame, position)[0]) != 0:
            end = position + 4 + (word & ~_LZ4_UNCOMPRESSED)
            parts.append(frame[position:end])
            position = end + 4  # past the block's checksum
        parts.append(frame[position:])  # the end mark, and the content checksum if any
        return b"".join(parts)

    def decompress(self, data: bytes | memoryview, max_size: int) -> bytes | memoryview:
        if not data:
            raise CorruptInput("no lz4 frame")
        declared = _lz4_declared(data)
        if declared is not None and declared > max_size:
            raise DecodedSizeError(max_size, declared)
        decoded = _decompress_into(cramjam.lz4.decompress_into, data, declared, max_size)
        return _counted(decoded, data, (_LZ4_MAGIC, _SKIPPABLE), _LZ4_FRAMES, max_size)


class Lz4Lz4(_Lz4Frames):
    """LZ4 frame through python-lz4 (liblz4's own frame API), with the content size and, unless
    the spec asks for it (``lz4:1:checksum``), *without* a content checksum: verifying a 32-bit
    xxHash of the whole content doubled decoding time (+97 to +124 % from 16 KiB to 4 MiB,
    ``python -m experiments.checksums``). Block checksums cost less (+18 to +26 %) but lz4js
    reads them as data. Without it, a flipped bit decodes to wrong bytes unless the layers
    around catch it: AES-GCM's tag when chained, the Payload parse after it, the store's own
    checks. Frames with a content checksum (the ``lz4`` CLI, the option) are verified when
    read. Blocks of up to 4 MiB, so that a payload of up to 4 MiB is one block,
    decoded straight into a buffer of the size the frame states (by cramjam's binding of
    liblz4's block decoder, which writes into a caller's buffer); other frames go through
    liblz4's frame decoder. The default implementation, for speed close to the C library."""

    implementation = "lz4"
    costs: ClassVar[Costs] = {1: (4.0, 0.8), 3: (48.0, 0.8), 9: (200.0, 0.8), 12: (2600.0, 0.8)}
    library = (
        f"python-lz4 {lz4.__version__} (liblz4 {lz4.library_version_string()}); "
        f"one-block frames decoded by {_CRAMJAM} (lz4 crate, bundled liblz4)"
    )

    def compress(self, data: bytes) -> bytes:
        out: bytes = lz4.frame.compress(
            data,
            compression_level=self.level or 0,
            # Blocks of up to 4 MiB: liblz4 picks the smallest size that holds the payload, so
            # a payload of up to 4 MiB is one block, which decodes with no frame decoder.
            block_size=lz4.frame.BLOCKSIZE_MAX4MB,
            # Independent blocks (python-lz4 links them by default), so that a payload over
            # 4 MiB is read by every frame reader: Go's pierrec/lz4 refuses linked blocks.
            block_linked=False,
            content_checksum=self.checksum,
            store_size=True,
        )
        return out

    def decompress(self, data: bytes | memoryview, max_size: int) -> bytes | memoryview:
        if not data:
            raise CorruptInput("no lz4 frame")
        declared = _lz4_declared(data)
        if declared is not None and declared > max_size:
            raise DecodedSizeError(max_size, declared)
        if declared is not None and (block := _lz4_only_block(data)) is not None:
            # Straight into a buffer of the stated size, which the block must fill exactly:
            # no frame decoder, and no copy (python-lz4's block decoder copies its output into
            # a new bytes object, which cost 1-11 % of decoding 1 MiB; cramjam's binding of the
            # same C function writes into ours).
            out = _buffer(declared, len(data))
            try:
                written: int = cramjam.lz4.decompress_block_into(block, out)
            except cramjam.DecompressionError as error:
                raise CorruptInput(f"the lz4 block is corrupt: {error}") from None
            if written != declared:
                raise CorruptInput(
                    f"the lz4 block decodes to {written} bytes, its frame states {declared}"
                )
            return memoryview(out)
        decompressor = lz4.frame.LZ4FrameDecompressor()
        # Any other frame that states its size: one call, no copy.
        step = declared + 1 if declared is not None else _GUESSED_RATIO * len(data) + 1024
        first = self._step(decompressor, data, min(step, max_size + 1))
        if decompressor.eof and not decompressor.unused_data:
            if len(first) > max_size:
                raise DecodedSizeError(max_size)
            return first
        out = bytearray(first)
        # Later frames are fed from where they lie, in pieces: the decompressor keeps a copy of
        # whatever input follows a frame's end, which must not be the rest of the payload each
        # time (many tiny frames would cost time in the square of the input).
        view, fed = memoryview(data), len(data)
        frames, cap = 1, max_frames(max_size)
        while True:
            if len(out) > max_size:
                raise DecodedSizeError(max_size)
            if decompressor.eof:
                end = fed - len(decompressor.unused_data or b"")
                if end == len(view):
                    return memoryview(out)
                if not _is_lz4_frame(view[end : end + 4]):
                    raise CorruptInput(f"{len(view) - end} bytes follow the end of the frame")
                frames += 1
                if frames > cap:
                    raise FrameCountError(max_size, cap)
                decompressor = lz4.frame.LZ4FrameDecompressor()
                pending: bytes | memoryview = view[end : end + _INPUT_PIECE]
                fed = end + len(pending)
            elif decompressor.needs_input:
                if fed == len(view):
                    raise CorruptInput("the lz4 frame is truncated")
                pending = view[fed : fed + _INPUT_PIECE]
                fed += len(pending)
            else:
                pending = b""
            out += self._step(decompressor, pending, min(max_size - len(out) + 1, _INFLATE_STEP))

    @staticmethod
    def _step(decompressor: object, data: bytes | memoryview, limit: int) -> bytes:
        try:
            piece: bytes = decompressor.decompress(data, max_length=limit)  # type: ignore[attr-defined]
        except RuntimeError as error:
            raise CorruptInput(str(error)) from None
        return piece


_LZ4_FRAMES = Lz4Lz4(None)
"""The frame-by-frame decoder for LZ4 input with many places a frame could start."""


def _is_lz4_frame(magic: bytes | memoryview) -> bool:
    """Whether ``magic`` starts an LZ4 frame, skippable ones included (liblz4 skips those)."""
    return magic == _LZ4_MAGIC or (magic[1:] == _SKIPPABLE and magic[0] & 0xF0 == 0x50)


_INFLATE_STEP = 1 << 20
_INPUT_PIECE = 64 << 10
"""Input fed to a stream decoder at a time, after the first frame or member: what a decoder
copies of the input that follows a stream's end is then at most this, never the rest of the
payload once per frame (which many tiny frames would turn into time in the square of the
input)."""


def _inflate(data: bytes | memoryview, wbits: int, max_size: int, *, members: bool) -> memoryview:
    """zlib (``members=False``) or gzip streams via the standard library, the output bounded
    while it is produced (in steps of at most 1 MiB, so it is never held twice); gzip members
    are decoded one after another, as RFC 1952 defines, each where it lies."""
    out = bytearray()
    view = memoryview(data)
    offset = count = 0
    cap = max_frames(max_size)
    while True:
        count += 1
        if count > cap:
            raise FrameCountError(max_size, cap)
        offset += _inflate_one(zlib.decompressobj(wbits), view[offset:], out, max_size)
        if offset == len(view):
            return memoryview(out)
        if not members or bytes(view[offset : offset + 2]) != b"\x1f\x8b":
            raise CorruptInput(f"{len(view) - offset} bytes follow the end of the stream")


def _inflate_one(obj: zlib._Decompress, data: memoryview, out: bytearray, max_size: int) -> int:
    """Inflate the stream at the start of ``data`` onto ``out``; return its length in bytes."""
    consumed = 0
    pending: bytes | memoryview = data[:_INPUT_PIECE]
    while True:
        step = min(max_size - len(out) + 1, _INFLATE_STEP)
        try:
            piece = obj.decompress(pending, step)
        except zlib.error as error:
            raise CorruptInput(str(error)) from None
        out += piece
        if len(out) > max_size:
            raise DecodedSizeError(max_size)
        if obj.eof:
            return consumed + len(pending) - len(obj.unused_data)
        if obj.unconsumed_tail:  # the output step was reached first: the rest of this piece
            consumed += len(pending) - len(obj.unconsumed_tail)
            pending = obj.unconsumed_tail
            continue
        consumed += len(pending)
        pending = data[consumed : consumed + _INPUT_PIECE]
        if not pending and len(piece) < step:
            raise CorruptInput("the stream is truncated")


class GzipZlib(Compressor):
    """gzip (RFC 1952) single member via the standard library's zlib."""

    implementation = "zlib"
    hints_size = True
    integrity = "CRC-32 of each member"
    input_cost = 2.0
    costs: ClassVar[Costs] = {1: (42.0, 10.0), 6: (110.0, 6.0), 9: (950.0, 7.0)}
    library = f"python zlib (zlib {zlib.ZLIB_RUNTIME_VERSION})"

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, -1 if self.level is None else self.level, wbits=31)

    def decompress(self, data: bytes | memoryview, max_size: int) -> memoryview:
        return _inflate(data, 31, max_size, members=True)

    def decoded_size(self, data: bytes | memoryview) -> int | None:
        return _gzip_isize(data)


def _gzip_isize(data: bytes | memoryview) -> int | None:
    """The last member's length modulo 2^32, from its trailer: a hint only."""
    return int.from_bytes(data[-4:], "little") if len(data) >= 18 else None


class GzipCramjam(Compressor):
    """gzip (RFC 1952) via cramjam."""

    implementation = "cramjam"
    hints_size = True
    integrity = "CRC-32 of each member"
    input_cost = 5.0
    costs: ClassVar[Costs] = {1: (45.0, 5.5), 6: (125.0, 5.0), 9: (950.0, 4.0)}
    library = f"{_CRAMJAM} (flate2 crate)"

    def compress(self, data: bytes) -> bytes:
        return bytes(cramjam.gzip.compress(data, level=self.level))

    def decompress(self, data: bytes | memoryview, max_size: int) -> memoryview:
        if not data:
            raise CorruptInput("no gzip member")
        if _may_hold_more_frames(data, (_GZIP_MAGIC,), max_size):
            # Counted first: flate2 spends some 6 us on each member.
            return _inflate(data, 31, max_size, members=True)  # which counts them
        hint = _gzip_isize(data)
        return _decompress_into(cramjam.gzip.decompress_into, data, hint, max_size)

    def decoded_size(self, data: bytes | memoryview) -> int | None:
        return _gzip_isize(data)


class ZlibZlib(Compressor):
    """zlib (RFC 1950) stream via the standard library: what Go's ``converter.NewZlibCodec``
    writes and reads. (No cramjam implementation: cramjam's zlib reader ignores whatever follows
    the first stream, trailing garbage and a second stream alike, and cannot say it did.)"""

    implementation = "zlib"
    integrity = "Adler-32 of the content"
    input_cost = 2.0
    costs: ClassVar[Costs] = {1: (57.0, 7.0), 6: (121.0, 8.0), 9: (960.0, 8.0)}
    library = GzipZlib.library

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, -1 if self.level is None else self.level)

    def decompress(self, data: bytes | memoryview, max_size: int) -> memoryview:
        return _inflate(data, 15, max_size, members=False)
