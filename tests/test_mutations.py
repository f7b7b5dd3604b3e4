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

ROOT = Path(__file__).resolve().parents[1]

MUTATIONS = {
    "no per-round round-trip check": (
        "bench/layers/inprocess.py",
        "            decode_row.append(wall)\n            decode_cpu += cpu\n"
        "            self._check(index, decoded)\n",
        "            decode_row.append(wall)\n            decode_cpu += cpu\n",
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
        "judge_runs(np.exp(first.mean(axis=0)), np.exp(other.mean(axis=0)), level)",
        "judge_runs(np.exp(first.ravel()), np.exp(other.ravel()), level)",
        "tests/outputs/test_compare.py::test_the_gate_counts_rounds_not_rows_when_a_round_slows"
        "_all_its_rows",
    ),
    "inverted ratio interval": (
        "bench/outputs/compare.py",
        "    ratio: Floats = np.median(b, axis=axis) / np.median(a, axis=axis)",
        "    ratio: Floats = np.median(a, axis=axis) / np.median(b, axis=axis)",
        "tests/outputs/test_compare.py::test_a_shifted_set_is_flagged_with_the_right_sign_and_size",
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
