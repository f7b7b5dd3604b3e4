"""What a user asks of a run, as plain data: the flags of ``codec-bench run`` without argparse,
so that a run is also a Python call (``bench.run.run(RunOptions(...))``). ``None`` and empty
tuples leave the choice to the profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.cluster import ClusterOptions
from bench.corpus.sampling import Sampling

S3_BUCKET = "codec-bench-payloads"
"""The bucket offloaded payloads go to unless the user names another (must exist on an S3 API
the user gives; the local moto server creates it)."""


@dataclass(frozen=True)
class ClientOptions:
    """The client layer: a real client, server and worker (an embedded dev server unless
    ``cluster.address`` is given)."""

    run: bool | None = None
    """``True`` runs it, ``False`` skips it, ``None`` follows the profile."""
    rounds: int | None = None
    per_bucket: int | None = None
    """Payloads sampled from each size bucket of each corpus."""
    concurrency: int | None = None
    both_transports: bool = False
    """Measure every codec with and without gRPC gzip, side by side."""
    task_queue_prefix: str | None = None
    """Task queues ``PREFIX-N`` (default: the run id), so workers elsewhere can join."""
    storage_thresholds: tuple[int, ...] | None = None
    """External-storage routes from these sizes; ``()`` none, ``None`` the profile's."""
    s3_endpoint: str | None = None
    """An S3 API for offloaded payloads instead of a local moto server."""
    s3_bucket: str = S3_BUCKET


@dataclass(frozen=True)
class ReadingOptions:
    """The reading layer: histories read by the ``temporal`` CLI and the Web UI through the
    codec server."""

    run: bool | None = None
    """``True`` runs it, ``False`` skips it, ``None`` follows the profile."""
    rounds: int | None = None
    history_sizes: tuple[int, ...] = ()
    ui: bool = True
    """Open the Web UI in a headless browser (when Chromium is installed)."""
    ui_url: str | None = None
    """The Web UI of the ``cluster.address`` cluster."""
    codec_endpoint: str | None = None
    """An existing codec server for the one codec measured, instead of one started here."""


@dataclass(frozen=True)
class RunOptions:
    """Everything ``codec-bench run`` takes. The defaults are the quick profile's run into
    ``results/<run-id>/`` against an embedded dev server."""

    profile: str = "quick"
    codecs: tuple[str, ...] = ()
    """Specs or ``package.module:factory``; replace the profile's."""
    corpora: tuple[str, ...] = ()
    """Built-in names or corpus files; replace the profile's."""
    rounds: int | None = None
    seed: int = 0
    sampling: Sampling = field(default_factory=Sampling)
    """How many payloads of a large corpus file are timed (its sizes are measured whole)."""
    dictionaries: Path | None = None
    """A folder of zstd dictionaries for specs such as ``zstd:3:dict=NAME``."""
    out: Path | None = None
    force: bool = False
    """Write into a non-empty ``out``."""
    cluster: ClusterOptions = field(default_factory=ClusterOptions)
    client: ClientOptions = field(default_factory=ClientOptions)
    reading: ReadingOptions = field(default_factory=ReadingOptions)
    kms_delay_ms: float = 0.0
    """Delay added to each call to the embedded KMS (``envelope@aws-kms`` without a key of the
    user's), standing in for a KMS that far away."""
    command: tuple[str, ...] = ()
    """The command line to record in the results, credentials already redacted."""
