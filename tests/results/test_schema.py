"""The results file: summaries with known answers, schema round trip, and one-line errors."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bench import results
from bench.cli import main
from bench.results import CodecFacts, CorpusInfo, Environment, Layer
from bench.results.metrics import summarise
from bench.results.samples import InProcessSamples


def _samples() -> InProcessSamples:
    # Two payloads: 500 B (bucket <1KiB) and 4000 B (1-16KiB); three rounds, steady timings.
    return InProcessSamples(
        original_bytes=[500, 4000],
        encoded_bytes=[250, 1000],
        encode_repeats=[10, 1],
        decode_repeats=[1, 1],
        encode_ns=[[10_000, 4_000]] * 3,  # 1000 ns per call for the first payload
        decode_ns=[[500, 1_000]] * 3,
        encode_cpu_ns=[5_000] * 3,
        decode_cpu_ns=[1_500] * 3,
        peak_memory_bytes=1234,
    )


def _summary(samples: InProcessSamples) -> dict[str, dict[str, Any]]:
    return summarise(Layer.CODEC, dataclasses.asdict(samples))


def test_summary_metrics_have_known_values() -> None:
    summary = _summary(_samples())
    assert list(summary) == ["all", "<1KiB", "1-16KiB"]
    whole = summary["all"]
    assert whole["payloads"] == 2
    assert whole["ratio"] == 4500 / 1250
    assert whole["bytes_saved"] == 3250
    # 4500 bytes in 1000 + 4000 ns per round = 0.9 bytes/ns = 900 MB/s
    assert whole["encode_mbps"]["median"] == pytest.approx(900.0)
    assert whole["encode_mbps"]["low"] == whole["encode_mbps"]["high"] == pytest.approx(900.0)
    assert whole["decode_mbps"]["median"] == pytest.approx(3000.0)
    assert whole["encode_payloads_per_s"] == pytest.approx(2 / 5000e-9)
    assert whole["encode_latency_us"]["p50"] == pytest.approx(2.5)
    assert whole["encode_cpu_per_wall"] == pytest.approx(5000 / 14000)
    assert whole["peak_memory_bytes"] == 1234
    small = summary["<1KiB"]
    assert small["encode_mbps"]["median"] == pytest.approx(500.0)
    assert "peak_memory_bytes" not in small


def test_limit_counts_before_and_after() -> None:
    samples = _samples()
    samples.original_bytes = [600 * 1024, 3 << 20]
    samples.encoded_bytes = [100, 600 * 1024]
    whole = _summary(samples)["all"]
    assert (whole["over_warning_before"], whole["over_warning_after"]) == (2, 1)
    assert (whole["over_limit_before"], whole["over_limit_after"]) == (1, 0)
    assert whole["max_encoded_bytes"] == 600 * 1024


def _results() -> results.Results:
    return results.Results(
        run_id="r1",
        started="s",
        finished="f",
        interrupted=False,
        profile="quick",
        rounds_planned=3,
        rounds_completed=3,
        command=["codec-bench", "run"],
        environment=Environment(cpu_model="x"),
        corpora=[CorpusInfo("unit", "d1", 2, 4500)],
        cases=[
            results.case_result(
                _samples(),
                layer=Layer.CODEC,
                codec="fake",
                corpus="unit",
                library="-",
                facts=CodecFacts("fake", "custom"),
            )
        ],
        layers={"client": {"rows": []}},
    )


def test_schema_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    results.save(_results(), path)
    loaded = results.load(path)
    assert loaded == _results()
    assert json.loads(path.read_text())["schema_version"] == results.SCHEMA_VERSION
    assert loaded.cases[0].samples == _samples()


def test_csv_has_one_row_per_metric(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    results.save_csv(_results(), path)
    lines = path.read_text().splitlines()
    assert lines[0] == "run_id,layer,codec,corpus,variant,bucket,metric,value,ci_low,ci_high"
    assert "r1,codec,fake,unit,,all,encode_mbps,900.0,900.0,900.0" in lines
    assert "r1,codec,fake,unit,,<1KiB,encode_latency_us_p99,1.0,," in lines


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read results"),
        ("not json", "is not JSON"),
        ('{"schema": "other"}', "is not a codec-bench results file"),
        ('{"schema": "temporal-codec-bench/results", "schema_version": 99}', "schema version 99"),
        ('{"schema": "temporal-codec-bench/results", "schema_version": 2}', "damaged results"),
    ],
)
def test_bad_results_files_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    assert main(["report", str(path)]) == 2
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert line.startswith("codec-bench: error: ")
    assert message in line
    assert not (tmp_path / "report.html").exists()


DAMAGE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "samples replaced": (
        lambda case: case.update(samples={"bogus": [1, 2]}),
        "samples.bogus is not a field",
    ),
    "a field missing": (
        lambda case: case["samples"].pop("original_bytes"),
        "samples.original_bytes is missing",
    ),
    "a round cut short": (
        lambda case: case["samples"]["encode_ns"][0].pop(),
        "samples.encode_ns[0] has",
    ),
    "a round missing": (
        lambda case: case["samples"]["decode_ns"].pop(),
        "samples.decode_ns has",
    ),
    "text for a number": (
        lambda case: case["samples"]["encoded_bytes"].__setitem__(0, "12"),
        "samples.encoded_bytes is not list[int]",
    ),
    "facts of the wrong type": (
        lambda case: case["facts"].update(level="three"),
        "facts.level is not",
    ),
    "a summary that is not figures": (
        lambda case: case["summary"]["all"].update(ratio="high"),
        "summary['all']['ratio'] is not a figure",
    ),
    "no layer": (lambda case: case.pop("layer"), "field 'layer' is missing"),
}
"""Ways a real results file was found damaged, and what the one line says of each."""


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("command", ["report", "recommend", "compare", "export"])
def test_a_damaged_case_is_refused_by_every_reader_naming_the_case_and_field(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, damage: str
) -> None:
    """A real run's results with one case damaged: every reader refuses the file in one line
    that names the case and the field (a traceback, or a report and a verdict, before)."""
    path = tmp_path / "results.json"
    document = json.loads((run_folder / "results.json").read_text())
    index = next(i for i, c in enumerate(document["cases"]) if c["layer"] == "codec")
    damage_it, says = DAMAGE[damage]
    damage_it(document["cases"][index])
    path.write_text(json.dumps(document))
    argv = [command, str(path), *([str(path)] if command == "compare" else [])]
    if command == "export":
        argv += ["--out", str(tmp_path / "export.json")]
    assert main(argv) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("codec-bench: error: ")
    assert f"damaged results file: case {index}" in line
    assert says in line
    assert not (tmp_path / "report.html").exists()
    assert not (tmp_path / "export.json").exists()
