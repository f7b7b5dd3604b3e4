"""Profiles: named sets of codecs, corpora and rounds for each layer (``quick``, ``full``, ``ci``).
Plain data; the run's plan (``bench.run.plan``) applies a user's choices on top of one."""

from __future__ import annotations

from dataclasses import dataclass

BASELINE = "none"
REPLICAS = ("A", "B")
"""The two rows of a noise-floor pair: the same codec measured twice."""
NOISE_FLOOR = "zstd:3"
"""The codec measured twice in the in-process layers (real work, unlike the identity); the
client layer measures the baseline twice, since a round trip is real work even without one."""


@dataclass(frozen=True)
class ClientProfile:
    """How much client-path work a run does. ``codecs`` and ``corpora`` are the profile's
    subset for this slow layer (empty: all of the run's); a run's own --codec or --corpus
    choices replace them."""

    codecs: tuple[str, ...]
    corpora: tuple[str, ...]
    rounds: int
    per_bucket: int
    """Payloads sampled from each size bucket of each corpus."""
    concurrency: int
    """Workflows in flight in the throughput pass."""
    storage_thresholds: tuple[int, ...] = ()
    """Each codec also runs with external storage (S3) from each of these sizes."""
    throughput_rounds: int | None = None
    """Rounds of the throughput pass, at most ``rounds`` (``None``: as many)."""

    @property
    def throughput_passes(self) -> int:
        return min(self.rounds, self.throughput_rounds or self.rounds)


HISTORY_FRAME = 3
"""Payloads of a history that are not signals: the input's two and the result."""


@dataclass(frozen=True)
class ReadingProfile:
    """How much operator-path work a run does: histories of ``sizes`` payloads from the first
    of ``corpora`` the run measures, read ``rounds`` times by the CLI and, when ``ui``, by the
    Web UI in a headless browser (when one is installed)."""

    codecs: tuple[str, ...]
    corpora: tuple[str, ...]
    sizes: tuple[int, ...]
    rounds: int
    ui_sizes: tuple[int, ...]
    """History sizes the Web UI opens (each page load costs seconds; the UI decodes events
    lazily, so one size shows most of what the count changes)."""
    ui_rounds: int
    """Rounds that open the Web UI too (the first ones; at most ``rounds``)."""
    load_sizes: tuple[int, ...] = (1 << 10, 64 << 10, 1 << 20)
    """``/decode`` over HTTP: one JSON payload of each size per request."""
    load_concurrency: tuple[int, ...] = (1, 4)
    load_requests: int = 20
    """Requests per size and concurrency in each round."""


@dataclass(frozen=True)
class Profile:
    """A named set of codecs and corpora with a number of measured rounds."""

    name: str
    codecs: tuple[str, ...]
    corpora: tuple[str, ...]
    rounds: int
    client: ClientProfile
    reading: ReadingProfile
    description: str
    client_by_default: bool = True
    """Whether the client layer runs unless ``--no-client``; a CI job's profile skips it (it
    needs a server and measures the server as much as the codecs)."""
    runs: int = 1
    """Processes a run measures in, one after another, each a run of its own (``run-1`` ...
    in the output folder): compare takes the folder as one side, and what differs between
    processes (memory layout, calibration, the host's load at the time) is then in the test."""


_DEFAULTS = ("snappy", "zstd:3", "lz4:1", "gzip:6", "zlib:6")
QUICK = Profile(
    "quick",
    codecs=(
        BASELINE,
        *_DEFAULTS,
        "aes256gcm",
        *(f"{spec}+aes256gcm" for spec in _DEFAULTS),
    ),
    corpora=("synthetic", "histories", "sizes"),
    # Five rounds, and three client codecs on one payload per size bucket, keep the quick run,
    # reading layer included, within three minutes on two shared cores with nox's set-up; the
    # full profile measures more of each. Six client rounds give six pairs of workflows per
    # size bucket, the fewest a signed-rank test can call at 95 %; one throughput pass, a fifth
    # in-process round and fewer reading rounds pay for them (`nox -s bench` on a fresh clone
    # took 190-195 s with six in-process rounds and two throughput passes).
    rounds=5,
    client=ClientProfile(
        codecs=(BASELINE, "zstd:3", "zstd:3+aes256gcm"),
        corpora=("sizes",),
        rounds=6,
        per_bucket=1,
        concurrency=4,
        storage_thresholds=(256 * 1024,),
        throughput_rounds=1,
    ),
    reading=ReadingProfile(
        codecs=(BASELINE, "zstd:3+aes256gcm"),
        corpora=("histories",),
        sizes=(10, 100),
        rounds=4,
        ui_sizes=(100,),
        ui_rounds=2,
        load_requests=10,
    ),
    description="every family at its default level, with and without AES-256-GCM",
)
FULL = Profile(
    "full",
    codecs=(
        *QUICK.codecs,
        "zstd:-5",
        "zstd:1",
        "zstd:6",
        "zstd:9",
        "zstd:19",
        "zstd:3@cramjam",
        "snappy@cramjam-raw",
        "lz4:9",
        "lz4:1@cramjam",
        "gzip:1",
        "gzip:9",
        "gzip:6@cramjam",
        "zlib:1",
        "zlib:9",
    ),
    corpora=("synthetic", "histories", "sizes", "classic"),
    rounds=15,
    # Every family with and without encryption through the client path, but not every level:
    # levels change codec time, which the in-process layers already measure precisely.
    client=ClientProfile(
        codecs=QUICK.codecs,
        corpora=("sizes", "histories"),
        rounds=5,
        per_bucket=3,
        concurrency=16,
        storage_thresholds=(64 * 1024, 256 * 1024, 1024 * 1024),
    ),
    reading=ReadingProfile(
        codecs=(BASELINE, "snappy", "zstd:3", "aes256gcm", "zstd:3+aes256gcm", "gzip:6+aes256gcm"),
        corpora=("histories",),
        sizes=(10, 100, 500),
        rounds=7,
        ui_sizes=(10, 100, 500),
        ui_rounds=7,
    ),
    description="levels swept, both implementations, every built-in corpus",
)
CI = Profile(
    "ci",
    codecs=(BASELINE, *_DEFAULTS, "aes256gcm", "zstd:3+aes256gcm"),
    corpora=("synthetic", "histories"),
    # Four processes of three rounds: one process of eleven rounds left run-to-run variation
    # out of the gate, and identical code failed a 10 % gate in up to 10 % of simulated pairs.
    rounds=3,
    runs=4,
    client=QUICK.client,
    reading=QUICK.reading,
    description="every family at its default level, AES alone and with zstd, in-process "
    "layers only, in four processes: for a CI job that gates on speed (compare OUT-A OUT-B "
    "--normalize --fail-on-regression)",
    client_by_default=False,
)
PROFILES = {profile.name: profile for profile in (QUICK, FULL, CI)}
