"""The plan of a run: what it measures, decided from ``RunOptions`` and a profile before anything
is timed. Every check that can fail on the user's input runs here, so a mistake costs one line
and no measuring; each codec row is built once."""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.cluster import TRANSPORTS
from bench.codec_rows import CodecUnderTest, codecs_under_test
from bench.corpus import catalog
from bench.corpus.catalog import Corpus
from bench.corpus.sampling import Encoder, Sampling
from bench.errors import UserError
from bench.keys import run_keyring
from bench.layers.client import Route, sample_payloads
from bench.layers.inprocess import Case, build_cases
from bench.layers.reading import browser_missing, find_chromium, fit_histories
from bench.layers.reference import reference_cases
from bench.profiles import BASELINE, NOISE_FLOOR, PROFILES, ClientProfile, Profile, ReadingProfile
from bench.progress import Phase, say
from bench.results import Layer
from bench.run.options import RunOptions
from payload_codecs import DICTIONARIES_ENV, Dictionaries

LARGE_CORPUS_BYTES = 256 << 20
"""A corpus file this large takes long enough to read that the user is told."""
CLIENT_S_PER_PAYLOAD = 0.35
READING_S_PER_STEP = 9.0
"""First guesses of the slow layers' pace on this project's 2-core machine (the quick profile's
reference run: 1.3 s a client step of 4 payloads, 7-12 s a reading step with its set-up)."""


@dataclass(frozen=True)
class Plan:
    """What this run measures: the options it came from, the profile as the options refine it,
    the codec rows and corpora of each layer, and the environment workers and codec servers
    get (the run's keys and dictionaries)."""

    options: RunOptions
    run_id: str
    out: Path
    profile: Profile
    rounds: int
    rows: list[CodecUnderTest]
    corpora: list[Corpus]
    cases: list[Case]
    client: ClientProfile
    client_rows: list[CodecUnderTest]
    client_corpora: list[Corpus]
    run_client: bool
    reading: ReadingProfile
    reading_rows: list[CodecUnderTest]
    reading_corpus: Corpus
    run_reading: bool
    key_env: dict[str, str]
    browser: str | None
    """Chromium for the Web UI part of the reading layer; ``None``: the UI is not opened."""
    reading_notes: tuple[str, ...] = ()
    """How the reading layer's histories were fitted to the corpus and the server's limits."""
    reading_skip: str | None = None
    """Why the reading layer cannot run on this corpus, when it cannot."""

    @property
    def transports(self) -> list[str]:
        if self.options.client.both_transports:
            return list(TRANSPORTS)
        return [self.options.cluster.grpc_compression]

    @property
    def task_queue_prefix(self) -> str:
        """Task queues ``PREFIX-N``: the user's prefix, so workers elsewhere can join, or the
        run id."""
        return self.options.client.task_queue_prefix or self.run_id

    @property
    def routes(self) -> list[Route]:
        """Every gRPC transport with every storage variant (inline first)."""
        thresholds: list[int | None] = [None, *self.client.storage_thresholds]
        return [Route(t, threshold) for t in self.transports for threshold in thresholds]

    @property
    def steps(self) -> int:
        """Progress steps: each payload's calibration and rounds and each case's memory pass,
        each client case's warm-up and rounds, and the reading layer's rounds and set-up."""
        return sum(phase.steps for phase in self.phases)

    @functools.cached_property
    def phases(self) -> list[Phase]:
        """The steps by layer, in the order they run, each slow layer's with a first guess of
        its pace (replaced by its measured pace once it runs): a client step is one case's
        pass over its payloads, a reading step one round of every reading."""
        per_round = sum(len(case.inputs) for case in self.cases)
        phases = [Phase(len(self.cases) + per_round * (self.rounds + 1))]
        if self.run_client:
            groups = len(self.client_corpora) * len(self.routes)
            cases = len(self.client_rows) * groups
            payloads = max(
                (len(sample_payloads(c, self.client.per_bucket)) for c in self.client_corpora),
                default=1,
            )
            # Steps: each case's warm-up, then per round each group's paired pass and each
            # case's throughput pass (bench.layers.client).
            steps = cases + self.client.rounds * groups + self.client.throughput_passes * cases
            phases.append(Phase(steps, CLIENT_S_PER_PAYLOAD * payloads))
        if self.run_reading:
            phases.append(Phase(self.reading.rounds + 1, READING_S_PER_STEP))
        return phases

    @property
    def servers(self) -> bool:
        """Whether a Temporal server is needed."""
        return self.run_client or self.run_reading

    def skipped(self) -> dict[str, dict[str, str]]:
        """The layers this plan leaves out, each with why."""
        out: dict[str, dict[str, str]] = {}
        if self.reading_skip is not None:
            out[Layer.READING] = {"status": f"not run ({self.reading_skip})"}
        for layer, chosen, ran, flag in (
            (Layer.CLIENT, self.options.client.run, self.run_client, "client"),
            (Layer.READING, self.options.reading.run, self.run_reading, "reading"),
        ):
            if not ran and layer not in out:
                why = (
                    f"--no-{flag}"
                    if chosen is False
                    else f"profile {self.profile.name}; --{flag} runs it"
                )
                out[layer] = {"status": f"not run ({why})"}
        return out


