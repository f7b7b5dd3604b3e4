"""The report's verdict: the round-trip column says "tied" exactly where its interval holds no
change."""

from __future__ import annotations

import dataclasses

import pytest
from bench import results
from bench.outputs.verdict import round_trip_change
from bench.results import CodecFacts, Layer

from tests.outputs.test_recommend import RUN, _client


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
