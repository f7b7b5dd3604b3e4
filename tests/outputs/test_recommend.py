"""recommend: each objective on constructed results whose right answer follows from how they
were built, ties within the noise floor, constraints that scale with size, the cost model, and
the command line on a real run."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from bench import results
from bench.cli import main
from bench.outputs.recommend import (
    MIN_NOISE,
    NOTHING_GAINED,
    Constraints,
    Costs,
    default_corpora,
    noise_floor,
    recommend,
)
from bench.outputs.recommend_report import deploy_snippet, snippet, to_json
from bench.results import ALL, CodecFacts, CorpusInfo, Environment, Layer
from bench.results.metrics import series_of
from bench.results.samples import ClientSamples, InProcessSamples, ReadingSamples

SIZES = [500, 2_000, 40_000]
ROUNDS = 11


def _codec(saved: float, us_per_kib: float, seed: int, noise: float = 0.005) -> InProcessSamples:
    """Payloads that shrink by ``saved`` and cost ``us_per_kib`` of encode plus decode time
    per KiB (half each), CPU time equal to wall time."""
    rng = np.random.default_rng(seed)
    per_call = [size / 1024 * us_per_kib / 2 * 1e3 for size in SIZES]
    rows = [[int(x * rng.normal(1, noise)) for x in per_call] for _ in range(ROUNDS)]
    return InProcessSamples(
        original_bytes=SIZES,
        encoded_bytes=[int(size * (1 - saved)) for size in SIZES],
        encode_repeats=[1, 1, 1],
        decode_repeats=[1, 1, 1],
        encode_ns=rows,
        decode_ns=rows,
        encode_cpu_ns=[sum(row) for row in rows],
        decode_cpu_ns=[sum(row) for row in rows],
        peak_memory_bytes=1,
    )


def _client(ms: float, seed: int) -> ClientSamples:
    rng = np.random.default_rng(seed)
    return ClientSamples(
        original_bytes=[1_000, 70_000],
        latency_ns=[[int(ms * 1e6 * rng.normal(1, 0.01)) for _ in range(2)] for _ in range(5)],
        history_bytes=[[1_000, 2_000]] * 5,
        client_codec_ns=[[1, 1]] * 5,
        worker_codec_ns=[[1, 1]] * 5,
        worker_stall_ns=[[1, 1]] * 5,
        throughput_wps=[10.0] * 5,
        paired=True,
    )


CODECS = {
    # label: (bytes saved, CPU µs per KiB)
    "none": (0.0, 0.05),
    "snappy@cramjam": (0.30, 2.0),
    "zstd:3@zstandard (A)": (0.50, 4.0),
    "zstd:3@zstandard (B)": (0.50, 4.1),  # the noise-floor pair: 2.5 % apart
    "gzip:6@zlib": (0.55, 40.0),
    "lz4:1@cramjam": (0.29, 1.99),  # within the noise of snappy on CPU, saves less
    "zstd:3@zstandard+aes256gcm": (0.48, 5.0),
    "aes256gcm": (-0.05, 1.0),
}
ROUND_TRIP_MS = {
    "none (A)": 100.0,
    "none (B)": 101.0,
    "snappy@cramjam": 90.0,
    "zstd:3@zstandard (A)": 80.0,
}


def _facts(label: str) -> CodecFacts:
    spec, _, replica = label.partition(" (")
    return CodecFacts.of_spec(spec, replica.rstrip(")") or None)


def _results(
    corpus: str = "unit", codecs: dict[str, tuple[float, float]] = CODECS
) -> results.Results:
    cases = [
        results.case_result(
            _codec(saved, cpu, seed),
            layer=Layer.CODEC,
            codec=label,
            corpus=corpus,
            library="-",
            facts=_facts(label),
        )
        for seed, (label, (saved, cpu)) in enumerate(codecs.items())
    ]
    cases += [
        results.case_result(
            _client(ms, 100 + seed),
            layer=Layer.CLIENT,
            codec=label,
            corpus=corpus,
            library="-",
            facts=_facts(label),
        )
        for seed, (label, ms) in enumerate(ROUND_TRIP_MS.items())
    ]
    return results.Results(
        run_id="fixture",
        started="s",
        finished="f",
        interrupted=False,
        profile="quick",
        rounds_planned=ROUNDS,
        rounds_completed=ROUNDS,
        command=[],
        environment=Environment(),
        corpora=[CorpusInfo(corpus, "d", 3, sum(SIZES), {"builtin": True})],
        cases=cases,
        layers={"client": {"status": "complete", "rounds": 5}},
    )


RUN = _results()


def test_storage_picks_the_most_bytes_saved() -> None:
    rec = recommend(RUN, objective="storage")
    assert rec.winner is not None
    assert rec.winner.codec == "gzip:6@zlib"
    assert rec.winner.saved == pytest.approx(0.55, abs=0.001)
    assert "gzip:6@zlib wins on storage: saves 55.0% of the bytes stored" in rec.reason


def test_cpu_with_a_minimum_saving_calls_a_tie_within_the_noise_and_breaks_it() -> None:
    """snappy (2.0 µs/KiB) and lz4 (1.99) are 0.5 % apart, within the pair's 2.5 %: tied, and
    the tie goes to more bytes saved."""
    rec = recommend(RUN, objective="cpu", limits=Constraints(min_saved=0.10))
    assert rec.winner is not None
    assert rec.winner.codec == "snappy@cramjam"
    assert rec.tied == ["lz4:1@cramjam"]
    assert rec.tie_break == "more bytes saved"
    assert "tied within this machine's noise" in rec.reason
    assert {c.codec for c in rec.excluded} >= {"none", "aes256gcm"}  # save under 10 %


def test_balanced_is_bytes_saved_per_cpu() -> None:
    scores = {label: saved / cpu for label, (saved, cpu) in CODECS.items() if saved > 0}
    expected = max(scores, key=lambda k: scores[k])
    rec = recommend(RUN, objective="balanced")
    assert rec.winner is not None
    assert rec.winner.codec == expected.replace(" (A)", "") == "snappy@cramjam"


def test_latency_ranks_only_codecs_with_round_trips_and_names_the_rest() -> None:
    rec = recommend(RUN, objective="latency")
    assert rec.winner is not None
    assert rec.winner.codec == "zstd:3@zstandard"  # 80 ms against none's 100
    assert rec.winner.latency_vs_baseline == pytest.approx(0.80, rel=0.02)
    assert {c.codec for c in rec.ranked} == {"snappy@cramjam", "zstd:3@zstandard"}
    [note] = rec.missing
    assert "gzip:6@zlib" in note
    assert "--codec gzip:6@zlib" in note


def test_must_encrypt_keeps_only_encrypting_codecs() -> None:
    rec = recommend(RUN, objective="balanced", limits=Constraints(must_encrypt=True))
    assert [c.codec for c in rec.ranked] == ["zstd:3@zstandard+aes256gcm", "aes256gcm"]
    assert {c.codec: c.failed for c in rec.excluded}["zstd:3@zstandard"] == ["does not encrypt"]
    assert "Keyring.from_env()" in deploy_snippet(rec)


def test_cost_has_a_currency_a_breakdown_and_its_assumptions() -> None:
    storage_bound = Costs(volume_gb=1000, storage_per_gb_month=1.0, currency="EUR", copies=2)
    rec = recommend(RUN, objective="cost", costs=storage_bound)
    assert rec.winner is not None
    assert rec.winner.codec == "gzip:6@zlib"  # storage dominates: the most bytes saved
    cost = rec.winner.cost
    assert cost is not None
    # 1000 GB x (1 - 0.55) x 2 copies, kept 30 days, at 1 EUR per GB-month
    assert cost.storage == pytest.approx(1000 * 0.45 * 2, rel=0.01)
    assert rec.costs is not None
    assert "EUR 1 per GB-month stored" in rec.costs.assumptions()
    cpu_bound = Costs(volume_gb=1000, cpu_per_hour=100.0)
    assert recommend(RUN, objective="cost", costs=cpu_bound).winner.codec in ("none", "aes256gcm")  # type: ignore[union-attr]


def test_constraints_that_scale_with_size() -> None:
    rec = recommend(RUN, objective="storage", limits=Constraints(max_encode_us_per_kib=10.0))
    assert rec.winner is not None
    assert rec.winner.codec == "zstd:3@zstandard"  # gzip needs 20 µs/KiB to encode
    [failure] = {c.codec: c.failed for c in rec.excluded}["gzip:6@zlib"]
    assert failure.startswith("encode p99 20.")


def test_the_identity_is_the_baseline_not_a_point_of_the_front() -> None:
    rec = recommend(RUN, objective="storage")
    front = {c.codec for c in rec.ranked + rec.excluded if c.pareto}
    assert "none" not in front
    assert "aes256gcm" not in front  # it adds bytes
    assert {"gzip:6@zlib", "zstd:3@zstandard", "snappy@cramjam", "lz4:1@cramjam"} <= front


def test_unknown_corpus_and_objective_cost_without_prices_are_errors() -> None:
    with pytest.raises(ValueError, match="no corpus 'nope'"):
        recommend(RUN, corpora={"nope": 1.0})
    with pytest.raises(ValueError, match="needs a price"):
        recommend(RUN, objective="cost")


def test_snippet_deploys_the_exact_spec_and_imports_what_it_uses() -> None:
    text = snippet("zstd:3@zstandard", encrypts=False)
    assert 'SPEC = "zstd:3@zstandard"' in text
    assert "from temporalio.client import Client" in text
    assert "from_spec" not in text
    namespace: dict[str, object] = {}
    exec(text.split("client = ")[0], namespace)  # the converter part runs as written
    assert namespace["converter"] is not None


def test_recommend_on_the_command_line(
    run_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results_file = str(run_folder / "results.json")
    assert main(["recommend", results_file, "--json", "--must-encrypt"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["winner"] == "lz4:1@lz4+aes256gcm"
    assert set(document) >= {"ranked", "excluded", "pareto", "snippet", "reason", "tied", "corpora"}
    assert main(["recommend", results_file, "--min-ratio", "1000"]) == 1
    assert main(["recommend", results_file, "--corpus", "nope"]) == 2
    assert "no corpus 'nope'" in capsys.readouterr().err
    assert main(["recommend", results_file, "--corpus", "small=2", "--headroom", "10"]) == 0
    assert "## Deploy it" in capsys.readouterr().out


def test_every_corpus_counts_by_default_the_users_own_first_and_weights_choose() -> None:
    """A built-in corpus and the user's own, on which gzip saves only 20 %: the user's corpus
    is listed first, and the weights decide between gzip (built-in alone) and zstd."""
    builtin = _results("unit")
    own = _results("mine", {**CODECS, "gzip:6@zlib": (0.20, 40.0)})
    run = dataclasses.replace(
        builtin,
        cases=builtin.cases + own.cases,
        corpora=[*builtin.corpora, CorpusInfo("mine", "recorded", 3, sum(SIZES), {})],
    )
    assert list(default_corpora(run)) == ["mine", "unit"]
    winners = {
        name: recommend(run, objective="storage", corpora=weights).winner
        for name, weights in {
            "default": None,
            "built-in alone": {"unit": 1.0},
            "own alone": {"mine": 1.0},
            "own weighs 3": {"mine": 3.0, "unit": 1.0},
        }.items()
    }
    assert {name: w.codec if w else None for name, w in winners.items()} == {
        "default": "zstd:3@zstandard",
        "built-in alone": "gzip:6@zlib",
        "own alone": "zstd:3@zstandard",
        "own weighs 3": "zstd:3@zstandard",
    }


def _with_readings(readings: dict[str, tuple[float, float]], size: int = 100) -> results.Results:
    """RUN plus reading-layer cases: label -> (CLI show p50 ms, Web UI page p50 ms)."""
    cases = [
        results.case_result(
            ReadingSamples(
                original_bytes=[200] * size,
                history_bytes=size * 300,
                show_ns=[int(show * 1e6)] * 5,
                show_requests=[size - 1] * 5,
                show_codec_bytes=[size * 200] * 5,
                ui_ns=[int(ui * 1e6)] * 5,
                ui_requests=[3] * 5,
            ),
            layer=Layer.READING,
            codec=label,
            corpus="histories",
            library="-",
            facts=_facts(label),
            variant=f"{size} payloads",
        )
        for label, (show, ui) in readings.items()
    ]
    return dataclasses.replace(RUN, cases=[*RUN.cases, *cases])


def test_max_show_ms_keeps_codecs_whose_history_reads_fast_enough() -> None:
    run = _with_readings(
        {"none": (120, 1500), "zstd:3@zstandard": (180, 1510), "gzip:6@zlib": (400, 1520)}
    )
    rec = recommend(run, objective="storage", limits=Constraints(max_show_ms=200))
    assert rec.winner is not None
    assert rec.winner.codec == "zstd:3@zstandard"
    why = {c.codec: c.failed for c in rec.excluded}
    assert why["gzip:6@zlib"] == ["workflow show 400 ms (100 payloads) > 200"]
    assert why["snappy@cramjam"] == ["no workflow show measured (reading layer)"]
    ui = recommend(run, objective="storage", limits=Constraints(max_ui_ms=1515))
    assert ui.winner is not None
    assert ui.winner.codec == "zstd:3@zstandard"


def test_recommend_takes_the_reading_limits_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.json"
    results.save(_with_readings({"none": (120, 1500), "gzip:6@zlib": (400, 1520)}), path)
    # Only no codec reads fast enough: nothing is recommended, and no deploy block for it.
    assert main(["recommend", str(path), "--objective", "storage", "--max-show-ms", "200"]) == 1
    out = capsys.readouterr().out
    assert "workflow show 400 ms (100 payloads) > 200" in out
    assert "--spec none" not in out


def _routed(ms: float, seed: int, threshold: int | None, failed: bool) -> ClientSamples:
    """A client case on a storage route whose large payload (70 KB) failed every round, or
    not."""
    samples = _client(ms, seed)
    samples.storage_threshold = threshold
    if failed:
        samples.latency_ns = [[row[0], -1] for row in samples.latency_ns]
        samples.errors = len(samples.latency_ns)
        samples.first_error = "RPCError: Blob data size exceeds limit."
    return samples


def _with_routes(inline_fails: set[str]) -> results.Results:
    """RUN with every client codec also on an offloading route from 64 KiB (where all pass);
    inline, the codecs in ``inline_fails`` failed their large payload."""
    run = _results()
    cases = [c for c in run.cases if c.layer is not Layer.CLIENT]
    for seed, (label, ms) in enumerate(ROUND_TRIP_MS.items()):
        for threshold, variant in ((None, ""), (65_536, "s3 from 64 KiB")):
            failed = threshold is None and label.split(" (")[0] in inline_fails
            cases.append(
                results.case_result(
                    _routed(ms * (1.2 if threshold else 1), 100 + seed, threshold, failed),
                    layer=Layer.CLIENT,
                    codec=label,
                    corpus="unit",
                    library="-",
                    facts=_facts(label),
                    variant=variant,
                )
            )
    return dataclasses.replace(run, cases=cases)


def test_a_codec_whose_workflows_failed_is_never_recommended_without_external_storage() -> None:
    run = _with_routes(inline_fails={"zstd:3@zstandard"})
    rec = recommend(run, objective="storage")
    assert rec.winner is not None
    assert rec.winner.codec == "gzip:6@zlib"  # no round trip measured: nothing failed
    [excluded] = [c for c in rec.excluded if c.codec.startswith("zstd:3@zstandard")]
    assert "Blob data size exceeds limit" in "; ".join(excluded.failed)
    assert excluded.threshold is None


def test_external_storage_allowed_recommends_the_codec_with_its_threshold() -> None:
    run = _with_routes(inline_fails={"zstd:3@zstandard", "gzip:6@zlib"})
    rec = recommend(run, objective="latency", allow_external_storage=True)
    assert rec.winner is not None
    zstd = next(c for c in rec.ranked if c.codec.startswith("zstd:3@zstandard"))
    assert zstd.threshold == 65_536
    assert zstd.deployed.endswith("+ external storage from 64 KiB")
    # Compared with the baseline on the same route: 80 / 100 ms either way.
    assert zstd.latency_vs_baseline == pytest.approx(0.8, rel=0.05)
    snappy = next(c for c in rec.ranked if c.codec == "snappy@cramjam")
    assert snappy.threshold is None  # it passed inline, so it stays inline
    assert to_json(rec)["storage_threshold"] == rec.winner.threshold
    text = snippet("zstd:3@zstandard", encrypts=False, threshold=65_536)
    assert "payload_size_threshold=65536" in text
    body = "\n".join(f"    {line}" for line in text.splitlines())
    compile(f"async def deploy():\n{body}\n", "snippet", "exec")  # valid Python as printed


def test_recommend_allows_external_storage_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.json"
    results.save(_with_routes(inline_fails={"zstd:3@zstandard"}), path)
    argv = ["recommend", str(path), "--objective", "latency", "--json"]
    assert main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert all(not c["codec"].startswith("zstd:3@zstandard") for c in plain["ranked"])
    assert main([*argv, "--allow-external-storage"]) == 0
    allowed = json.loads(capsys.readouterr().out)
    assert plain["winner"] != allowed["winner"] or allowed["storage_threshold"] is not None
    [zstd] = [c for c in allowed["ranked"] if c["codec"].startswith("zstd:3@zstandard")]
    assert zstd["threshold"] == 65_536


def _shrinking(saved_by_size: dict[int, float], us_per_kib: float) -> InProcessSamples:
    samples = _codec(0.0, us_per_kib, seed=7)
    samples.encoded_bytes = [int(size * (1 - saved_by_size[size])) for size in SIZES]
    return samples


def test_break_even_is_the_edge_from_which_compressing_pays_in_every_bucket() -> None:
    from bench.outputs.recommend import break_even

    def case(saved: dict[int, float], us_per_kib: float = 4.0) -> results.CaseResult:
        return results.case_result(
            _shrinking(saved, us_per_kib),
            layer=Layer.CODEC,
            codec="zstd:3@zstandard",
            corpus="unit",
            library="-",
            facts=_facts("zstd:3@zstandard"),
        )

    # Saves nothing under 1 KiB (500 B payloads), half from 1 KiB up: compress from 1 KiB.
    small_loses = case({500: 0.0, 2_000: 0.5, 40_000: 0.5})
    assert break_even({"unit": small_loses}, Costs()) == 1024
    # Pays in the smallest bucket measured: nothing says not to compress everything.
    assert break_even({"unit": case({500: 0.3, 2_000: 0.5, 40_000: 0.5})}, Costs()) == 0
    assert break_even({"unit": case({500: 0.0, 2_000: 0.0, 40_000: 0.0})}, Costs()) is None
    # With prices, CPU that costs more than the bytes it saves does not pay anywhere.
    dear_cpu = Costs(storage_per_gb_month=0.01, cpu_per_hour=1000.0)
    assert break_even({"unit": small_loses}, dear_cpu) is None


def test_the_recommended_snippet_compresses_from_the_break_even(tmp_path: Path) -> None:
    run = _results(codecs={"none": (0.0, 0.05), "zstd:3@zstandard (A)": (0.5, 4.0)})
    shrinking = _shrinking({500: 0.0, 2_000: 0.5, 40_000: 0.5}, 4.0)
    cases = [
        results.case_result(
            shrinking, layer=Layer.CODEC, codec=c.codec, corpus="unit", library="-", facts=c.facts
        )
        if c.codec.startswith("zstd") and c.layer is Layer.CODEC
        else c
        for c in run.cases
    ]
    rec = recommend(dataclasses.replace(run, cases=cases), objective="storage")
    assert rec.winner is not None
    assert rec.winner.min_size == 1024
    assert "options=CodecOptions(min_size=1024)" in deploy_snippet(rec)
    assert to_json(rec)["min_size"] == 1024
    assert "compress from 1 KiB up" in rec.reason


def test_the_cpu_cost_is_the_time_per_kib_times_the_kib_of_a_month_at_the_hourly_price() -> None:
    """gzip spends 40 µs per KiB: 1000 GB a month is 1000 x 2^20 KiB, 41,943 s, 11.65 CPU
    hours, 1,165.1 at 100 an hour (worked by hand)."""
    rec = recommend(RUN, objective="cost", costs=Costs(volume_gb=1000, cpu_per_hour=100.0))
    [gzip] = [c for c in rec.ranked if c.codec == "gzip:6@zlib"]
    assert gzip.cost is not None
    assert gzip.cost.cpu == pytest.approx(1000 * 2**20 * 40e-6 / 3600 * 100, rel=0.02)


def _noisy(noise: float, codecs: dict[str, tuple[float, float]] = CODECS) -> results.Results:
    run = _results(codecs=codecs)
    cases = [
        dataclasses.replace(
            case,
            samples=(samples := _codec(*codecs[case.codec], 50 + i, noise=noise)),
            summary=results.case_result(
                samples,
                layer=case.layer,
                codec=case.codec,
                corpus=case.corpus,
                library="-",
                facts=case.facts,
            ).summary,
        )
        if case.layer is Layer.CODEC
        else case
        for i, case in enumerate(run.cases)
    ]
    return dataclasses.replace(run, cases=cases)


def test_the_noise_floor_comes_from_every_codecs_rounds_not_one_pair() -> None:
    """The floor grows with the rounds' spread, is never below 2 %, and a noise-floor pair that
    happened to land 22 % apart (as one did in six identical runs) does not move it."""
    quiet, loud = noise_floor(_noisy(0.002), Layer.CODEC), noise_floor(_noisy(0.08), Layer.CODEC)
    assert quiet == MIN_NOISE
    assert loud > 0.05
    apart = {**CODECS, "zstd:3@zstandard (B)": (0.50, 4.0 * 1.22)}
    assert noise_floor(_noisy(0.08, apart), Layer.CODEC) == pytest.approx(loud, rel=0.1)
    rec = recommend(_noisy(0.08, apart), objective="cpu", limits=Constraints(min_saved=0.40))
    assert rec.winner is not None
    assert rec.winner.codec == "zstd:3@zstandard"
    assert rec.tied == []  # 4.0 against zstd+aes 5.0: 25 % apart, beyond the floor


def test_cost_ties_follow_the_cpu_noise_in_proportion_to_the_cpu_share() -> None:
    """Costs almost all CPU tie within the CPU noise floor; costs almost all storage tie within
    the 1 % of exact sizes, whatever the CPU noise."""
    rival = {**CODECS, "lz4:1@cramjam": (0.30, 2.0 * 1.04)}  # as snappy, 4 % more CPU
    cpu_bound = Costs(volume_gb=1000, cpu_per_hour=100.0)
    noisy = recommend(
        _noisy(0.15, rival), objective="cost", costs=cpu_bound, limits=Constraints(min_saved=0.2)
    )
    quiet = recommend(
        _noisy(0.002, rival), objective="cost", costs=cpu_bound, limits=Constraints(min_saved=0.2)
    )
    assert noisy.winner is not None
    assert quiet.winner is not None
    assert "lz4:1@cramjam" in noisy.tied
    assert "lz4:1@cramjam" not in quiet.tied
    storage_bound = Costs(volume_gb=1000, storage_per_gb_month=1.0, cpu_per_hour=1e-6)
    both = recommend(
        _noisy(0.15, rival),
        objective="cost",
        costs=storage_bound,
        limits=Constraints(min_saved=0.2),
    )
    assert both.winner is not None
    assert both.winner.codec == "gzip:6@zlib"
    assert both.tied == []  # zstd saves 50 %, gzip 55 %: 11 % apart in storage


def test_the_noise_floor_is_196_standard_errors_of_a_difference_of_medians_pooled() -> None:
    """From every codec-layer case's rounds: the log variances pooled by their mean (one noisy
    codec counts as one of eight, not as the floor), a median's standard error sqrt(pi / 2)
    times a mean's, over the run's rounds."""
    noisy = {**CODECS, "gzip:6@zlib": (0.55, 40.0)}
    run = _noisy(0.01, noisy)
    loud = _codec(0.55, 40.0, 3, noise=0.3)
    cases = [
        dataclasses.replace(c, samples=loud) if c.codec == "gzip:6@zlib" else c for c in run.cases
    ]
    run = dataclasses.replace(run, cases=cases)
    variances = [
        np.var(np.log(series_of(c, ALL, metric)), ddof=1)
        for c in run.cases
        if c.layer is Layer.CODEC
        for metric in ("encode_geomean_us", "decode_geomean_us")
    ]
    error = math.sqrt(math.pi / 2) * math.sqrt(np.mean(variances) * 2 / ROUNDS)
    assert noise_floor(run, Layer.CODEC) == pytest.approx(math.exp(1.96 * error) - 1, rel=0.01)


@pytest.mark.parametrize(
    ("zlib_saves", "cpu", "winner"),
    [(0.553, 40.4, "zlib:6@zlib"), (0.55, 39.0, "zlib:6@zlib"), (0.55, 40.0, "gzip:6@zlib")],
)
def test_a_tie_whose_tie_break_is_within_the_noise_too_is_decided_by_score_then_name(
    zlib_saves: float, cpu: float, winner: str
) -> None:
    """gzip:6 and zlib:6 store within 1 % of each other and spend the same CPU (one library):
    less CPU cannot decide within 2 %, so more bytes saved does, then the name. Beyond the CPU
    noise (2.5 % less), less CPU decides as stated."""
    codecs = {**CODECS, "zlib:6@zlib": (zlib_saves, cpu)}
    rec = recommend(_noisy(0.002, codecs), objective="storage")
    assert rec.winner is not None
    assert rec.winner.codec == winner
    assert rec.tied == [({"gzip:6@zlib", "zlib:6@zlib"} - {winner}).pop()]
    decided_by_cpu = cpu < 39.2
    assert (rec.tie_break == "less CPU") == decided_by_cpu
    assert rec.tie_break in rec.reason


@pytest.mark.parametrize("objective", ["storage", "latency", "cpu", "balanced"])
def test_no_codec_never_wins_and_is_excluded_as_saving_nothing(objective: str) -> None:
    rec = recommend(RUN, objective=objective)
    assert rec.winner is not None
    assert rec.winner.codec != "none"
    assert {c.codec: c.failed for c in rec.excluded}["none"] == [NOTHING_GAINED]


def test_when_only_no_codec_would_pass_nothing_is_recommended() -> None:
    """Reading limits only ``none`` meets: "nothing meets these constraints", never a deploy
    block for ``--spec none``."""
    run = _with_readings({"none": (120, 1500), "zstd:3@zstandard": (500, 3000)})
    rec = recommend(run, objective="balanced", limits=Constraints(max_show_ms=400))
    assert rec.winner is None
    assert rec.reason.startswith("No measured codec meets every constraint")


def test_an_encrypting_runner_up_that_adds_bytes_says_so() -> None:
    rec = recommend(RUN, objective="storage", limits=Constraints(must_encrypt=True))
    assert [c.codec for c in rec.ranked][-1] == "aes256gcm"
    assert "stores" in rec.reason
    assert "saves -" not in rec.reason
