"""Raw samples as the measuring layers collect them: plain data, appended round by round, saved
whole in the results file so every figure can be recomputed from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.cluster import DEFAULT_TRANSPORT


@dataclass
class InProcessSamples:
    """Raw measurements of one in-process case (raw or codec layer).

    ``encode_ns[r][i]`` is the time of ``encode_repeats[i]`` back-to-back calls on payload ``i``
    in round ``r`` (divide to get one call); likewise for decode. CPU time is the process's, per
    round, summed over all payloads (it includes executor threads the codec used).
    """

    original_bytes: list[int] = field(default_factory=list)
    encoded_bytes: list[int] = field(default_factory=list)
    encode_repeats: list[int] = field(default_factory=list)
    decode_repeats: list[int] = field(default_factory=list)
    encode_ns: list[list[int]] = field(default_factory=list)
    decode_ns: list[list[int]] = field(default_factory=list)
    encode_cpu_ns: list[int] = field(default_factory=list)
    decode_cpu_ns: list[int] = field(default_factory=list)
    peak_memory_bytes: int | None = None

    @property
    def rounds(self) -> int:
        return len(self.encode_ns)


@dataclass
class CompactSamples:
    """An in-process case's samples past the results file's bound (:mod:`bench.results.compact`):
    per size bucket (``"all"`` first), its ``payloads``, the per-round ``series`` of every metric
    compared between runs (by metric name), and ``sketches``: each side's DDSketch of the
    payloads' median time per call in µs."""

    payloads: int
    rounds: int
    buckets: dict[str, dict[str, Any]]
    encode_cpu_ns: list[int] = field(default_factory=list)
    decode_cpu_ns: list[int] = field(default_factory=list)
    peak_memory_bytes: int | None = None


FAILED = -1
"""Stands in a per-workflow sample list where the workflow failed."""


@dataclass
class ClientSamples:
    """Raw client-path samples of one codec and corpus; lists are per round, then per payload,
    with :data:`FAILED` where a workflow failed."""

    original_bytes: list[int]
    latency_ns: list[list[int]] = field(default_factory=list)
    history_bytes: list[list[int]] = field(default_factory=list)
    client_codec_ns: list[list[int]] = field(default_factory=list)
    worker_codec_ns: list[list[int]] = field(default_factory=list)
    worker_stall_ns: list[list[int]] = field(default_factory=list)
    throughput_wps: list[float] = field(default_factory=list)
    """Per throughput pass (at most one a round)."""
    concurrency: int = 1
    errors: int = 0
    first_error: str | None = None
    workflow_ids: list[str] = field(default_factory=list)
    """Workflows of the last complete round, so a reviewer can look them up."""
    payload_errors: list[str] = field(default_factory=list)
    """Per payload, the first error a workflow carrying it met ("" where none failed): which
    sizes a limit rejected, in the SDK's or server's words."""
    stage_ns: list[list[list[int]]] = field(default_factory=list)
    """Per round and payload, the round trip in stages (``bench.temporal.stages.STAGES``), from
    the client's clock and the history's event times; empty where the workflow failed, and in
    results from before schema 6."""
    paired: bool = False
    """Whether the sequential rounds ran payload by payload through every codec of the route
    in turn (from schema 6): workflow ``[r][i]`` of two such cases is then a pair measured side
    by side, which a paired test compares."""
    transport: str = DEFAULT_TRANSPORT
    """gRPC message compression of the case's client and worker."""
    storage_threshold: int | None = None
    """External storage from this many bytes (after the codec); ``None``: every payload inline.
    Only offloading cases fill the four lists below, per round and workflow."""
    offloaded: list[list[int]] = field(default_factory=list)
    """External-storage references in the stored history (FAILED where the workflow failed)."""
    s3_objects: list[list[int]] = field(default_factory=list)
    """Objects written to the store by client and worker (the driver skips a key it finds)."""
    s3_bytes: list[list[int]] = field(default_factory=list)
    storage_ns: list[list[int]] = field(default_factory=list)
    """Wall time inside the store's calls (existence checks, writes, reads), client + worker."""

    @property
    def rounds(self) -> int:
        return len(self.latency_ns)

    def keep_rounds(self, rounds: int) -> None:
        """Drop every round after the first ``rounds``, and the errors only they held: a round
        a failure broke off says nothing of the codec or the route."""
        for name in _PER_ROUND:
            del getattr(self, name)[rounds:]
        failed = [
            any(row[i] == FAILED for row in self.latency_ns)
            for i in range(len(self.original_bytes))
        ]
        self.errors = sum(row.count(FAILED) for row in self.latency_ns)
        if self.payload_errors:
            self.payload_errors = [
                text if bad else "" for text, bad in zip(self.payload_errors, failed, strict=True)
            ]
        if not self.errors:
            self.first_error, self.payload_errors = None, []


