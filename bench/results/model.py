"""The data model of a run's results: plain, frozen, typed. Report, compare and recommend read
these and nothing else; nothing here imports a measuring layer, a worker or a plotting library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bench.cluster import DEFAULT_TRANSPORT
from bench.results.samples import ClientSamples, Samples
from bench.results.stats import Estimate

ALL = "all"
"""The bucket name of every payload together (the others are size buckets)."""


class Layer(StrEnum):
    """Where a case was measured, from the bare library call out to a real server."""

    RAW = "raw"
    """The bare bytes-to-bytes library call on serialized payloads."""
    CODEC = "codec"
    """The ``PayloadCodec`` on Payloads, on a running event loop, as the SDK calls it."""
    CLIENT = "client"
    """A workflow round trip through a real client, server and worker."""
    READING = "reading"
    """Histories read through the codec server by the real ``temporal`` CLI and Web UI."""
    REFERENCE = "reference"
    """Fixed stdlib work timed in the same rounds, to measure the machine's drift."""

    @property
    def in_process(self) -> bool:
        return self in (Layer.RAW, Layer.CODEC, Layer.REFERENCE)


UNKNOWN_INTEGRITY = "not known"
"""``CodecFacts.integrity`` of a user's codec, and of results written before schema 4."""


@dataclass(frozen=True)
class CodecFacts:
    """What a codec row is, stored with its results so that no output parses a label.

    ``replica`` marks the two rows of a noise-floor pair (the same codec measured twice, "A" and
    "B"); ``baseline`` the identity codec that every change is measured against.
    """

    spec: str
    """Canonical spec (``zstd:3@zstandard+aes256gcm``) or a user's ``package.module:factory``."""
    family: str
    """The family of the first compressing stage; ``aes256gcm`` for encryption alone, ``none``
    for the identity, ``custom`` for a user's codec."""
    level: int | None = None
    implementation: str | None = None
    encrypts: bool = False
    compresses: bool = False
    baseline: bool = False
    replica: str | None = None
    integrity: str | None = None
    """What detects a corrupted payload of the codec when decoding (``payload_codecs.integrity``),
    ``None`` for nothing; for a user's codec, and results from before schema 4, that it is not
    known (``UNKNOWN_INTEGRITY``)."""

    @classmethod
    def of_spec(cls, spec: str, replica: str | None = None) -> CodecFacts:
        """The facts a spec string states; ``custom`` for anything that is not a spec (a
        user's ``package.module:factory``)."""
        from payload_codecs import Kind, integrity, parse_spec

        try:
            stages = parse_spec(spec)
        except ValueError:
            return cls(spec, "custom", replica=replica, integrity=UNKNOWN_INTEGRITY)
        kinds = [stage.family.kind for stage in stages]
        first = next((s for s in stages if s.family.kind is Kind.COMPRESSION), stages[0])
        return cls(
            spec="+".join(map(str, stages)),
            family=first.family.name,
            level=first.level,
            implementation=first.implementation,
            encrypts=Kind.ENCRYPTION in kinds,
            compresses=Kind.COMPRESSION in kinds,
            baseline=kinds == [Kind.IDENTITY],
            replica=replica,
            integrity=integrity(spec),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "family": self.family,
            "level": self.level,
            "implementation": self.implementation,
            "encrypts": self.encrypts,
            "compresses": self.compresses,
            "baseline": self.baseline,
            "replica": self.replica,
            "integrity": self.integrity,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> CodecFacts:
        return cls(**{name: document[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Route:
    """How a client-layer case's payloads reach the server: gRPC message compression, and
    whether payloads of ``threshold`` bytes or more (after the codec) go to external storage."""

    transport: str = DEFAULT_TRANSPORT
    """``gzip`` (the SDK's default since temporalio 1.29) or ``none``."""
    threshold: int | None = None
    """External storage from this many bytes; ``None``: every payload inline."""

    @property
    def offloads(self) -> bool:
        return self.threshold is not None

    @property
    def default(self) -> bool:
        """The SDK's defaults: gzip, every payload inline."""
        return self == Route()


@dataclass(frozen=True)
class Environment:
    """The machine and process a run measured in (collected by ``bench.results.environment``):
    what a reviewer needs to judge or reproduce the numbers. Every field may be missing from an
    older or hand-made file; keys this version does not know are kept in ``extra``."""

    cpu_model: str | None = None
    cpu_count: int | None = None
    cpu_affinity: int | None = None
    """Cores this process may run on."""
    load_average: tuple[float, ...] = ()
    """1, 5 and 15 minutes, when the run started."""
    platform: str | None = None
    python: Mapping[str, str] = field(default_factory=dict)
    """implementation, version, build, compiler, executable."""
    packages: Mapping[str, str | None] = field(default_factory=dict)
    native: Mapping[str, str] = field(default_factory=dict)
    """The native libraries inside the packages (libzstd, liblz4, OpenSSL, ...)."""
    malloc: Mapping[str, str] = field(default_factory=dict)
    """``MALLOC_*``, ``PYTHONMALLOC`` and ``GLIBC_TUNABLES`` as set for the run."""
    git_commit: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    COMPARED = ("cpu_model", "cpu_count", "platform", "python", "packages", "native", "malloc")
    """What compare warns about when two runs differ in it."""

    def to_json(self) -> dict[str, Any]:
        document = {
            name: getattr(self, name) for name in self.__dataclass_fields__ if name != "extra"
        }
        document["load_average"] = list(self.load_average)
        return {**self.extra, **document}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Environment:
        known = {k: v for k, v in document.items() if k in cls.__dataclass_fields__}
        known["load_average"] = tuple(known.get("load_average") or ())
        extra = {k: v for k, v in document.items() if k not in cls.__dataclass_fields__}
        return cls(**known, extra=extra)


@dataclass(frozen=True)
class CorpusInfo:
    """A measured corpus, identified by the sha256 of its serialized payloads in order."""

    name: str
    digest: str
    payload_count: int
    total_bytes: int
    provenance: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    sample: dict[str, Any] | None = None
    """How the payloads timed were drawn from a larger corpus file
    (``bench.corpus.sampling.SampleInfo``); ``None``: they are the whole corpus."""
    whole: dict[str, Any] | None = None
    """For a sampled corpus, sizes over all its payloads: ``payloads``, ``bytes`` and
    ``encoded`` bytes per codec row (``bench.corpus.sampling.WholeSizes``)."""


@dataclass(frozen=True)
class CaseResult:
    """One layer x codec x corpus (x variant): the raw samples and their summary by bucket.

    ``summary[bucket][metric]`` holds what :mod:`bench.results.metrics` computed; read it through
    :meth:`estimate` and :meth:`value` rather than by hand.
    """

    layer: Layer
    codec: str
    """The row label, unique in a run (``none (A)``, ``zstd:3@zstandard``)."""
    corpus: str
    library: str
    facts: CodecFacts
    samples: Samples
    """The raw samples, of the kind the layer records; read only, like the rest of a result."""
    summary: dict[str, dict[str, Any]]
    variant: str = ""
    """How the case differs from its codec's plain case in the same layer (empty: it does not)."""

    @property
    def row(self) -> str:
        """The codec label with the variant, when there is one (``none [100 payloads]``): what
        tells two cases of one codec apart in a table."""
        return f"{self.codec} [{self.variant}]" if self.variant else self.codec

    @property
    def route(self) -> Route | None:
        """How a client-layer case reached the server; ``None`` for the other layers."""
        if not isinstance(self.samples, ClientSamples):
            return None
        return Route(self.samples.transport, self.samples.storage_threshold)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.layer.value, self.codec, self.corpus, self.variant)

    @property
    def buckets(self) -> list[str]:
        return list(self.summary)

    def has(self, bucket: str, metric: str) -> bool:
        return self.summary.get(bucket, {}).get(metric) is not None

    def raw(self, bucket: str, metric: str) -> Any:
        """The stored summary value, whatever its shape; ``None`` when absent."""
        return self.summary.get(bucket, {}).get(metric)

    def estimate(self, bucket: str, metric: str, quantile: str | None = None) -> Estimate | None:
        """A median (or, with ``quantile`` such as ``"p50"``, a percentile) with its interval."""
        value = self.raw(bucket, metric)
        if quantile is not None:
            value = value.get(quantile) if isinstance(value, dict) else None
        return Estimate.from_json(value) if isinstance(value, dict) and "median" in value else None

    def value(self, bucket: str, metric: str, quantile: str | None = None) -> float | None:
        """A plain number: the metric itself, an estimate's median, or one of its quantiles."""
        value = self.raw(bucket, metric)
        if isinstance(value, dict):
            if quantile is not None:
                value = value.get(quantile)
            elif "median" not in value:
                return None
        if isinstance(value, dict):
            value = value.get("median")
        return None if value is None or isinstance(value, str) else float(value)


@dataclass(frozen=True)
class Results:
    """Everything one ``codec-bench run`` measured, as saved in ``results.json``."""

    run_id: str
    started: str
    finished: str
    interrupted: bool
    profile: str
    rounds_planned: int
    rounds_completed: int
    command: list[str]
    environment: Environment
    corpora: list[CorpusInfo]
    cases: list[CaseResult]
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """How each slow layer ran (server, rounds, status) or why it did not, by layer name."""

    def cases_of(self, layer: Layer, corpus: str) -> list[CaseResult]:
        """The cases of one layer and corpus, in the order they were measured."""
        return [c for c in self.cases if c.layer is layer and c.corpus == corpus]

    def case(self, layer: Layer, codec: str, corpus: str, variant: str = "") -> CaseResult | None:
        key = (layer.value, codec, corpus, variant)
        return next((c for c in self.cases if c.key == key), None)

    def baseline(self, layer: Layer, corpus: str, variant: str = "") -> CaseResult | None:
        """The first baseline row of a layer, corpus and variant (replica A when there is a
        pair); the plain variant is what every other is measured against by default."""
        return next(
            (c for c in self.cases_of(layer, corpus) if c.facts.baseline and c.variant == variant),
            None,
        )

    def replicas(self, layer: Layer, corpus: str) -> dict[str, list[CaseResult]]:
        """Noise-floor pairs by spec (and variant, when there is one): the same codec measured
        as replicas A and B."""
        pairs: dict[str, list[CaseResult]] = {}
        for case in self.cases_of(layer, corpus):
            if case.facts.replica is not None:
                key = f"{case.facts.spec} [{case.variant}]" if case.variant else case.facts.spec
                pairs.setdefault(key, []).append(case)
        return {spec: cases for spec, cases in pairs.items() if len(cases) == 2}

    @property
    def corpus_names(self) -> list[str]:
        return [c.name for c in self.corpora]

    def corpus(self, name: str) -> CorpusInfo | None:
        return next((c for c in self.corpora if c.name == name), None)
