"""A codec that samples the payloads a worker really sends into a corpus file.

Recorded corpora hold real, possibly sensitive data (customer records, tokens, personal data):
keep them where production data may live, never commit them, and delete them when done.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import random
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from payload_codecs._corpusfile import CorpusWriter
from payload_codecs._stages import serialize

Direction = Literal["encode", "decode", "both"]
_STOP = object()
_LOG = logging.getLogger("payload_codecs")


class RecordingError(OSError):
    """Recording stopped because the corpus could not be written (a full disk, a quota)."""


class RecordingCodec(PayloadCodec):
    """Wraps a worker's real codec and records a sample of the plain payloads it sees.

    Sampling happens on the event loop and costs one random draw per payload; a sampled payload
    is serialized there and queued, and a background thread writes it, so the loop never waits
    on the disk. Recording stops for good once ``max_payloads`` or ``max_bytes`` is reached, and
    the corpus is completed then, so it survives a later crash of the worker. With
    ``rotate_bytes``, recording goes on instead in a series of files of about that many payload
    bytes each (``orders.000001.corpus``, ``orders.000002.corpus``, ... for ``orders.corpus``),
    each complete once the next begins, and only the newest ``keep_files`` complete ones are
    kept: at most ``rotate_bytes x (keep_files + 1)`` on disk, the file being written included,
    for a worker that records for weeks.

    If the file cannot be written (a full disk), recording stops, one warning is logged, queued
    payloads are dropped, the partial file is removed, and :meth:`close` raises
    :class:`RecordingError`; the inner codec keeps working throughout.

    Args:
        path: corpus file to write (appears complete on :meth:`close` or when a cap is reached).
        inner: the codec that really encodes (``None``: payloads pass unchanged).
        rate: share of payloads to record, 0 to 1.
        max_payloads, max_bytes: caps on what is recorded (without rotation).
        rotate_bytes: start a new file after this many payload bytes; ``None``: one file.
        keep_files: with rotation, complete files kept (the oldest are deleted).
        direction: ``"encode"`` records payloads this process sends (activity results, workflow
            commands); ``"decode"`` those it receives (workflow and activity inputs); ``"both"``
            may record a payload once on each side.
        seed: seeds the sampler, for reproducible tests.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        inner: PayloadCodec | None = None,
        rate: float = 0.01,
        max_payloads: int = 100_000,
        max_bytes: int = 1 << 30,
        direction: Direction = "encode",
        seed: int | None = None,
        rotate_bytes: int | None = None,
        keep_files: int = 10,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        if direction not in ("encode", "decode", "both"):
            raise ValueError(f"direction must be encode, decode or both, got {direction!r}")
        if rotate_bytes is not None and (rotate_bytes < 1 or keep_files < 1):
            raise ValueError("rotate_bytes and keep_files must be 1 or more")
        self._inner = inner
        self._rate = rate
        rotating = rotate_bytes is not None
        self._max_payloads = max_payloads if not rotating else float("inf")
        self._max_bytes = max_bytes if not rotating else float("inf")
        self._path = Path(path)
        self._rotate_bytes = rotate_bytes
        self._keep_files = keep_files
        self._parts: list[Path] = []
        """Complete files of a rotating recording, oldest first."""
        self._part = self._part_bytes = 0
        self._on_encode = direction in ("encode", "both")
        self._on_decode = direction in ("decode", "both")
        self._random = random.Random(seed).random
        self._accepted = 0
        self._accepted_bytes = 0
        self._full = rate == 0.0
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._provenance = {
            "kind": "recording",
            "rate": rate,
            "direction": direction,
            "inner_codec": repr(inner),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._writer = self._new_writer()
        self._thread = threading.Thread(
            target=self._write_loop, name="payload-recorder", daemon=True
        )
        self.error: OSError | None = None
        """Why recording stopped early, if it did."""
        self._thread.start()
        self._closed = False
        atexit.register(self._close_at_exit)

    @property
    def recorded(self) -> int:
        """Payloads accepted for recording so far."""
        return self._accepted

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if self._on_encode and not self._full:
            self._sample(payloads)
        return list(payloads) if self._inner is None else await self._inner.encode(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = list(payloads) if self._inner is None else await self._inner.decode(payloads)
        if self._on_decode and not self._full:
            self._sample(decoded)
        return decoded

    def _sample(self, payloads: Sequence[Payload]) -> None:
        for payload in payloads:
            if self._rate < 1.0 and self._random() >= self._rate:
                continue
            blob = serialize(payload)
            if (
                self._accepted >= self._max_payloads
                or self._accepted_bytes + len(blob) > self._max_bytes
            ):
                self._full = True
                self._queue.put(_STOP)
                return
            self._accepted += 1
            self._accepted_bytes += len(blob)
            self._queue.put(blob)

    def _new_writer(self) -> CorpusWriter:
        if self._rotate_bytes is None:
            return CorpusWriter(self._path, self._provenance)
        self._part += 1
        path = self._path.with_name(f"{self._path.stem}.{self._part:06d}{self._path.suffix}")
        return CorpusWriter(path, {**self._provenance, "part": self._part})

    def _write_loop(self) -> None:
        try:
            while (item := self._queue.get()) is not _STOP:
                assert isinstance(item, bytes)
                self._writer.write_serialized(item)
                self._part_bytes += len(item)
                if self._rotate_bytes is not None and self._part_bytes >= self._rotate_bytes:
                    self._rotate()
            self._writer.close()
        except OSError as error:
            self._stop_recording(error)

    def _rotate(self) -> None:
        """Complete the current file, begin the next, and delete the oldest past
        ``keep_files``."""
        self._writer.close()
        self._parts.append(self._writer.path)
        self._part_bytes = 0
        while len(self._parts) > self._keep_files:
            self._parts.pop(0).unlink(missing_ok=True)
        self._writer = self._new_writer()

    def _stop_recording(self, error: OSError) -> None:
        self._full = True
        self.error = error
        self._writer.abort()
        dropped = 0
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            dropped += 1
        _LOG.warning(
            "recording to %s stopped: %s; %d queued payloads dropped, the partial file removed",
            self._writer.path,
            error.strerror or error,
            dropped,
        )

    def close(self) -> None:
        """Finish writing and complete the corpus file. Safe to call more than once. Raises
        :class:`RecordingError` when recording had stopped because the file could not be
        written."""
        if not self._closed:
            self._closed = True
            self._full = True
            self._queue.put(_STOP)
            self._thread.join()
            self._queue = queue.SimpleQueue()
            atexit.unregister(self._close_at_exit)
        if self.error is not None:
            failure = RecordingError(
                f"recording to {self._writer.path} failed: {self.error.strerror or self.error}; "
                "the partial corpus was removed"
            )
            failure.errno = self.error.errno
            raise failure

    def _close_at_exit(self) -> None:
        # The failure was logged when it happened; interpreter exit is no place to raise it.
        with contextlib.suppress(RecordingError):
            self.close()
