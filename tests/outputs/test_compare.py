"""compare: known answers on constructed sample sets. Every expected value here follows from
how the samples were built (a scale factor, a noise level), not from an earlier output."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from bench import results
from bench.cli import main
from bench.outputs import compare as compare_module
from bench.outputs import compare_report, render
from bench.outputs.compare import (
    DESCRIPTIVE,
    FASTER,
    FEW,
    PRIMARY,
    SAME,
    SLOWER,
    SMALL,
    UNREACHABLE,
    Comparison,
    compare,
    judge,
    judge_runs,
    verdict,
)
from bench.results import ALL, CodecFacts, Layer
from bench.results.drift import round_factors
from bench.results.samples import InProcessSamples, ReadingSamples
from bench.results.stats import holm

from tests.synthetic_runs import ROUNDS, make_case, make_run, make_samples


def _gate(comparison: Comparison, run: str, codec: str, *, normalized: bool | None = None) -> float:
    [gate] = [g for g in comparison.gates_of(run, normalized=normalized) if g.codec == codec]
    return gate.speedup


def test_identical_sample_sets_give_no_significant_rows() -> None:
    run = make_run("a", {"zstd": (1.0, 1), "lz4": (1.0, 2)})
    comparison = compare([[run], [dataclasses.replace(run, run_id="b")]])
    timed = [d for d in comparison.deltas if d.speedup is not None]
    assert timed
    assert {d.verdict for d in timed} == {SAME}
    assert {d.verdict for d in comparison.deltas if d.speedup is None} == {"identical"}
    for codec in ("zstd", "lz4"):
        assert _gate(comparison, "b", codec) == pytest.approx(1.0)
    assert comparison.regressions(1) == []


def test_a_shifted_set_is_flagged_with_the_right_sign_and_size() -> None:
    first = make_run("a", {"zstd": (1.0, 1), "lz4": (1.0, 2)})
    slower = make_run("b", {"zstd": (1.3, 3), "lz4": (1.0, 4)})  # zstd takes 30 % longer
    faster = make_run("c", {"zstd": (0.7, 5), "lz4": (1.0, 6)})
    comparison = compare([[first], [slower], [faster]])
    for run, call, opposite in (("b", SLOWER, FASTER), ("c", FASTER, SLOWER)):
        flagged = {
            (d.codec, d.verdict)
            for d in comparison.deltas
            if d.run == run and d.verdict in (FASTER, SLOWER)
        }
        assert ("zstd", call) in flagged
        assert ("zstd", opposite) not in flagged
        assert not any(codec == "lz4" for codec, _ in flagged)
    # 30 % more time is 1/1.3 of the speed; 2 % noise on 11 rounds keeps the medians close.
    assert _gate(comparison, "b", "zstd") == pytest.approx(1 / 1.3, rel=0.03)
    assert _gate(comparison, "c", "zstd") == pytest.approx(1 / 0.7, rel=0.03)
    assert [(g.run, g.codec) for g in comparison.regressions(20)] == [("b", "zstd")]
    assert comparison.regressions(30) == []  # the whole interval must pass the threshold


def test_a_change_smaller_than_the_minimum_effect_is_not_called() -> None:
    """3 % slower with 0.2 % noise: significant, but within the 5 % minimum effect. The effect
    applies to the whole interval, not the point."""
    first = make_run("a", {"zstd": (1.0, 1)}, noise=0.002)
    other = make_run("b", {"zstd": (1.03, 2)}, noise=0.002)
    deltas = [d for d in compare([[first], [other]]).deltas if d.metric == "encode_mbps"]
    assert deltas
    assert {d.verdict for d in deltas} == {SMALL}
    assert {
        d.verdict
        for d in compare([[first], [other]], min_effect=0.01).deltas
        if d.metric == "encode_mbps"
    } == {SLOWER}


def test_too_few_samples_never_become_a_verdict() -> None:
    """3 against 3 rounds: the smallest Mann-Whitney p is 0.1, above alpha; even a tenfold
    change cannot be called."""
    ratio, low, high, p = judge([100.0, 101.0, 102.0], [10.0, 11.0, 12.0])
    assert (low, high, p) == (None, None, None)
    assert ratio == pytest.approx(11 / 101)
    first = make_run("a", {"zstd": (1.0, 1)}, rounds=3)
    other = make_run("b", {"zstd": (10.0, 2)}, rounds=3)
    timed = [d for d in compare([[first], [other]]).deltas if d.speedup is not None]
    assert {d.verdict for d in timed} == {FEW}


def test_holm_adjusts_p_values_as_defined() -> None:
    # Sorted 0.01, 0.02, 0.04 over 3 tests: 3 x 0.01, max(that, 2 x 0.02), max(that, 1 x 0.04).
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    first = make_run("a", {"zstd": (1.0, 1)})
    other = make_run("b", {"zstd": (1.3, 2)})
    raw = [judge(*_pair(first, other, b))[3] for b in ("<1KiB", "1-16KiB", "16-256KiB")]
    called = {
        d.bucket: d.p_value
        for d in compare([[first], [other]]).deltas
        if d.metric == "encode_mbps" and d.bucket != ALL
    }
    for bucket, p in zip(("<1KiB", "1-16KiB", "16-256KiB"), raw, strict=True):
        adjusted = called[bucket]
        assert p is not None
        assert adjusted is not None
        assert adjusted >= p


def _pair(
    first: results.Results, other: results.Results, bucket: str
) -> tuple[list[float], list[float]]:
    from bench.results.metrics import series_of

    a = first.case(Layer.CODEC, "zstd", "unit")
    b = other.case(Layer.CODEC, "zstd", "unit")
    assert a is not None
    assert b is not None
    return series_of(a, bucket, "encode_mbps"), series_of(b, bucket, "encode_mbps")


def test_normalising_removes_machine_drift_but_not_a_slowdown_of_every_codec() -> None:
    first = make_run("a", {"zstd": (1.0, 1), "lz4": (1.0, 2)})
    # The machine ran 30 % slower: codecs and reference workloads alike.
    drifted = make_run("b", {"zstd": (1.0, 3), "lz4": (1.0, 4)}, machine=1.3)
    # Every codec 30 % slower, the machine (reference workloads) unchanged.
    regressed = make_run("c", {"zstd": (1.3, 5), "lz4": (1.3, 6)})
    plain = compare([[first], [drifted], [regressed]])
    normal = compare([[first], [drifted], [regressed]], normalize=True)
    assert normal.drift["b"] == pytest.approx(1.3, rel=0.03)
    assert normal.drift["c"] == pytest.approx(1.0, rel=0.03)
    assert {g.run for g in plain.regressions(10)} == {"b", "c"}
    assert {g.run for g in normal.regressions(10)} == {"c"}  # drift out, regression kept
    for codec in ("zstd", "lz4"):
        assert _gate(normal, "b", codec) == pytest.approx(1.0, rel=0.03)
        assert _gate(normal, "b", codec, normalized=False) == pytest.approx(1 / 1.3, rel=0.03)
        assert _gate(normal, "c", codec) == pytest.approx(1 / 1.3, rel=0.03)


def test_the_gate_needs_the_whole_interval_past_the_threshold() -> None:
    """15 % slower at the point, but with 40 % noise the interval reaches above -10 %: a gate
    on the point estimate would fire, this one must not."""
    first = make_run("a", {"zstd": (1.0, 11)}, noise=0.4)
    other = make_run("b", {"zstd": (1.0 / 0.85, 12)}, noise=0.4)
    [gate] = [g for g in compare([[first], [other]]).gates if g.codec == "zstd"]
    assert gate.high > 0.9
    assert compare([[first], [other]]).regressions(10) == []


def test_the_gate_counts_rounds_not_rows_when_a_round_slows_all_its_rows() -> None:
    """On a shared host whole rounds run slow or fast (seen here: two speed states 1.8x
    apart). Two runs of identical code, one of which happened to spend 9 of 11 rounds in the
    slow state, against 4: every row of the codec moves 24 % together. Twelve rows of one
    round are one observation of that round's state; counted as twelve they would give an
    interval too narrow, and the gate would fire on identical code."""
    slow, fast = math.exp(0.3), math.exp(-0.3)

    def run(run_id: str, slow_rounds: int) -> results.Results:
        speeds = [slow] * slow_rounds + [fast] * (ROUNDS - slow_rounds)
        base = make_run(run_id, {"zstd": (1.0, 1)})
        cases = [
            make_case(Layer.CODEC, "zstd", make_samples(1.0, seed, round_speeds=speeds), corpus)
            for seed, corpus in enumerate(["a", "b", "c", "d", "e", "f"])
        ]
        return dataclasses.replace(base, cases=cases)

    first, other = run("a", 4), run("b", 9)
    [gate] = [g for g in compare([[first], [other]]).gates if g.codec == "zstd"]
    assert gate.speedup == pytest.approx(math.exp(-0.6 * 5 / 11), rel=0.02)
    assert gate.high > 0.9
    assert compare([[first], [other]]).regressions(10) == []


def test_one_round_a_side_cannot_gate_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One round a side leaves no spread to test against: the gate would fire on noise."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    results.save(make_run("a", {"zstd": (1.0, 1)}, rounds=1), a)
    results.save(make_run("b", {"zstd": (2.0, 2)}, rounds=1), b)
    [gate] = [g for g in compare([[results.load(a)], [results.load(b)]]).gates]
    assert (gate.samples, gate.low, gate.high) == (1, 0.0, math.inf)
    assert main(["compare", str(a), str(b), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["gates"][0]["high"] is None
    assert main(["compare", str(a), str(b), "--fail-on-regression", "10"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "judged nothing: codec: 1 rounds, not judged" in line
    assert "--rounds 5" in line


def test_groups_of_runs_compare_run_medians() -> None:
    """Three runs a side: the samples are the runs, so a shift between runs with noise inside
    each run is judged against the spread between runs."""
    same = [
        [make_run(f"a{i}", {"zstd": (1.0, i)}) for i in range(3)],
        [make_run(f"b{i}", {"zstd": (1.0, 10 + i)}) for i in range(3)],
    ]
    comparison = compare(same)
    assert comparison.grouped
    assert comparison.runs == ["a0 (+2 runs)", "b0 (+2 runs)"]
    assert {d.verdict for d in comparison.deltas if d.speedup is not None} <= {SAME, SMALL}
    shifted = [same[0], [make_run(f"c{i}", {"zstd": (1.25, 20 + i)}) for i in range(3)]]
    called = {
        d.verdict for d in compare(shifted).deltas if d.speedup is not None and d.bucket != ALL
    }
    assert called == {SLOWER}
    assert compare(shifted).regressions(10)


def test_mismatched_rows_and_environments_are_reported() -> None:
    first = make_run("a", {"zstd": (1.0, 1), "lz4": (1.0, 2)})
    other = make_run("b", {"zstd": (1.0, 1), "snappy": (1.0, 2)}, packages={"zstandard": "0.26.0"})
    other.corpora[0] = dataclasses.replace(other.corpora[0], digest="d2")
    comparison = compare([[first], [other]])
    assert comparison.only_in["b"] == ["codec / lz4 / unit", "codec / snappy / unit"]
    assert "b: packages zstandard: 0.25.0 -> 0.26.0" in comparison.environment
    assert "b: corpus unit holds other payloads (sha256 differs)" in comparison.environment


def test_no_common_rows_and_bad_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    results.save(make_run("a", {"zstd": (1.0, 1)}), a)
    results.save(make_run("b", {"lz4": (1.0, 1)}), b)
    assert main(["compare", str(a), str(b)]) == 2
    assert "no rows in common" in capsys.readouterr().err
    assert main(["compare", str(a), str(tmp_path / "missing.json")]) == 2
    assert "cannot read results" in capsys.readouterr().err
    other = json.loads(a.read_text())
    other["schema_version"] = 99
    (tmp_path / "v99.json").write_text(json.dumps(other))
    assert main(["compare", str(a), str(tmp_path / "v99.json")]) == 2
    assert "schema version 99" in capsys.readouterr().err
    assert main(["compare", *[str(a)] * 5, "--runs-per-side", "2"]) == 2
    assert "do not split into sides of 2" in capsys.readouterr().err


def test_compare_writes_markdown_html_json_and_gates_on_regressions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    results.save(make_run("a", {"zstd": (1.0, 1), "lz4": (1.0, 2)}), a)
    results.save(make_run("b", {"zstd": (1.3, 3), "lz4": (1.0, 4)}), b)
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "Rows that changed:" in out
    assert "| codec | zstd | -23." in out  # 1/1.3 of the speed
    assert (tmp_path / "cmp" / "compare.html").read_text().count("data:image/png;base64,") == 1
    assert main(["compare", str(a), str(b), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [lz4] = [g for g in document["gates"] if g["codec"] == "lz4"]
    assert lz4["low"] < 1.0 < lz4["high"]
    assert main(["compare", str(a), str(b), "--fail-on-regression", "20", "--normalize"]) == 1
    err = capsys.readouterr().err
    [line] = err.strip().splitlines()
    found = re.search(r"regression: b codec zstd: ([-+0-9.]+)%", line)
    assert found is not None
    assert float(found[1]) == pytest.approx((1 / 1.3 - 1) * 100, abs=2)
    assert "lz4" not in err
    assert main(["compare", str(a), str(b), "--fail-on-regression", "40"]) == 0


def _readings(run_id: str, show_ms: dict[tuple[str, int], float], seed: int) -> results.Results:
    """Reading-layer cases only: (codec, payloads in history) -> CLI show time, 11 rounds."""
    rng = np.random.default_rng(seed)
    cases = [
        results.case_result(
            ReadingSamples(
                original_bytes=[200] * size,
                history_bytes=size * 300,
                show_ns=[int(ms * 1e6 * rng.normal(1, 0.02)) for _ in range(ROUNDS)],
                show_requests=[size - 1] * ROUNDS,
                show_codec_bytes=[size * 200] * ROUNDS,
            ),
            layer=Layer.READING,
            codec=codec,
            corpus="histories",
            library="-",
            facts=CodecFacts.of_spec(codec),
            variant=f"{size} payloads",
        )
        for (codec, size), ms in show_ms.items()
    ]
    return dataclasses.replace(make_run(run_id, {}), cases=cases)


def test_reading_rows_are_matched_by_history_size() -> None:
    times = {("none", 10): 120.0, ("zstd:3", 10): 130.0, ("zstd:3", 100): 250.0}
    first = _readings("a", times, 1)
    other = _readings("b", {**times, ("zstd:3", 100): 500.0}, 2)
    comparison = compare([[first], [other]])
    shows = {(d.codec, d.verdict) for d in comparison.deltas if d.metric == "show_ms"}
    assert shows == {
        ("none [10 payloads]", SAME),
        ("zstd:3 [10 payloads]", SAME),
        ("zstd:3 [100 payloads]", SLOWER),
    }
    stored = {d.codec: d.verdict for d in comparison.deltas if d.metric == "reading_history_bytes"}
    assert set(stored.values()) == {"identical"}


@pytest.mark.parametrize(("slower", "code"), [(1.0, 0), (2.0, 1)], ids=["same", "slower"])
def test_the_gate_judges_the_layers_with_rounds_enough_and_names_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], slower: float, code: int
) -> None:
    """A layer of 3 rounds beside one of 11 (the client layer's --client-rounds beside the
    in-process rounds, in a real run): the gate judges the second and names the first, where it
    once refused to judge at all; its exit code follows what it judged."""
    paths = []
    for name, scale in (("a", 1.0), ("b", slower)):
        run = make_run(name, {"zstd": (scale, 1)})
        short = make_samples(scale, 7, rounds=3)
        run.cases.append(make_case(Layer.RAW, "zstd", short))
        paths.append(tmp_path / f"{name}.json")
        results.save(run, paths[-1])
    assert main(["compare", *map(str, paths), "--fail-on-regression", "10"]) == code
    err = capsys.readouterr().err
    assert "codec-bench: raw: 3 rounds, not judged (the gate needs 5" in err
    assert ("regression:" in err) == (code == 1)


@pytest.mark.parametrize("rounds", [7, 11])
def test_a_large_slowdown_is_called_in_its_primary_rows_among_a_thousand_and_no_row_denies_it(
    rounds: int,
) -> None:
    """zstd 50 % slower among 60 unchanged codecs (over 780 timed rows). Holm over every row
    once asked of a row a p-value no rank test of 7 rounds against 7 can give, and 90 rows of
    such a codec said "no significant change" beside a gate that fired. Its primary rows (all
    payloads, the gated metric: Welch, Holm over that family only) are called slower; its other
    rows are called or say that they cannot tell, and the report's counts are the table's."""
    others = {f"c{i}": (1.0, 10 + i) for i in range(60)}
    first = make_run("a", {"zstd": (1.0, 1), **others}, rounds=rounds, noise=0.1)
    other = make_run("b", {"zstd": (1.5, 2), **others}, rounds=rounds, noise=0.1)
    comparison = compare([[first], [other]])
    timed = [d for d in comparison.deltas if d.speedup is not None]
    assert len(timed) > 780
    zstd = [d for d in timed if d.codec == "zstd"]
    assert {d.verdict for d in zstd if d.family == PRIMARY} == {SLOWER}
    assert {d.family for d in timed} == {PRIMARY, DESCRIPTIVE}
    assert SAME not in {d.verdict for d in zstd if (d.speedup or 1) < 0.8}
    if rounds == 7:  # its separated bucket rows are too few for the false-discovery rate
        assert UNREACHABLE in {d.verdict for d in zstd if d.family == DESCRIPTIVE}
    text = render.markdown(compare_report.sections(comparison, None), "t")
    for family in (PRIMARY, DESCRIPTIVE):
        members = [d for d in timed if d.family == family]
        slower = sum(d.verdict == SLOWER for d in members)
        line = _summary_line(text, family)
        assert f"{slower} {SLOWER}" in line if slower else SLOWER not in line
        assert sum(f"| {family} | {SLOWER} |" in line for line in text.splitlines()) == slower


def _summary_line(text: str, family: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(f"{family.capitalize()} rows")]
    return line


def test_the_descriptive_family_holds_its_false_discovery_rate_as_benjamini_hochberg_does() -> None:
    """The adjusted p-values of the descriptive rows are Benjamini and Hochberg's: the k-th
    smallest times m / k, made monotone (worked by hand for four p-values)."""
    assert compare_module._false_discovery([0.01, 0.04, 0.03, 0.2]) == pytest.approx(
        [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2]
    )


def _noisy_reference(run: results.Results, seed: int, sd: float) -> results.Results:
    """``run`` with its reference workloads timed in rounds as noisy as a loaded host made
    them (their round factor's log sd was 0.25-0.73 in real runs here)."""
    speeds = list(np.exp(np.random.default_rng(seed).normal(0.0, sd, ROUNDS)))
    for index, case in enumerate(run.cases):
        if case.layer is Layer.REFERENCE:
            noisy = make_samples(1.0, seed + index, round_speeds=speeds)
            run.cases[index] = make_case(Layer.REFERENCE, case.codec, noisy, "reference")
    return run


def test_normalising_is_applied_only_where_it_tightens_so_a_slowdown_of_every_codec_is_caught() -> (
    None
):
    """With reference workloads as noisy as a loaded host made them, dividing by their round
    factors widened every interval and hid every codec made 30 % slower (0 of 3 caught
    normalised). Normalising is now applied only where it tightens the rounds' spread, and the
    comparison says which; a steady machine drift is still divided out."""
    first = _noisy_reference(make_run("a", {"zstd": (1.0, 1), "lz4": (1.0, 2)}), 50, 0.4)
    slower = _noisy_reference(make_run("b", {"zstd": (1.3, 3), "lz4": (1.3, 4)}), 60, 0.4)
    normal = compare([[first], [slower]], normalize=True)
    assert {g.codec for g in normal.regressions(10)} == {"zstd", "lz4"}
    assert normal.normalized_runs == set()
    [said] = [line for line in normal.normalizing if line.startswith("b: ")]
    assert said.startswith("b: not normalised: the samples' spread within the sides")
    assert "would widen it" in said
    drifted = make_run("c", {"zstd": (1.0, 5), "lz4": (1.0, 6)}, machine=1.3)
    steady = compare(
        [[make_run("a", {"zstd": (1.0, 1), "lz4": (1.0, 2)})], [drifted]], normalize=True
    )
    assert steady.normalized_runs == {"c"}
    assert steady.regressions(10) == []
    [said] = [line for line in steady.normalizing if line.startswith("c: ")]
    assert re.match(r"c: normalised: the reference workloads ran \+(29|30)\.\d% against", said)


def test_a_slowdown_of_every_codec_on_a_machine_that_got_faster_is_caught_normalised() -> None:
    """The second side's machine ran 10 % faster and every codec 30 % slower: raw, the gate
    sees 23 %; the reference workloads show the machine's move beyond their noise, so it is
    divided out and the 30 % is judged (with the two sides' spread together as the criterion,
    normalising looked wider here, and 24 of 200 simulated pairs were missed)."""
    first = make_run("a", {"zstd": (1.0, 1), "lz4": (1.0, 2)})
    other = make_run("b", {"zstd": (1 / 0.7, 3), "lz4": (1 / 0.7, 4)}, machine=1 / 1.1)
    comparison = compare([[first], [other]], normalize=True)
    assert comparison.normalized_runs == {"b"}
    gates = comparison.regressions(10)
    assert {g.codec for g in gates} == {"zstd", "lz4"}
    assert all(g.speedup == pytest.approx(0.7, rel=0.03) for g in gates)


def test_the_gates_of_a_comparison_hold_together_however_many_codecs_are_gated() -> None:
    """Each gate's interval is at 1 - 0.05 / gates, so that identical code fails some gate in
    about 2.5 % of comparisons whatever their number (with eight gates at 95 % each, some gate
    fired on identical code in about one comparison in five). On simulated rounds of identical
    code: eight gates a comparison, 400 comparisons."""
    rng = np.random.default_rng(7)
    gates, level = 8, 1 - 0.05 / 8
    fired = uncorrected = 0
    for _ in range(400):
        pairs = [np.exp(rng.normal(0.0, 0.1, (2, 7))) for _ in range(gates)]
        fired += any(judge_runs(a, b, level)[2] < 1 for a, b in pairs)  # type: ignore[operator]
        uncorrected += any(judge_runs(a, b)[2] < 1 for a, b in pairs)  # type: ignore[operator]
    assert fired <= 20  # 2.5 % of 400 is 10
    assert uncorrected >= 40  # what the correction removes

    def gate_width(codecs: list[str]) -> float:
        sides = [make_run(n, {c: (1.0, i + 1) for i, c in enumerate(codecs)}) for n in "ab"]
        [gate] = [g for g in compare([[sides[0]], [sides[1]]]).gates if g.codec == "zstd:1"]
        return gate.high / gate.low

    assert gate_width([f"zstd:{level}" for level in range(1, 9)]) > gate_width(["zstd:1"])


GATED = ("zstd", "lz4", "snappy", "gzip", "aes")


def _series(name: str, seed: int, slower: dict[str, float]) -> list[results.Results]:
    """Four runs of three rounds, as the ``ci`` profile measures a side: each run on a machine
    of its own speed (log sd 0.05, the reference workloads too) and each codec off by its own
    run-level amount (log sd 0.03, as processes of identical code differed here)."""
    rng = np.random.default_rng(seed)
    return [
        make_run(
            f"{name}{index}",
            {
                c: (slower.get(c, 1.0) * float(np.exp(rng.normal(0, 0.03))), int(rng.integers(99)))
                for c in GATED
            },
            rounds=3,
            machine=float(np.exp(rng.normal(0, 0.05))),
        )
        for index in range(4)
    ]


@pytest.mark.parametrize("seed", range(3))
def test_series_of_runs_gate_on_run_to_run_variation_and_catch_a_20_percent_slowdown(
    seed: int,
) -> None:
    """Runs, not rounds, are the samples of a series, so a codec that one process happened to
    run slower does not fail identical code; a 20 % slowdown of one codec is caught alone, and
    every codec 30 % slower is caught normalised and raw."""

    def flagged(slower: dict[str, float], *, normalize: bool) -> set[str]:
        first = _series("a", 100 + seed, {})
        other = _series("b", 200 + seed, slower)
        comparison = compare([first, other], normalize=normalize)
        assert comparison.grouped
        return {g.codec for g in comparison.regressions(10)}

    assert flagged({}, normalize=True) == set()
    assert flagged({}, normalize=False) == set()
    assert flagged({"zstd": 1.25}, normalize=True) == {"zstd"}
    every = dict.fromkeys(GATED, 1 / 0.7)
    assert flagged(every, normalize=True) == set(GATED)
    assert flagged(every, normalize=False) == set(GATED)


def test_a_row_is_called_only_past_alpha_and_with_its_whole_interval_past_the_effect() -> None:
    """Each condition of a row's call on its own: the adjusted p below ALPHA (0.01), the whole
    interval beyond the minimum effect on the side it claims."""
    assert verdict(0.8, 0.7, 0.9, 0.03, 0.05) == SAME  # interval clear of 1, p not below 0.01
    assert verdict(0.8, 0.7, 0.9, 0.005, 0.05) == SLOWER
    assert verdict(1.2, 1.1, 1.3, 0.005, 0.05) == FASTER
    assert verdict(1.1, 1.02, 1.2, 0.005, 0.05) == SMALL  # its low end is within 5 %
    assert verdict(0.9, 0.8, 0.98, 0.005, 0.05) == SMALL  # its high end is within 5 %
    assert verdict(0.8, 0.7, 1.05, 0.005, 0.05) == SAME
    assert verdict(0.8, None, None, None, 0.05) == FEW
    assert verdict(0.5, 0.4, 0.6, 0.5, 0.05, apart=True) == UNREACHABLE


def test_runs_are_compared_by_welchs_t_on_logs() -> None:
    """Two sides of unequal size and spread: the p-value and interval are Welch's (Student's
    pooled variance gives other ones), on the logs of the samples."""
    from scipy import stats

    first = np.exp([0.0, 0.01, -0.01, 0.02, -0.02, 0.0])
    other = np.exp([0.3, 0.0, 0.15, -0.1])
    ratio, low, high, p = judge_runs(first, other)
    welch = stats.ttest_ind(np.log(other), np.log(first), equal_var=False)
    interval = welch.confidence_interval(0.95)
    assert p == pytest.approx(welch.pvalue)
    assert (low, high) == pytest.approx((math.exp(interval.low), math.exp(interval.high)))
    assert ratio == pytest.approx(math.exp(np.log(other).mean() - np.log(first).mean()))
    student = stats.ttest_ind(np.log(other), np.log(first), equal_var=True)
    assert abs(student.pvalue - welch.pvalue) > 0.01


def test_the_ratio_interval_of_one_run_a_side_covers_its_truth_about_95_percent_of_the_time() -> (
    None
):
    """The bootstrap interval of the ratio of medians at 11 rounds a side: a range of the
    samples' ratios would cover nearly always, a point never."""
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(300):
        first = np.exp(rng.normal(0, 0.1, 11))
        other = 1.3 * np.exp(rng.normal(0, 0.1, 11))
        _, low, high, _ = judge(first, other)
        assert low is not None
        assert high is not None
        covered += low <= 1.3 <= high
    assert 0.86 <= covered / 300 <= 0.985


def test_each_family_is_adjusted_over_its_own_rows() -> None:
    """Primary rows carry Holm over the primary rows' Welch p-values; descriptive rows carry
    Benjamini-Hochberg over the descriptive rows' rank-test p-values: recomputed here from the
    same samples."""
    first = make_run("a", {f"c{i}": (1.0, i) for i in range(12)}, noise=0.1)
    other = make_run("b", {f"c{i}": (1.0 + 0.03 * (i % 3), 50 + i) for i in range(12)}, noise=0.1)
    comparison = compare([[first], [other]])
    rows = compare_module._rows(
        compare_module._Side("a", [first]), compare_module._Side("b", [other]), False, False
    )
    for family, test, adjust in (
        (PRIMARY, judge_runs, holm),
        (DESCRIPTIVE, judge, compare_module._false_discovery),
    ):
        members = [
            r
            for r in rows
            if compare_module.primary(r.case.layer, r.bucket, r.metric) == (family == PRIMARY)
        ]
        raw = [test(*compare_module._oriented(r))[3] for r in members]
        expected = adjust([p for p in raw if p is not None])
        got = [d.p_value for d in comparison.deltas if d.family == family and d.p_value is not None]
        assert got == pytest.approx(expected)
        assert 0 < min(expected) < 1  # the adjustment is seen


def test_a_codec_whose_runs_agree_by_chance_borrows_the_spread_of_the_others() -> None:
    """Four runs a side, eight codecs: seven spread as runs do (log sd 0.03), one whose runs
    happened to agree to within 0.7 % on each side, 3 % apart. Its own variance gives it an
    interval 0.023 wide (log), half the narrowest of the others'; moderated toward theirs, it
    is 0.039 wide."""
    from bench.outputs.compare import _moderated_intervals

    rng = np.random.default_rng(2)
    sides = [(rng.normal(0, 0.03, 4), rng.normal(0, 0.03, 4)) for _ in range(7)]
    sides.append((np.array([0, 0.008, -0.008, 0.0]), np.array([-0.03, -0.022, -0.038, -0.03])))
    widths = [math.log(high / low) for _, low, high in _moderated_intervals(sides, 0.95)]
    assert widths[-1] > 0.6 * min(widths[:-1])


def test_the_round_factor_is_the_median_of_its_slices_so_one_hiccup_does_not_move_it() -> None:
    """The reference workloads are timed in slices scattered over a round: one slice ten times
    slower (the host paused the process) leaves the round's factor where it was."""
    run = make_run("a", {"zstd": (1.0, 1)})
    reference = [c for c in run.cases if c.layer is Layer.REFERENCE]
    assert reference
    base = round_factors(run)

    def paused(case: results.CaseResult) -> results.CaseResult:
        if case.layer is not Layer.REFERENCE or not isinstance(case.samples, InProcessSamples):
            return case
        times = [[*row[:-1], row[-1] * 10] for row in case.samples.encode_ns]
        return dataclasses.replace(case, samples=dataclasses.replace(case.samples, encode_ns=times))

    hiccup = [paused(case) for case in run.cases]
    assert base is not None
    assert round_factors(dataclasses.replace(run, cases=hiccup)) == pytest.approx(base, rel=0.01)


def test_runs_that_timed_other_reference_workloads_are_not_normalised_against_each_other() -> None:
    """A run of codec-bench 0.1 timed zlib and a memory copy as its reference: its factors say
    nothing about bz2's, so the comparison is not normalised and says why."""
    old = make_run("a", {"zstd": (1.0, 1)})
    old.cases[:] = [
        dataclasses.replace(c, codec="zlib") if c.codec == "bz2" else c for c in old.cases
    ]
    comparison = compare([[old], [make_run("b", {"zstd": (1.0, 2)})]], normalize=True)
    assert comparison.normalized_runs == set()
    assert comparison.drift == {}
    [said] = comparison.normalizing
    assert "other ones than the first side's" in said


def test_runs_of_other_profiles_or_implementations_are_said_not_to_measure_the_same() -> None:
    first = make_run("a", {"lz4:1@cramjam": (1.0, 1), "zstd:3@zstandard": (1.0, 2)})
    other = dataclasses.replace(
        make_run("b", {"lz4:1@lz4": (1.0, 3), "zstd:3@zstandard": (1.0, 4)}), profile="ci"
    )
    notes = compare([[first], [other]]).environment
    assert "b: profile quick -> ci" in notes
    assert (
        "b: lz4:1 measured with lz4 where the first run used cramjam: its rows are in one run only"
        in notes
    )
    assert not any("zstd" in note for note in notes)
