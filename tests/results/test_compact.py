"""Past the results file's bound, in-process cases keep summaries of their payloads: the
largest first, every figure a reader compares or plots kept, each payload's time in a quantile
sketch, and every reader of results still reads them."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bench import results
from bench.cli import main
from bench.results import Layer
from bench.results.compact import compact, figures, quantile, within_bound
from bench.results.metrics import IN_PROCESS, METRICS, series_of
from bench.results.samples import CompactSamples, InProcessSamples

from tests.synthetic_runs import make_case


def _samples(payloads: int, seed: int, rounds: int = 5) -> InProcessSamples:
    """Payloads of sizes across the buckets, times roughly linear in size with lognormal noise."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([300, 3_000, 30_000, 300_000], payloads).tolist()
    base = np.asarray(sizes, dtype=float) * 2.0 * rng.lognormal(0.0, 0.5, payloads)
    rows = [[int(x) for x in base * rng.lognormal(0.0, 0.05, payloads)] for _ in range(rounds)]
    return InProcessSamples(
        original_bytes=sizes,
        encoded_bytes=[size // 2 for size in sizes],
        encode_repeats=[1] * payloads,
        decode_repeats=[2] * payloads,
        encode_ns=rows,
        decode_ns=[[2 * x // 3 for x in row] for row in rows],
        encode_cpu_ns=[1] * rounds,
        decode_cpu_ns=[1] * rounds,
        peak_memory_bytes=7,
    )


def test_the_largest_cases_are_compacted_first_until_the_run_is_within_its_bound() -> None:
    cases = [make_case(Layer.CODEC, f"zstd:{n}", _samples(n * 100, n)) for n in (1, 3, 2)]
    sizes = [figures(case.samples) for case in cases]
    assert sizes == [100 * 14, 300 * 14, 200 * 14]

    kept = within_bound(cases, bound=sizes[0] + sizes[2])

    assert [type(case.samples) for case in kept] == [
        InProcessSamples,
        CompactSamples,
        InProcessSamples,
    ]
    assert [case.codec for case in kept] == [case.codec for case in cases]
    assert kept[0] is cases[0]
    assert kept[2] is cases[2]
    assert within_bound(cases, bound=sum(sizes)) == cases
    assert all(isinstance(c.samples, CompactSamples) for c in within_bound(cases, bound=0))


def test_a_compacted_case_keeps_its_summary_and_every_series_readers_compare_on() -> None:
    case = make_case(Layer.CODEC, "zstd:3", _samples(2_000, 1))
    kept = compact(case)

    assert kept.summary == case.summary
    compared = [m.name for m in METRICS if m.series is not None and m.layers & IN_PROCESS]
    assert {"encode_mbps", "decode_us_per_payload"} <= set(compared)
    for bucket in case.buckets:
        for name in compared:
            assert series_of(kept, bucket, name) == series_of(case, bucket, name)
            assert len(series_of(kept, bucket, name)) == 5
    assert isinstance(kept.samples, CompactSamples)
    assert kept.samples.payloads == 2_000
    assert kept.samples.buckets["all"]["payloads"] == 2_000


@pytest.mark.parametrize(("side", "q"), [("encode", 0.5), ("encode", 0.99), ("decode", 0.9)])
def test_the_sketch_reads_each_payloads_median_time_within_one_percent(side: str, q: float) -> None:
    samples = _samples(5_000, 2)
    kept = compact(make_case(Layer.CODEC, "zstd:3", samples)).samples
    assert isinstance(kept, CompactSamples)
    times = np.asarray(getattr(samples, f"{side}_ns"), dtype=float)
    repeats = np.asarray(getattr(samples, f"{side}_repeats"), dtype=float)
    medians = np.sort(np.median(times / repeats, axis=0) / 1e3)
    # DDSketch's quantile is the value at rank floor(q * (n - 1)), within its relative accuracy.
    expected = medians[int(q * (len(medians) - 1))]

    found = quantile(kept, "all", side, q)

    assert found == pytest.approx(expected, rel=0.0101)
    bucket = next(b for b in kept.buckets if b != "all")
    assert quantile(kept, bucket, side, q) is not None
    assert quantile(kept, "no such bucket", side, q) is None


def test_a_compacted_case_does_not_grow_with_its_payloads() -> None:
    def stored(payloads: int) -> int:
        kept = compact(make_case(Layer.CODEC, "zstd:3", _samples(payloads, 3)))
        return len(json.dumps(dataclasses.asdict(kept.samples)))

    small, large = stored(1_000), stored(40_000)
    assert large < 1.5 * small  # 40 times the payloads: a wider spread of times, no more
    whole = make_case(Layer.CODEC, "zstd:3", _samples(40_000, 3))
    assert large < len(json.dumps(dataclasses.asdict(whole.samples))) / 50


def _compacted_run(run_folder: Path, tmp_path: Path) -> Path:
    """A real run's results with every in-process case compacted, saved as schema 6 writes."""
    run = results.load(run_folder / "results.json")
    run = dataclasses.replace(run, cases=within_bound(run.cases, bound=0))
    folder = tmp_path / "compacted"
    results.save(run, folder / "results.json")
    return folder


def test_every_reader_reads_compacted_results_as_it_reads_the_whole_ones(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _compacted_run(run_folder, tmp_path)
    loaded = results.load(folder / "results.json")
    original = results.load(run_folder / "results.json")
    assert loaded.cases == within_bound(original.cases, bound=0)
    compacted = [isinstance(c.samples, CompactSamples) for c in loaded.cases]
    assert compacted == [c.layer in (Layer.RAW, Layer.CODEC) for c in loaded.cases]
    whole, kept = str(run_folder / "results.json"), str(folder / "results.json")

    def said(*argv: str) -> str:
        assert main(list(argv)) == 0
        return capsys.readouterr().out.replace(kept, whole).replace(str(folder), str(run_folder))

    assert said("compare", whole, kept) == said("compare", whole, whole)
    assert said("recommend", kept) == said("recommend", whole)
    for name, path in (("whole", whole), ("kept", kept)):
        assert main(["export", path, "--out", str(tmp_path / f"{name}.json")]) == 0
    exported = [json.loads((tmp_path / f"{n}.json").read_text()) for n in ("whole", "kept")]
    assert exported[0]["benchmarks"] == exported[1]["benchmarks"] != []
    assert main(["report", kept]) == 0
    html = (folder / "report.html").read_text()
    assert "kept as summaries" in html
    assert "p99.9" in html
    for name, path in (("whole", whole), ("kept", kept)):
        assert main(["history", "add", path, "--db", str(tmp_path / f"{name}.sqlite")]) == 0
    points = [
        sqlite3.connect(tmp_path / f"{n}.sqlite").execute("select * from points order by 1, 2, 3")
        for n in ("whole", "kept")
    ]
    assert points[0].fetchall() == points[1].fetchall()


DAMAGE: dict[str, tuple[Any, str]] = {
    "sketch": (
        lambda s: s["buckets"]["all"]["sketches"].update(encode={"mapping": "x"}),
        "samples.buckets['all'].sketches['encode'] is not a DDSketch",
    ),
    "series": (
        lambda s: s["buckets"]["all"]["series"].update(encode_mbps=[1.0] * 9),
        "samples.buckets['all'].series['encode_mbps'] is not a figure per round",
    ),
    "payloads": (
        lambda s: s["buckets"]["all"].pop("payloads"),
        "samples.buckets['all'] has no count of payloads",
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_summary_is_refused_naming_the_field(
    run_folder: Path, tmp_path: Path, damage: str
) -> None:
    folder = _compacted_run(run_folder, tmp_path)
    document = json.loads((folder / "results.json").read_text())
    damage_it, says = DAMAGE[damage]
    damage_it(document["cases"][0]["samples"])
    (folder / "results.json").write_text(json.dumps(document))

    with pytest.raises(results.ResultsError, match="damaged results file: case 0") as error:
        results.load(folder / "results.json")
    assert says in str(error.value)