def _corpora(
    names: Sequence[str], sampling: Sampling, rows: Sequence[CodecUnderTest], rounds: int
) -> list[Corpus]:
    """The corpora to measure, larger corpus files sampled, with their sizes under every codec
    row over every payload from the same pass. Each in-process case (a codec case and at most
    one raw case per codec row) keeps its corpus's payloads encoded and writes per payload its
    sizes, repeats and a time per round each way: the sample's share of memory and of the
    results file shrinks with the cases."""
    cases = 2 * len(rows)
    shared = sampling.sharing(len(names), copies=2 + cases, figures=cases * (4 + 2 * rounds))
    with asyncio.Runner() as runner:
        encoders = {row.label: _encoder(row, runner) for row in rows}
        corpora = []
        for name in names:
            path = Path(name)
            if (
                name not in catalog.BUILTIN
                and path.is_file()
                and path.stat().st_size >= LARGE_CORPUS_BYTES
            ):
                say(f"reading corpus {name} once: a sample to time, and every payload's size")
            corpora.append(catalog.load(name, shared, encoders))
    for corpus in corpora:
        if not corpus.payloads:
            raise UserError(f"corpus {corpus.name} holds no payloads; there is nothing to measure")
    return corpora


def _encoder(row: CodecUnderTest, runner: asyncio.Runner) -> Encoder:
    if row.chain is not None:
        return row.chain.encode_sync
    codec = row.codec
    return lambda payloads: runner.run(codec.encode(payloads))


def make_plan(options: RunOptions) -> Plan:
    """The plan for ``options``; ``UserError`` with one line for whatever cannot be run."""
    if options.profile not in PROFILES:
        raise UserError(f"no profile {options.profile!r}; choose one of {', '.join(PROFILES)}")
    profile = PROFILES[options.profile]
    run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)
    out = _out_folder(options, run_id)
    keyring, key_env = run_keyring()
    dictionaries, key_env = _dictionaries(options, key_env)
    wanted = options.codecs or profile.codecs
    rows = codecs_under_test(wanted, keyring, replicate=NOISE_FLOOR, dictionaries=dictionaries)
    rounds = options.rounds or profile.rounds
    corpora = _corpora(options.corpora or profile.corpora, options.sampling, rows, rounds)
    client, client_corpora = _client_profile(options, profile, corpora)
    run_client = _runs(options.client.run, profile)
    run_reading = _runs(options.reading.run, profile)
    _check_cluster(options, run_client or run_reading)
    reading = _reading_profile(options, profile)
    reading_rows = [
        row
        for row in codecs_under_test(reading.codecs or wanted, keyring, dictionaries=dictionaries)
        if row.chain is not None  # the codec server serves specs; a user's class it cannot
    ]
    _check_endpoints(options, reading_rows)
    reading_corpus = next((c for c in corpora if c.name in reading.corpora), corpora[0])
    fit = fit_histories(reading_corpus, (*reading.sizes, *reading.ui_sizes))
    reading_skip = None
    if run_reading and not fit.payloads:
        run_reading, reading_skip = False, "; ".join(fit.notes)
    _writable_folder(out)
    return Plan(
        options=options,
        run_id=run_id,
        out=out,
        profile=profile,
        rounds=rounds,
        rows=rows,
        corpora=corpora,
        cases=build_cases(rows, corpora) + reference_cases(),
        client=client,
        client_rows=codecs_under_test(
            client.codecs or wanted, keyring, replicate=BASELINE, dictionaries=dictionaries
        ),
        client_corpora=client_corpora,
        run_client=run_client,
        reading=fit.profile(reading) if fit.payloads else reading,
        reading_rows=reading_rows,
        reading_corpus=replace(reading_corpus, payloads=fit.payloads or reading_corpus.payloads),
        run_reading=run_reading,
        reading_notes=fit.notes if run_reading else (),
        reading_skip=reading_skip,
        key_env=key_env,
        browser=None
        if not options.reading.ui or not run_reading or browser_missing()
        else find_chromium(),
    )


