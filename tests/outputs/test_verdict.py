"""The report's verdict: the round-trip column says "tied" exactly where its interval holds no
change."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from bench import results
from bench.outputs.recommend import corpus_weight
from bench.outputs.verdict import answer_text, round_trip_change, the_answer, verdict_blocks
from bench.results import CodecFacts, CorpusInfo, Layer, load
from bench.results.samples import ClientSamples

from tests.outputs.test_recommend import RUN, _client

REFERENCE = Path(__file__).resolve().parents[2] / "results" / "reference" / "results.json"


@pytest.mark.parametrize(("ms", "tied"), [(100.5, True), (130.0, False), (75.0, False)])
def test_the_round_trip_change_is_tied_only_where_its_interval_holds_no_change(
    ms: float, tied: bool
) -> None:
    """Five rounds a side at 1 % noise against a baseline of 100 ms: 0.5 % is no change, 30 %
    slower and 25 % faster are changes."""
    cases = [c for c in RUN.cases if c.layer is not Layer.CLIENT or c.codec.startswith("none")]
    cases.append(
        results.case_result(
            _client(ms, 7),
            layer=Layer.CLIENT,
            codec="gzip:6@zlib",
            corpus="unit",
            library="-",
            facts=CodecFacts.of_spec("gzip:6@zlib"),
        )
    )
    said = round_trip_change(dataclasses.replace(RUN, cases=cases), "gzip:6@zlib", "unit")
    assert said.endswith(" tied") == tied, said
    if not tied:
        assert said[0] == ("+" if ms > 100 else "-"), said


def test_the_report_opens_with_recommends_answer_and_its_weights(run_folder: Path) -> None:
    run = load(run_folder / "results.json")
    rec = the_answer(run)
    assert rec is not None
    assert rec.winner is not None
    headline = next(b for b in verdict_blocks(run) if isinstance(b, str))
    assert headline.startswith(f"**Deploy `{rec.winner.deployed}`.**")
    assert "weighted small 2" in headline  # the user's own generated corpus: 1 x 2
    assert answer_text(run).startswith(f"deploy {rec.winner.deployed}: ")


@pytest.mark.parametrize(
    ("rounds", "paired", "says"),
    [
        (2, True, "not tested (4 pairs; 6 are needed)"),
        (5, False, "not tested (no workflows measured side by side"),
    ],
)
def test_a_round_trip_that_cannot_be_tested_is_not_a_number(
    rounds: int, paired: bool, says: str
) -> None:
    """Too few pairs, or workflows not measured side by side (results before schema 6): the
    cell says so and shows no percentage (the baseline measured twice differed by 42 % in a
    run of three rounds a side)."""

    def cut(case: results.CaseResult) -> results.CaseResult:
        if not isinstance(case.samples, ClientSamples):
            return case
        samples = dataclasses.replace(case.samples, paired=paired)
        samples.keep_rounds(rounds)
        return dataclasses.replace(case, samples=samples)

    run = dataclasses.replace(RUN, cases=[cut(c) for c in RUN.cases])
    cell = round_trip_change(run, "zstd:3@zstandard (A)", "unit")
    assert cell.startswith(says), cell
    assert "%" not in cell


@pytest.mark.parametrize(
    ("kind", "builtin", "weight"),
    [
        ("synthetic", True, 1.0),
        ("import", True, 2.0),
        ("record", False, 4.0),
        ("synthetic", False, 2.0),
    ],
)
def test_recorded_corpora_and_the_users_own_weigh_more(
    kind: str, builtin: bool, weight: float
) -> None:
    corpus = CorpusInfo("c", "d", 1, 1, {"kind": kind, "builtin": builtin})
    assert corpus_weight(corpus) == weight
