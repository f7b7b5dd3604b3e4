"""Tests that bite: each mutation below breaks the code the way a careless change would, in a
scratch copy of the project, and the named tests must then fail. A mutation that leaves its
tests green means those tests check nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.mutations

ROOT = Path(__file__).resolve().parents[1]

MUTATIONS = {
    "no per-round round-trip check": (
        "bench/layers/inprocess.py",
        "        now.decode_cpu_ns += cpu\n        self._check(index, decoded)\n",
        "        now.decode_cpu_ns += cpu\n",
        "tests/run/test_run.py::test_a_codec_that_breaks_after_calibration_fails_the_run",
    ),
    "median interval is the whole range": (
        "bench/results/stats.py",
        "    if n < 2 or gamma[0] < level:",
        "    if True:",
        "tests/results/test_stats.py::test_the_median_interval_covers_the_true_median_93_to_97"
        "_percent_of_the_time",
    ),
    "no minimum effect": (
        "bench/outputs/compare.py",
        "    if high <= 1 - min_effect:",
        "    if high <= 1:",
        "tests/outputs/test_compare.py::test_a_change_smaller_than_the_minimum_effect_is_not"
        "_called",
    ),
    "drift forced to 1": (
        "bench/results/drift.py",
        "    factors: Floats = np.exp(np.mean([s[:rounds] for s in series], axis=0))",
        "    factors: Floats = np.ones(rounds)",
        "tests/outputs/test_compare.py::test_normalising_removes_machine_drift_but_not_a"
        "_slowdown_of_every_codec",
    ),
    "gate on the point, not the interval": (
        "bench/outputs/compare.py",
        "if g.codec not in self.baselines and g.high < threshold",
        "if g.codec not in self.baselines and g.speedup < threshold",
        "tests/outputs/test_compare.py::test_the_gate_needs_the_whole_interval_past_the_threshold",
    ),
    "rows counted as independent samples": (
        "bench/outputs/compare.py",
        "    return first.mean(axis=0), other.mean(axis=0)",
        "    return first.ravel(), other.ravel()",
        "tests/outputs/test_compare.py::test_the_gate_counts_rounds_not_rows_when_a_round_slows"
        "_all_its_rows",
    ),
    "inverted ratio interval": (
        "bench/outputs/compare.py",
        "    ratio: Floats = np.median(b, axis=axis) / np.median(a, axis=axis)",
        "    ratio: Floats = np.median(a, axis=axis) / np.median(b, axis=axis)",
        "tests/outputs/test_compare.py::test_a_shifted_set_is_flagged_with_the_right_sign_and_size",
    ),
    "Holm removed from the primary rows": (
        "bench/outputs/compare.py",
        "adjusted = iter(holm(tested) if family else _false_discovery(tested))",
        "adjusted = iter(tested if family else _false_discovery(tested))",
        "tests/outputs/test_compare.py::test_each_family_is_adjusted_over_its_own_rows",
    ),
    "no false-discovery control on the descriptive rows": (
        "bench/outputs/compare.py",
        "adjusted = iter(holm(tested) if family else _false_discovery(tested))",
        "adjusted = iter(holm(tested) if family else tested)",
        "tests/outputs/test_compare.py::test_each_family_is_adjusted_over_its_own_rows",
    ),
    "the p-value condition dropped from a row's call": (
        "bench/outputs/compare.py",
        "    if p_value >= ALPHA or low <= 1 <= high:",
        "    if low <= 1 <= high:",
        "tests/outputs/test_compare.py::test_a_row_is_called_only_past_alpha_and_with_its_whole"
        "_interval_past_the_effect",
    ),
    "faster judged on the interval's upper end": (
        "bench/outputs/compare.py",
        "    if low >= 1 + min_effect:",
        "    if high >= 1 + min_effect:",
        "tests/outputs/test_compare.py::test_a_row_is_called_only_past_alpha_and_with_its_whole"
        "_interval_past_the_effect",
    ),
    "alpha 0.05": (
        "bench/outputs/compare.py",
        "ALPHA = 0.01",
        "ALPHA = 0.05",
        "tests/outputs/test_compare.py::test_a_row_is_called_only_past_alpha_and_with_its_whole"
        "_interval_past_the_effect",
    ),
    "the bootstrap interval replaced by the range": (
        "bench/outputs/compare.py",
        "    low, high = float(result.confidence_interval.low), "
        "float(result.confidence_interval.high)",
        "    low, high = float(samples[1].min() / samples[0].max()), "
        "float(samples[1].max() / samples[0].min())",
        "tests/outputs/test_compare.py::test_the_ratio_interval_of_one_run_a_side_covers_its"
        "_truth_about_95_percent_of_the_time",
    ),
    "Student's t in place of Welch's": (
        "bench/outputs/compare.py",
        "stats.ttest_ind(b, a, equal_var=False)",
        "stats.ttest_ind(b, a, equal_var=True)",
        "tests/outputs/test_compare.py::test_runs_are_compared_by_welchs_t_on_logs",
    ),
    "no correction over the gates": (
        "bench/outputs/compare.py",
        "    level = 1 - (1 - GATE_LEVEL) / max(1, len(groups))",
        "    level = GATE_LEVEL",
        "tests/outputs/test_compare.py::test_the_gates_of_a_comparison_hold_together_however"
        "_many_codecs_are_gated",
    ),
    "a series' variances not moderated": (
        "bench/outputs/compare.py",
        "    variances, dof = moderated_variances(own, own_dof)",
        "    variances, dof = own, own_dof",
        "tests/outputs/test_compare.py::test_a_codec_whose_runs_agree_by_chance_borrows_the"
        "_spread_of_the_others",
    ),
    "normalising wherever asked, even where it widens": (
        "bench/outputs/compare.py",
        "    if normed < raw:",
        "    if True:",
        "tests/outputs/test_compare.py::test_normalising_is_applied_only_where_it_tightens_so_a"
        "_slowdown_of_every_codec_is_caught",
    ),
    "the machine's move between the sides ignored": (
        "bench/outputs/compare.py",
        "    if p_value is not None and p_value < DRIFT_ALPHA:",
        "    if False:",
        "tests/outputs/test_compare.py::test_a_slowdown_of_every_codec_on_a_machine_that_got"
        "_faster_is_caught_normalised",
    ),
    "the round factor a mean of its slices": (
        "bench/results/drift.py",
        "    per_round: Floats = np.median(rows / repeats, axis=1) / 1e9",
        "    per_round: Floats = np.mean(rows / repeats, axis=1) / 1e9",
        "tests/outputs/test_compare.py::test_the_round_factor_is_the_median_of_its_slices_so_one"
        "_hiccup_does_not_move_it",
    ),
    "recommend's tie floor zero": (
        "bench/outputs/recommend.py",
        "MIN_NOISE = 0.02",
        "MIN_NOISE = 0.0",
        "tests/outputs/test_recommend.py::test_cpu_with_a_minimum_saving_calls_a_tie_within_the"
        "_noise_and_breaks_it",
    ),
    "CPU cost off by a factor of 1000": (
        "bench/outputs/recommend.py",
        "c.cpu_us_per_kib / 1e6 / 3600",
        "c.cpu_us_per_kib / 1e3 / 3600",
        "tests/outputs/test_recommend.py::test_the_cpu_cost_is_the_time_per_kib_times_the_kib_of"
        "_a_month_at_the_hourly_price",
    ),
    "cost ties at a fixed 2 %": (
        "bench/outputs/recommend.py",
        "        tolerance=_cost_tolerance,",
        "        tolerance=lambda a, b: MIN_NOISE,",
        "tests/outputs/test_recommend.py::test_cost_ties_follow_the_cpu_noise_in_proportion_to_the"
        "_cpu_share",
    ),
    "the noise floor set by the noisiest codec, not pooled": (
        "bench/outputs/recommend.py",
        "    error = MEDIAN_EFFICIENCY * math.sqrt(float(np.mean(variances)) * 2 / min(rounds))",
        "    error = MEDIAN_EFFICIENCY * math.sqrt(float(np.max(variances)) * 2 / min(rounds))",
        "tests/outputs/test_recommend.py::test_the_noise_floor_is_196_standard_errors_of_a"
        "_difference_of_medians_pooled",
    ),
    "the Pareto front keeps dominated codecs": (
        "bench/outputs/ranking.py",
        "            (ox >= x and oy >= y) and (ox > x or oy > y)",
        "            (ox > x and oy > y)",
        "tests/results/test_stats.py::test_pareto_front_keeps_only_undominated_points",
    ),
    "the raw layer's round-trip check always true": (
        "bench/layers/inprocess.py",
        "def _same_bytes(decoded: bytes | memoryview, original: bytes) -> bool:\n"
        "    return decoded == original",
        "def _same_bytes(decoded: bytes | memoryview, original: bytes) -> bool:\n    return True",
        "tests/layers/test_inprocess.py::test_a_stage_that_decodes_one_byte_wrong_fails_its_layer",
    ),
    "the verdict's round trip tied whatever its interval": (
        "bench/outputs/roundtrip.py",
        'return interval if found.called else f"{interval} tied"',
        'return f"{interval} tied"',
        "tests/outputs/test_verdict.py::test_the_round_trip_change_is_tied_only_where_its_interval"
        "_holds_no_change",
    ),
    "zstandard ignores its level": (
        "codecs/src/payload_codecs/_compression.py",
        "        self._local = _ZstdContexts(3 if level is None else level, self.dictionary, dic",
        "        self._local = _ZstdContexts(3, self.dictionary, dic",
        "tests/codecs/test_spec.py::test_levels_change_what_is_written",
    ),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's code and tests, to mutate one file at a time."""
    copy = tmp_path_factory.mktemp("mutants") / "project"
    for part in ("bench", "codecs/src", "tests"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _pytest(project: Path, *tests: str) -> subprocess.CompletedProcess[str]:
    """The named tests, importing the project from ``project`` (ahead of the installed one)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=project,
        env={**os.environ, "PYTHONPATH": f"{project}{os.pathsep}{project / 'codecs' / 'src'}"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_unmutated_copy_passes_every_test_named_here(pristine: Path) -> None:
    done = _pytest(pristine, *sorted({tests for *_, tests in MUTATIONS.values()}))
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_the_tests_catch_the_mutation(pristine: Path, tmp_path: Path, name: str) -> None:
    path, old, new, tests = MUTATIONS[name]
    project = tmp_path / "project"
    shutil.copytree(pristine, project)
    source = project / path
    text = source.read_text()
    assert text.count(old) == 1, f"the mutation's anchor is gone from {path}: update {name!r}"
    source.write_text(text.replace(old, new))
    done = _pytest(project, "-x", tests)
    assert "no tests ran" not in done.stdout, done.stdout
    assert done.returncode == 1, f"{name}: the tests stayed green\n{done.stdout[-1500:]}"