def _runs(chosen: bool | None, profile: Profile) -> bool:
    return profile.client_by_default if chosen is None else chosen


def _out_folder(options: RunOptions, run_id: str) -> Path:
    out = options.out or Path("results") / run_id
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; --out names a folder for the results")
    if out.exists() and any(out.iterdir()) and not options.force:
        raise UserError(
            f"{out} is not empty; choose another --out or pass --force to replace its files"
        )
    return out


def _writable_folder(folder: Path) -> None:
    """Make sure results can be written into ``folder`` before anything is measured: create it
    and write and remove a probe file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise UserError(
            f"cannot write into {folder}: {error.strerror}; choose another --out"
        ) from None


def _dictionaries(
    options: RunOptions, key_env: dict[str, str]
) -> tuple[Dictionaries | None, dict[str, str]]:
    """The run's dictionaries, loaded, and the environment that gives workers and codec servers
    the same folder."""
    if options.dictionaries is None:
        return None, key_env
    folder = options.dictionaries.resolve()
    return Dictionaries.from_dir(folder), {**key_env, DICTIONARIES_ENV: str(folder)}


def _client_profile(
    options: RunOptions, profile: Profile, corpora: list[Corpus]
) -> tuple[ClientProfile, list[Corpus]]:
    """The client layer's profile as the options refine it, and its corpora; storage thresholds
    no sampled payload can reach are dropped."""
    given = options.client
    client = ClientProfile(
        codecs=() if options.codecs else profile.client.codecs,
        corpora=() if options.corpora else profile.client.corpora,
        rounds=given.rounds or profile.client.rounds,
        per_bucket=given.per_bucket or profile.client.per_bucket,
        concurrency=given.concurrency or profile.client.concurrency,
        storage_thresholds=profile.client.storage_thresholds
        if given.storage_thresholds is None
        else given.storage_thresholds,
        throughput_rounds=profile.client.throughput_rounds,
    )
    chosen = [c for c in corpora if not client.corpora or c.name in client.corpora]
    return replace(client, storage_thresholds=reachable(client, chosen)), chosen


def reachable(client: ClientProfile, corpora: Sequence[Corpus]) -> tuple[int, ...]:
    """The storage thresholds some sampled payload can reach: below all of them every payload
    stays inline, and an offloading route would measure the inline one again (and start an S3
    server for nothing)."""
    return tuple(
        threshold
        for threshold in client.storage_thresholds
        if any(
            Route(threshold=threshold).candidates(sample_payloads(c, client.per_bucket))
            for c in corpora
        )
    )


def _reading_profile(options: RunOptions, profile: Profile) -> ReadingProfile:
    given = options.reading
    rounds = given.rounds or profile.reading.rounds
    return ReadingProfile(
        codecs=() if options.codecs else profile.reading.codecs,
        corpora=profile.reading.corpora,
        sizes=given.history_sizes or profile.reading.sizes,
        rounds=rounds,
        ui_sizes=given.history_sizes or profile.reading.ui_sizes,
        ui_rounds=min(given.rounds or profile.reading.ui_rounds, rounds),
    )


def _check_cluster(options: RunOptions, servers: bool) -> None:
    cluster = options.cluster
    tls = cluster.tls or cluster.tls_cert or cluster.tls_key or cluster.tls_ca
    if servers and cluster.address is None and (cluster.api_key or tls):
        raise UserError(
            "--api-key and the --tls flags need --address: the embedded dev server speaks plain "
            "gRPC on loopback"
        )


def _check_endpoints(options: RunOptions, rows: list[CodecUnderTest]) -> None:
    """``--codec-endpoint`` stands for one codec's server, ``--ui-url`` needs a cluster."""
    coded = [row.label for row in rows if not row.facts.baseline]
    if options.reading.codec_endpoint and len(coded) != 1:
        raise UserError(
            f"--codec-endpoint decodes one codec, but the reading layer measures {len(coded)} "
            f"({', '.join(coded) or 'none'}); name that one codec with --codec"
        )
    if options.reading.ui_url and not options.cluster.address:
        raise UserError("--ui-url needs --address: the embedded dev server serves its own Web UI")
