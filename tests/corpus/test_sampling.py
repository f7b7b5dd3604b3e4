"""A run times a sample of a large corpus file: drawn in one streaming pass, in bounded memory,
reproducibly from its seed, keeping every stratum (size bucket x payload type) in it, while the
sizes are measured over the whole file."""

from __future__ import annotations

import os
import random
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench.corpus import catalog
from bench.corpus.sampling import (
    DEFAULT_SIZE,
    Sampling,
    draw,
    stratum_of,
)
from bench.results.compact import RESULTS_NUMBERS
from temporalio.api.common.v1 import Payload

from payload_codecs import CorpusWriter, from_spec, serialize

SMALL = Payload(metadata={"encoding": b"json/plain"}, data=b'{"order": 1, "items": []}')


def _mixed(small: int = 3000, large: int = 3) -> Iterator[Payload]:
    """Mostly small JSON, a few large protobuf payloads spread through it."""
    every = small // (large + 1)
    for index in range(small):
        yield Payload(metadata={"encoding": b"json/plain"}, data=b'{"n": %d}' % index)
        if index % every == every - 1 and large:
            large -= 1
            data = random.Random(large).randbytes(300 << 10)
            yield Payload(metadata={"encoding": b"binary/protobuf"}, data=data)


def _file(tmp_path: Path, payloads: Iterator[Payload], workflows: int = 0) -> Path:
    path = tmp_path / "recorded.tcbcorpus"
    with CorpusWriter(path, {"kind": "test"}) as writer:
        count = 0
        for payload in payloads:
            writer.write(payload)
            count += 1
        if workflows:
            writer.workflows = [(f"wf{i}", count // workflows) for i in range(workflows)]
            writer.workflows[-1] = (
                f"wf{workflows - 1}",
                count - sum(c for _, c in writer.workflows[:-1]),
            )
    return path


def _blobs(payloads: Iterator[Payload]) -> Iterator[bytes]:
    return (serialize(p) for p in payloads)


def test_every_stratum_is_in_the_sample_and_counted_whole() -> None:
    sample = draw(_blobs(_mixed()), Sampling(size=100, min_per_stratum=2))
    strata = sample.info.strata
    assert strata["json/plain <1KiB"].population == 3000
    assert strata["binary/protobuf 256KiB-1MiB"].population == 3
    # three large payloads in 3003: a uniform sample of 100 would miss them most of the time
    assert strata["binary/protobuf 256KiB-1MiB"].sampled >= 2
    assert sample.info.population == 3003
    assert sample.info.size == len(sample.payloads) == sum(s.sampled for s in strata.values())
    assert Counter(stratum_of(p, len(serialize(p))) for p in sample.payloads) == {
        name: s.sampled for name, s in strata.items()
    }
    assert sample.indexes == sorted(sample.indexes)  # corpus order
    # strata by type, then by size from the smallest
    assert list(strata) == ["binary/protobuf 256KiB-1MiB", "json/plain <1KiB"]


def test_strata_are_listed_by_type_then_by_size() -> None:
    sizes = [20 << 10, 100, 2 << 10]
    payloads = [Payload(metadata={"encoding": b"json/plain"}, data=b"x" * n) for n in sizes]
    strata = draw(_blobs(iter(payloads)), Sampling(size=10)).info.strata
    assert list(strata) == ["json/plain <1KiB", "json/plain 1-16KiB", "json/plain 16-256KiB"]


def test_the_seed_reproduces_the_sample_and_another_seed_draws_another() -> None:
    first = draw(_blobs(_mixed()), Sampling(size=50, seed=7))
    again = draw(_blobs(_mixed()), Sampling(size=50, seed=7))
    other = draw(_blobs(_mixed()), Sampling(size=50, seed=8))
    assert first.indexes == again.indexes
    assert first.payloads == again.payloads
    assert first.indexes != other.indexes
    assert first.info.population_digest == other.info.population_digest


def test_the_uniform_part_keeps_the_corpus_proportions() -> None:
    """7,000 of one type and 3,000 of another, a sample of 1,000: each type's share is within
    three standard errors of its share of the corpus (seeded, so the outcome is fixed)."""
    payloads = [
        SMALL if i % 10 < 7 else Payload(metadata={"encoding": b"binary/plain"}, data=b"x")
        for i in range(10_000)
    ]
    sample = draw(_blobs(iter(payloads)), Sampling(size=1000))
    share = sample.info.strata["json/plain <1KiB"].sampled / sample.info.size
    assert abs(share - 0.7) < 3 * (0.7 * 0.3 / 1000) ** 0.5


def test_the_byte_budget_bounds_the_sample_and_its_top_ups() -> None:
    """The uniform part within the budget, the strata's minimums within as much again: a
    large payload that does not fit is left out rather than taken over the budget."""
    for budget, large_kept in ((64 << 10, 0), (400 << 10, 1)):
        sampling = Sampling(size=1000, max_bytes=budget, min_per_stratum=1)
        sample = draw(_blobs(_mixed(large=3)), sampling)
        large = [p for p in sample.payloads if p.ByteSize() > 64 << 10]
        assert len(large) == large_kept
        assert sum(p.ByteSize() for p in sample.payloads) <= 2 * budget
        assert sample.info.strata["binary/protobuf 256KiB-1MiB"].population == 3


def test_a_run_shares_the_budgets_among_its_corpora_and_their_cases() -> None:
    """Memory among the copies the cases keep; results among the figures they write per
    payload (the quick profile: 26 cases of 14 figures a payload)."""
    shared = Sampling(max_bytes=512 << 20).sharing(corpora=2, copies=16, figures=10)
    assert shared.max_bytes == 16 << 20
    assert shared.size == DEFAULT_SIZE  # 1.5 million figures are plenty for 2 x 5,000 x 10
    quick = Sampling().sharing(corpora=1, copies=28, figures=26 * 14)
    assert quick.size == RESULTS_NUMBERS // (26 * 14) == 4120
    assert Sampling(max_bytes=4 << 20).sharing(3, 30, 10).max_bytes == 1 << 20
    assert Sampling(size=0).sharing(3, 30, 10_000).size == 0  # every payload, when asked


def test_memory_holds_the_sample_not_the_corpus() -> None:
    """40,000 payloads of 4 KiB (160 MiB, made as they are read): drawing 100 of them peaks
    at a few MiB."""
    many = (
        serialize(Payload(metadata={"encoding": b"binary/plain"}, data=os.urandom(4 << 10)))
        for _ in range(40_000)
    )
    tracemalloc.start()
    try:
        sample = draw(many, Sampling(size=100))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sample.info.population == 40_000
    assert peak < 8 << 20, f"peak {peak / (1 << 20):.1f} MiB"


def test_a_corpus_file_larger_than_the_sample_loads_sampled(tmp_path: Path) -> None:
    path = _file(tmp_path, _mixed(), workflows=3)
    corpus = catalog.load(str(path), Sampling(size=60))
    assert corpus.sample is not None
    assert len(corpus.payloads) == corpus.sample.size < corpus.sample.population == 3003
    # the sampled payloads keep the workflow each came from
    assert [name for name, _ in corpus.workflows] == ["wf0", "wf1", "wf2"]
    assert sum(count for _, count in corpus.workflows) == len(corpus.payloads)
    whole = catalog.load(str(path))
    assert whole.sample is None
    assert len(whole.payloads) == 3003
    assert corpus.sample.population_digest == whole.digest
    # a corpus within the sample's size is measured whole
    assert catalog.load(str(path), Sampling(size=5000)).sample is None


def test_the_sizes_over_every_payload_come_from_the_same_pass_and_equal_a_full_one(
    tmp_path: Path,
) -> None:
    path = _file(tmp_path, _mixed(small=400, large=2))
    codecs = {spec: from_spec(spec) for spec in ("zstd:3", "snappy")}
    encoders = {spec: codec.encode_sync for spec, codec in codecs.items()}
    sampled = catalog.load(str(path), Sampling(size=50), encoders)
    whole = catalog.load(str(path))
    assert sampled.sample is not None
    assert sampled.whole is not None
    assert sampled.whole.payloads == len(whole.payloads) == 402
    assert sampled.whole.bytes == sum(len(serialize(p)) for p in whole.payloads)
    for spec, codec in codecs.items():
        expected = sum(p.ByteSize() for p in codec.encode_sync(list(whole.payloads)))
        assert sampled.whole.encoded[spec] == expected
