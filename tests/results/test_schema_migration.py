"""Results written by earlier versions still load: a trimmed copy of a real version 1 run
(the first reference run: the sizes corpus, codec, raw and client layers)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import results
from bench.outputs.report import write_report
from bench.results import ALL, Layer
from bench.results.metrics import summarise

V1 = Path(__file__).resolve().parents[1] / "data" / "results-v1.json"


def test_a_version_1_file_gets_facts_from_its_labels() -> None:
    run = results.load(V1)
    facts = {(c.layer, c.codec): c.facts for c in run.cases}
    a, b = facts[Layer.CODEC, "none (A)"], facts[Layer.CODEC, "none (B)"]
    assert (a.baseline, a.replica, a.spec) == (True, "A", "none")
    assert (b.baseline, b.replica) == (True, "B")
    chain = facts[Layer.CODEC, "zstd:3@zstandard+aes256gcm"]
    assert (chain.family, chain.level, chain.implementation) == ("zstd", 3, "zstandard")
    assert chain.encrypts
    assert chain.compresses
    assert not chain.baseline
    assert run.layers["client"]["status"] == "complete"
    assert run.baseline(Layer.CLIENT, "sizes") is not None


def test_an_earlier_file_is_summarised_again_from_its_raw_samples() -> None:
    """Version 3 changed the statistics: an old file gets today's figures from its samples,
    and the parts that never depended on them (sizes, ratios) are what it stored."""
    stored = {(c["layer"], c["codec"]): c for c in json.loads(V1.read_text())["cases"]}
    for case in results.load(V1).cases:
        old = stored[case.layer.value, case.codec]
        kept = vars(case.samples)  # fields newer than the file take their defaults
        assert {name: kept[name] for name in old["samples"]} == old["samples"]
        assert case.summary == summarise(case.layer, old["samples"])
        for name in ("payloads", "original_bytes", "encoded_bytes", "ratio"):
            assert case.summary[ALL].get(name) == old["summary"][ALL].get(name)
    zstd = results.load(V1).case(Layer.CODEC, "zstd:3@zstandard", "sizes")
    assert zstd is not None
    assert zstd.estimate(ALL, "encode_mbps") is not None


def test_a_migrated_file_renders_the_report_its_version_2_copy_renders(tmp_path: Path) -> None:
    run = results.load(V1)
    results.save(run, tmp_path / "v2" / "results.json")
    again = results.load(tmp_path / "v2" / "results.json")
    assert again == run
    first, _ = write_report(run, tmp_path / "from-v1")
    second, _ = write_report(again, tmp_path / "from-v2")
    assert first.read_text() == second.read_text()
    assert "## Corpus sizes" in first.read_text()
    assert "| none (A) |" in first.read_text()
