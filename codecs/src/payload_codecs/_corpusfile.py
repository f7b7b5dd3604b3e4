"""The corpus file: an ordered, streamable set of Payloads with their provenance.

It lives in the deployable library because the recording codec writes it inside workers, which
should not need the benchmark harness installed.

Format version 1 (all integers unsigned 32-bit little-endian)::

    b"TCBCORP\\n"                      magic
    length, JSON header               {"format": ..., "version": 1, "provenance": {...}}
    repeated: length, crc32, bytes    one serialized temporal.api.common.v1.Payload each
    0xFFFFFFFF, length, JSON trailer  {"payload_count": N, "total_bytes": B, "skipped": {...}}

Records are read one at a time, so a corpus of several GB never has to fit in memory. The CRC
of every record and the trailer's counts catch corruption and truncation; a file only appears
under its name once complete (written beside it, then renamed).
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload

from payload_codecs._stages import serialize

CORPUS_FORMAT_VERSION = 1
MAGIC = b"TCBCORP\n"
FORMAT_NAME = "temporal-codec-bench corpus"
_END = 0xFFFFFFFF
_U32 = struct.Struct("<I")
_RECORD = struct.Struct("<II")


class CorpusFormatError(ValueError):
    """A file is not a corpus, is corrupted or truncated, or has another format version."""


class CorpusWriter:
    """Writes a corpus atomically: to a hidden temporary file beside ``path``, renamed over
    ``path`` by :meth:`close`. On an exception inside ``with``, nothing is left behind.

    ``skipped`` counts what the producer left out and why; it lands in the trailer.
    """

    def __init__(self, path: str | os.PathLike[str], provenance: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.skipped: Counter[str] = Counter()
        self.workflows: list[tuple[str, int]] = []
        """Payloads per workflow in writing order, when the producer knows them (importers
        do): evaluations that must not split one workflow's payloads read them."""
        self.payload_count = 0
        self.total_bytes = 0
        header = {"format": FORMAT_NAME, "version": CORPUS_FORMAT_VERSION, "provenance": provenance}
        header_bytes = json.dumps(header, sort_keys=True).encode()
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if not directory.is_dir():
            raise CorpusFormatError(f"cannot write {self.path}: folder {directory} does not exist")
        handle, temporary = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".partial", dir=directory
        )
        self._temporary = Path(temporary)
        self._file: BinaryIO | None = os.fdopen(handle, "wb")
        self._file.write(MAGIC + _U32.pack(len(header_bytes)) + header_bytes)

    def write(self, payload: Payload) -> None:
        self.write_serialized(serialize(payload))

    def write_serialized(self, blob: bytes) -> None:
        """Append one already serialized Payload."""
        assert self._file is not None, "corpus writer is closed"
        self._file.write(_RECORD.pack(len(blob), zlib.crc32(blob)))
        self._file.write(blob)
        self.payload_count += 1
        self.total_bytes += len(blob)

    def close(self) -> Path:
        """Write the trailer, sync, and move the file to its name. Returns the path."""
        if self._file is None:
            return self.path
        counts = {
            "payload_count": self.payload_count,
            "total_bytes": self.total_bytes,
            "skipped": dict(sorted(self.skipped.items())),
        }
        if self.workflows:
            counts["workflows"] = [list(item) for item in self.workflows]
        trailer = json.dumps(counts, sort_keys=True).encode()
        try:
            self._file.write(_U32.pack(_END) + _U32.pack(len(trailer)) + trailer)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            os.replace(self._temporary, self.path)
        except BaseException:
            self.abort()
            self._temporary.unlink(missing_ok=True)
            raise
        return self.path

    def abort(self) -> None:
        """Drop what was written; ``path`` is left as it was. Closing may fail the way the
        writes did (a full disk flushes nothing): the file is removed all the same."""
        if self._file is not None:
            file, self._file = self._file, None
            with contextlib.suppress(OSError):
                file.close()
            self._temporary.unlink(missing_ok=True)

    def __enter__(self) -> CorpusWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class CorpusReader:
    """Reads a corpus file one payload at a time, checking it as it goes.

    The header (with the provenance) is read on opening; :attr:`trailer` is set once iteration
    reaches the end and the counts agree. Every problem raises :class:`CorpusFormatError` with a
    one-line message that names the file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as error:
            raise CorpusFormatError(f"cannot read corpus {self.path}: {error.strerror}") from None
        self.trailer: dict[str, Any] | None = None
        try:
            self._size = os.fstat(self._file.fileno()).st_size
            self.header = self._read_header()
        except BaseException:
            self._file.close()
            raise

    @property
    def provenance(self) -> dict[str, Any]:
        return dict(self.header.get("provenance", {}))

    def _fail(self, what: str) -> CorpusFormatError:
        return CorpusFormatError(f"corpus {self.path} {what}")

    def _read_header(self) -> dict[str, Any]:
        if self._file.read(len(MAGIC)) != MAGIC:
            raise self._fail(
                "is not a codec-bench corpus file; make one with "
                "'codec-bench corpus generate' or 'codec-bench corpus import'"
            )
        raw = self._exact(self._u32("the header"), "the header")
        try:
            header = json.loads(raw)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise self._fail("has a corrupted header")
        if header.get("version") != CORPUS_FORMAT_VERSION:
            raise self._fail(
                f"is format version {header.get('version')!r}; this codec-bench reads version "
                f"{CORPUS_FORMAT_VERSION}. Use the codec-bench version that wrote it, or "
                "re-create the corpus"
            )
        return header

    def _exact(self, size: int, what: str) -> bytes:
        # A length is checked against what the file holds before anything is allocated for
        # it: a corrupted length must not ask for 4 GiB.
        if size > self._size - self._file.tell():
            raise self._fail(f"is truncated (in {what}); it was not written completely")
        data = self._file.read(size)
        if len(data) != size:
            raise self._fail(f"is truncated (in {what}); it was not written completely")
        return data

    def _u32(self, what: str) -> int:
        value: int = _U32.unpack(self._exact(4, what))[0]
        return value

    def iter_serialized(self) -> Iterator[bytes]:
        """Each payload as its serialized bytes, in order (cheaper when bytes are what you need)."""
        count = total = 0
        while True:
            head = self._file.read(4)
            if not head:
                raise self._fail(f"is truncated after {count} payloads (no end marker)")
            if len(head) < 4:
                raise self._fail(f"is truncated after {count} payloads")
            (length,) = _U32.unpack(head)
            if length == _END:
                break
            (crc,) = _U32.unpack(self._exact(4, f"record {count + 1}"))
            blob = self._exact(length, f"payload {count + 1}")
            if zlib.crc32(blob) != crc:
                raise self._fail(f"is corrupted: payload {count + 1} fails its checksum")
            count += 1
            total += length
            yield blob
        try:
            trailer = json.loads(self._exact(self._u32("the trailer"), "the trailer"))
        except ValueError:
            trailer = None
        if not isinstance(trailer, dict) or (
            trailer.get("payload_count"),
            trailer.get("total_bytes"),
        ) != (count, total):
            raise self._fail("is corrupted: its trailer does not match its payloads")
        if self._file.read(1):
            raise self._fail("is corrupted: there is data after its end")
        self.trailer = trailer

    def __iter__(self) -> Iterator[Payload]:
        for index, blob in enumerate(self.iter_serialized(), start=1):
            try:
                yield Payload.FromString(blob)
            except DecodeError:
                raise self._fail(f"is corrupted: payload {index} is not a Payload") from None

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CorpusReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
