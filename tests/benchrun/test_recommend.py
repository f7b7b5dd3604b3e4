"""recommend: constraints, objectives, the cost model and the deploy snippet, on a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench import results
from bench.cli import main
from bench.outputs.recommend import Constraints, Costs, recommend, snippet


@pytest.fixture(scope="module")
def run(run_folder: Path) -> results.Results:
    return results.load(run_folder / "results.json")


def test_every_measured_codec_is_ranked_once_with_its_figures(run: results.Results) -> None:
    rec = recommend(run, objective="storage")
    codecs = [c.codec for c in rec.ranked]
    assert sorted(codecs) == ["lz4:1@cramjam+aes256gcm", "none", "zstd:3@zstandard"]
    ratios = [c.ratio for c in rec.ranked]
    assert ratios == sorted(ratios, reverse=True)
    assert rec.winner is not None
    assert rec.winner.codec == "zstd:3@zstandard"
    assert "zstd:3@zstandard wins on storage: ratio" in rec.reason


def test_must_encrypt_excludes_plain_codecs_with_the_reason(run: results.Results) -> None:
    rec = recommend(run, objective="storage", limits=Constraints(must_encrypt=True))
    assert [c.codec for c in rec.ranked] == ["lz4:1@cramjam+aes256gcm"]
    assert {c.codec: c.failed for c in rec.excluded}["zstd:3@zstandard"] == ["does not encrypt"]
    assert "Keyring.from_env()" in rec.snippet
    assert "PAYLOAD_CODEC_KEYS" in rec.snippet


def test_impossible_constraints_leave_no_winner(run: results.Results) -> None:
    rec = recommend(run, limits=Constraints(min_ratio=1000.0))
    assert rec.winner is None
    assert rec.snippet == ""
    assert "No measured codec meets every constraint" in rec.reason


def test_a_latency_limit_needs_client_rows(run: results.Results) -> None:
    rec = recommend(run, limits=Constraints(max_latency_ms=1000.0))
    assert rec.winner is None
    assert all("no client-path latency measured" in c.failed for c in rec.excluded)


def test_balanced_never_picks_a_codec_that_saves_nothing(run: results.Results) -> None:
    rec = recommend(run)
    assert rec.objective == "balanced"
    assert rec.winner is not None
    assert rec.winner.codec != "none"
    assert [c.codec for c in rec.ranked][-1] == "none"


def test_cost_model_prices_storage_and_cpu(run: results.Results) -> None:
    costs = Costs(volume_gb=1000, storage_per_gb=0.10, cpu_per_hour=0.05)
    rec = recommend(run, objective="cost", costs=costs)
    by_codec = {c.codec: c for c in rec.ranked}
    none = by_codec["none"]
    assert none.monthly_cost == pytest.approx(1000 * 0.10 + 1000 * none.cpu_s_per_gb / 3600 * 0.05)
    costs_in_order = [c.monthly_cost or 0.0 for c in rec.ranked]
    assert costs_in_order == sorted(costs_in_order)
    assert all(c.monthly_cost is not None for c in rec.ranked)
    with pytest.raises(ValueError, match="needs a price"):
        recommend(run, objective="cost")


def test_snippet_deploys_the_exact_spec() -> None:
    text = snippet("zstd:3@zstandard")
    assert 'SPEC = "zstd:3@zstandard"' in text
    assert "data_converter(SPEC, keyring=None)" in text
    namespace: dict[str, object] = {}
    exec(text.split("client = ")[0], namespace)  # the converter part runs as written
    assert namespace["converter"] is not None


def test_recommend_on_the_command_line(
    run_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results_file = str(run_folder / "results.json")
    assert main(["recommend", results_file, "--json", "--must-encrypt"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["winner"] == "lz4:1@cramjam+aes256gcm"
    assert set(document) >= {"ranked", "excluded", "pareto", "snippet", "reason"}
    assert main(["recommend", results_file, "--min-ratio", "1000"]) == 1
    assert main(["recommend", results_file, "--corpus", "nope"]) == 2
    assert "no corpus 'nope'" in capsys.readouterr().err
    assert main(["recommend", results_file, "--headroom", "10"]) == 0
    assert "## Deploy it" in capsys.readouterr().out
