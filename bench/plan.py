"""What a run measures: profiles (codecs, corpora, rounds) and the codecs they name, including a
user's own PayloadCodec given as ``package.module:factory``."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.converter import PayloadCodec

import payload_codecs
from bench.errors import UserError
from bench.results import CodecFacts
from payload_codecs import ChainCodec, Dictionaries, Keyring

BASELINE = "none"
REPLICAS = ("A", "B")
"""The two rows of a noise-floor pair: the same codec measured twice."""
NOISE_FLOOR = "zstd:3"
"""The codec measured twice in the in-process layers (real work, unlike the identity); the
client layer measures the baseline twice, since a round trip is real work even without one."""
_FAMILY_NAMES = {family.name for family in payload_codecs.families()}


@dataclass(frozen=True)
class ClientPlan:
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


@dataclass(frozen=True)
class ReadingPlan:
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
    client: ClientPlan
    reading: ReadingPlan
    description: str
    client_by_default: bool = True
    """Whether the client layer runs unless ``--no-client``; a CI job's profile skips it (it
    needs a server and measures the server as much as the codecs)."""


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
    # Seven rounds, and three client codecs on one payload per size bucket, keep the quick run,
    # reading layer included, within three minutes on two shared cores; the full profile
    # measures more of each.
    rounds=7,
    client=ClientPlan(
        codecs=(BASELINE, "zstd:3", "zstd:3+aes256gcm"),
        corpora=("sizes",),
        rounds=3,
        per_bucket=1,
        concurrency=4,
        storage_thresholds=(256 * 1024,),
    ),
    reading=ReadingPlan(
        codecs=(BASELINE, "zstd:3+aes256gcm"),
        corpora=("histories",),
        sizes=(10, 100),
        rounds=5,
        ui_sizes=(100,),
        ui_rounds=3,
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
    client=ClientPlan(
        codecs=QUICK.codecs,
        corpora=("sizes", "histories"),
        rounds=5,
        per_bucket=3,
        concurrency=16,
        storage_thresholds=(64 * 1024, 256 * 1024, 1024 * 1024),
    ),
    reading=ReadingPlan(
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
    rounds=11,
    client=QUICK.client,
    reading=QUICK.reading,
    description="every family at its default level, AES alone and with zstd, in-process "
    "layers only: for a CI job that gates on speed (compare --normalize --fail-on-regression)",
    client_by_default=False,
)
PROFILES = {profile.name: profile for profile in (QUICK, FULL, CI)}


@dataclass(frozen=True)
class CodecUnderTest:
    """One codec row: its label in results, the codec, the text that named it (which a worker
    process uses to build the same codec), and the facts results keep about it."""

    label: str
    codec: PayloadCodec
    text: str
    facts: CodecFacts

    @property
    def chain(self) -> ChainCodec | None:
        """Our chain codec (which also has a raw layer), or ``None`` for a user's own codec."""
        return self.codec if isinstance(self.codec, ChainCodec) else None


def facts_of(text: str, codec: PayloadCodec, replica: str | None = None) -> CodecFacts:
    """What results record about a codec row: from its spec for our codecs; a user's codec is
    ``custom`` and says itself whether it encrypts (an ``encrypts`` attribute)."""
    if isinstance(codec, ChainCodec):
        return CodecFacts.of_spec(codec.spec, replica)
    encrypts = bool(getattr(codec, "encrypts", False))
    return CodecFacts(text, "custom", encrypts=encrypts, replica=replica)


def is_factory(text: str) -> bool:
    """``package.module:factory`` rather than a spec such as ``zstd:3``."""
    module, sep, attribute = text.partition(":")
    return bool(sep) and module not in _FAMILY_NAMES and attribute.isidentifier()


def load_factory(text: str) -> PayloadCodec:
    """Call ``package.module:factory`` with no arguments; it must return a PayloadCodec."""
    module_name, _, attribute = text.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise UserError(f"cannot load codec factory {text!r}: {error}") from None
    codec = factory()
    if not isinstance(codec, PayloadCodec):
        raise UserError(
            f"codec factory {text!r} returned {type(codec).__name__}, not a "
            "temporalio.converter.PayloadCodec"
        )
    return codec


def build_codec(
    text: str, keyring: Keyring | None, dictionaries: Dictionaries | None = None
) -> PayloadCodec:
    """The codec that ``text`` names: a spec (its zstd stages reading ``dictionaries``), or a
    user's ``package.module:factory``. An encrypting spec without a keyring is a
    ``ValueError`` that says how to give keys."""
    if is_factory(text):
        return load_factory(text)
    if keyring is None and any(
        stage.family.kind is payload_codecs.Kind.ENCRYPTION
        for stage in payload_codecs.parse_spec(text)
    ):
        raise ValueError(
            f"codec {text!r} encrypts but no keys were given; set PAYLOAD_CODEC_KEYS to the "
            "run's keys (id=BASE64KEY)"
        )
    return payload_codecs.from_spec(text, keyring=keyring, dictionaries=dictionaries)


def label_of(text: str, codec: PayloadCodec) -> str:
    """Row label: the canonical spec of our codecs, the factory string of a user's."""
    return codec.spec if isinstance(codec, ChainCodec) else text


def codecs_under_test(
    specs: Sequence[str],
    keyring: Keyring,
    *,
    replicate: str | None = None,
    dictionaries: Dictionaries | None = None,
) -> list[CodecUnderTest]:
    """The codec rows for ``specs``, in order, with the baseline first when missing (every
    comparison needs it) and ``replicate`` measured twice, as rows A and B: a noise-floor pair
    that does the same real work, so the report can say how far two identical things drift
    apart on this machine."""
    wanted = list(specs)
    if BASELINE not in wanted:
        wanted.insert(0, BASELINE)
    if replicate is not None and replicate not in wanted:
        wanted.insert(1, replicate)
    rows: list[CodecUnderTest] = []
    seen: set[str] = set()
    for text in wanted:
        codec = build_codec(text, keyring, dictionaries)
        label = label_of(text, codec)
        if label in seen:
            continue
        seen.add(label)
        if text == replicate:
            rows += [
                CodecUnderTest(f"{label} ({r})", codec, text, facts_of(text, codec, r))
                for r in REPLICAS
            ]
        else:
            rows.append(CodecUnderTest(label, codec, text, facts_of(text, codec)))
    return rows
