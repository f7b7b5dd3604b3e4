"""Synthetic corpora: deterministic for a seed, Temporal-shaped, made by the SDK's converter."""

from __future__ import annotations

import filecmp
import random
from collections import Counter
from pathlib import Path

import pytest
from bench.cli import main
from bench.corpus import synthetic
from bench.results.buckets import LIMIT_BYTES, bucket_of, parse_buckets
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsResponse
from temporalio.converter import DataConverter

from payload_codecs import CorpusReader


def test_the_same_seed_and_options_give_a_byte_identical_file(tmp_path: Path) -> None:
    args = ["corpus", "generate", "--count", "60", "--seed", "7"]
    assert main([*args, "--out", str(tmp_path / "a.corpus")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.corpus")]) == 0
    assert filecmp.cmp(tmp_path / "a.corpus", tmp_path / "b.corpus", shallow=False)


def test_another_seed_gives_other_payloads() -> None:
    first = list(synthetic.generate(seed=1, count=40))
    second = list(synthetic.generate(seed=2, count=40))
    assert [p.data for p in first] != [p.data for p in second]


def test_the_default_mix_has_every_shape_in_exact_proportion() -> None:
    payloads = list(synthetic.generate())
    assert len(payloads) == synthetic.DEFAULT_COUNT
    encodings = Counter(p.metadata["encoding"] for p in payloads)
    assert encodings[b"binary/protobuf"] == 45  # 15 % of 300
    assert encodings[b"binary/plain"] == 24  # 8 %
    assert encodings[b"json/plain"] == 231
    assert max(p.ByteSize() for p in payloads) <= LIMIT_BYTES
    buckets = {bucket_of(p.ByteSize()).name for p in payloads}
    assert {"<1KiB", "1-16KiB", "16-256KiB", "256KiB-1MiB"} <= buckets


def test_payloads_are_what_the_sdk_converter_reads_back() -> None:
    converter = DataConverter.default.payload_converter
    for payload in synthetic.generate(seed=3, count=30):
        [value] = converter.from_payloads([payload])
        assert value is not None
        if payload.metadata["encoding"] == b"binary/protobuf":
            assert payload.metadata["messageType"] == (
                b"temporal.api.workflowservice.v1.ListWorkflowExecutionsResponse"
            )


@pytest.mark.parametrize("shape", synthetic.SHAPES, ids=lambda s: s.name)
def test_each_shape_stays_near_its_size_range(shape: synthetic.Shape) -> None:
    payloads = list(synthetic.generate(seed=5, count=12, mix={shape.name: 1}))
    for payload in payloads:
        assert shape.low * 0.5 <= len(payload.data) <= shape.high * 1.1 + 1024


def test_buckets_restrict_the_sizes() -> None:
    buckets = parse_buckets("1-16KiB")
    payloads = list(synthetic.generate(seed=9, count=50, buckets=buckets))
    sizes = [len(p.data) for p in payloads]
    assert all(800 <= size <= 20 * 1024 for size in sizes), sizes
    with pytest.raises(ValueError, match="no payload shape"):
        list(synthetic.generate(count=5, mix={"small-json": 1}, buckets=parse_buckets(">2MiB")))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("huge-json=3", "unknown payload shape 'huge-json'"),
        ("small-json", "must be name=WHOLE_NUMBER"),
        ("small-json=0", "weight 0"),
    ],
)
def test_bad_mixes_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synthetic.parse_mix(text)


def test_generate_with_a_custom_mix_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "m.corpus"
    assert (
        main(
            [
                "corpus",
                "generate",
                "--count",
                "10",
                "--mix",
                "protobuf=1,random-bytes=1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with CorpusReader(out) as reader:
        encodings = Counter(p.metadata["encoding"] for p in reader)
        assert reader.provenance["mix"] == {"protobuf": 1, "random-bytes": 1}
    assert encodings == {b"binary/protobuf": 5, b"binary/plain": 5}


def test_a_large_protobuf_is_one_message_the_sdk_reads_back_at_its_size() -> None:
    payload = synthetic.large_protobuf(random.Random(3), 200 << 10)
    assert 200 << 10 <= len(payload.data) < (200 << 10) + (16 << 10)
    [page] = DataConverter.default.payload_converter.from_payloads(
        [payload], [ListWorkflowExecutionsResponse]
    )
    assert isinstance(page, ListWorkflowExecutionsResponse)
    assert len(page.executions) > 1000  # every 16 KiB page's executions, merged