_PER_ROUND = (
    "latency_ns",
    "history_bytes",
    "client_codec_ns",
    "worker_codec_ns",
    "worker_stall_ns",
    "stage_ns",
    "throughput_wps",
    "offloaded",
    "s3_objects",
    "s3_bytes",
    "storage_ns",
)
"""``ClientSamples`` fields with one entry per round."""


@dataclass
class ReadingSamples:
    """Raw operator-path samples of one codec and one history: lists are per round, with
    :data:`FAILED` where a reading failed.

    ``original_bytes`` are the sizes of the payloads the history holds, in history order.
    ``show_requests`` and ``show_codec_bytes`` are what one ``temporal workflow show`` asked of
    the codec server (requests, payload bytes sent to it), per round; zero without a codec.
    """

    original_bytes: list[int]
    history_bytes: int = 0
    workflow_id: str = ""
    show_ns: list[int] = field(default_factory=list)
    show_requests: list[int] = field(default_factory=list)
    show_codec_bytes: list[int] = field(default_factory=list)
    ui_ns: list[int] = field(default_factory=list)
    ui_requests: list[int] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    @property
    def rounds(self) -> int:
        return len(self.show_ns)

    def keep_rounds(self, rounds: int) -> None:
        """Drop every round after the first ``rounds`` (see ``ClientSamples.keep_rounds``)."""
        for name in ("show_ns", "show_requests", "show_codec_bytes", "ui_ns", "ui_requests"):
            del getattr(self, name)[rounds:]
        self.errors = self.show_ns.count(FAILED) + self.ui_ns.count(FAILED)
        if not self.errors:
            self.first_error = None


@dataclass
class DecodeSamples:
    """``/decode`` over HTTP at one payload size and concurrency (reading layer): per round, the
    latency of every request and the round's requests per second.

    ``original_bytes`` holds the one payload's size before encoding.
    """

    original_bytes: list[int]
    concurrency: int
    latency_ns: list[list[int]] = field(default_factory=list)
    requests_per_s: list[float] = field(default_factory=list)

    @property
    def rounds(self) -> int:
        return len(self.requests_per_s)

    def keep_rounds(self, rounds: int) -> None:
        """Drop every round after the first ``rounds``."""
        del self.latency_ns[rounds:], self.requests_per_s[rounds:]


Samples = InProcessSamples | CompactSamples | ClientSamples | ReadingSamples | DecodeSamples
"""The raw samples of one case, of the kind its layer records."""


class _Rounds(Protocol):
    @property
    def rounds(self) -> int: ...

    def keep_rounds(self, rounds: int) -> None: ...


def keep_complete_rounds(samples: Sequence[_Rounds]) -> int:
    """Cut every record of one layer to the rounds all of them completed (a failure breaks a
    round off midway, some cases measured in it and some not, and what failed in it failed
    because of the failure); how many that is."""
    rounds = min((each.rounds for each in samples), default=0)
    for each in samples:
        each.keep_rounds(rounds)
    return rounds
