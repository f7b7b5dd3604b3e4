"""codec-bench export: a run as pytest-benchmark JSON that pytest-benchmark's own loader and
compare command read, with the run's rounds as the samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.cli import main
from bench.results import Layer, load
from bench.results.metrics import series_of
from pytest_benchmark.logger import Logger
from pytest_benchmark.storage.file import FileStorage


def test_export_is_read_by_pytest_benchmarks_own_loader(run_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported" / "0001_run.json"
    assert main(["export", str(run_folder / "results.json"), "--out", str(out)]) == 0
    storage = FileStorage(str(out.parent), default_machine_id=None, logger=Logger(0))
    loaded = {b["name"]: b for b in storage.load_benchmarks(str(out))}

    results = load(run_folder / "results.json")
    case = results.case(Layer.CODEC, "zstd:3@zstandard (A)", results.corpus_names[0])
    assert case is not None
    bucket = next(b for b in case.buckets if b != "all")
    name = f"codec[{case.codec}-{case.corpus}-{bucket}-decode]"
    rounds = [us / 1e6 for us in series_of(case, bucket, "decode_us_per_payload")]
    bench = loaded[name]
    assert bench["data"] == pytest.approx(rounds)
    assert bench["rounds"] == len(rounds)
    assert bench["min"] == pytest.approx(min(rounds))
    assert bench["extra_info"]["ratio"] == pytest.approx(case.value(bucket, "ratio"))
    assert bench["group"] == f"codec {case.corpus} {bucket} decode"
    layers = {b["extra_info"]["layer"] for b in loaded.values()}
    assert layers == {"raw", "codec"}


def test_pytest_benchmark_compare_shows_an_exported_run(run_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "0001_run.json"
    assert main(["export", str(run_folder / "results.json"), "--out", str(out)]) == 0
    done = subprocess.run(
        [sys.executable, "-m", "pytest_benchmark", "compare", str(out), "--group-by", "group"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "codec[zstd:3@zstandard (A)-" in done.stdout


def test_export_refuses_a_folder_as_the_file(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(run_folder / "results.json"), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert json.loads((run_folder / "results.json").read_text())  # the run is untouched


ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "data" / "schemas"


@pytest.mark.parametrize(
    ("format_name", "schema"),
    [("github-action-benchmark", "github-action-benchmark.json"), ("bencher", "bencher-bmf.json")],
)
def test_the_ci_services_formats_match_their_documented_schemas(
    run_folder: Path, tmp_path: Path, format_name: str, schema: str
) -> None:
    import jsonschema

    out = tmp_path / f"{format_name}.json"
    assert (
        main(
            ["export", str(run_folder / "results.json"), "--format", format_name, "--out", str(out)]
        )
        == 0
    )
    document = json.loads(out.read_text())
    jsonschema.validate(document, json.loads((SCHEMAS / schema).read_text()))
    assert document  # not an empty (trivially valid) document


def test_github_action_benchmark_gets_only_smaller_is_better_figures(
    run_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "gab.json"
    results_file = run_folder / "results.json"
    assert (
        main(
            ["export", str(results_file), "--format", "github-action-benchmark", "--out", str(out)]
        )
        == 0
    )
    entries = {e["name"]: e for e in json.loads(out.read_text())}
    results = load(results_file)
    case = results.case(Layer.CODEC, "zstd:3@zstandard (A)", results.corpus_names[0])
    assert case is not None
    geomean = entries[f"codec/{case.codec}/{case.corpus}/encode_geomean_us"]
    estimate = case.estimate("all", "encode_geomean_us")
    assert estimate is not None
    assert geomean["value"] == pytest.approx(estimate.median)
    assert geomean["unit"] == "µs"
    assert f"{estimate.low:.4g} .. {estimate.high:.4g}" in geomean["extra"]
    assert not any(name.endswith(("_mbps", "_per_s", "_wps")) for name in entries)
    assert entries[f"codec/{case.codec}/{case.corpus}/encoded_bytes"]["extra"].startswith("exact")


def test_bencher_gets_one_benchmark_per_row_with_intervals(
    run_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bmf.json"
    results_file = run_folder / "results.json"
    assert main(["export", str(results_file), "--format", "bencher", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    results = load(results_file)
    case = next(c for c in results.cases if c.layer is Layer.RAW and c.codec.startswith("zstd"))
    measures = document[f"raw/{case.codec}/{case.corpus}"]
    decode = measures["decode-mbps"]
    estimate = case.estimate("all", "decode_mbps")
    assert estimate is not None
    assert decode["value"] == pytest.approx(estimate.median)
    assert decode["lower_value"] <= decode["value"] <= decode["upper_value"]
    assert measures["encoded-bytes"] == {"value": case.value("all", "encoded_bytes")}


def test_pytest_benchmark_compare_runs_from_the_project_root_without_the_test_tools(
    run_folder: Path, tmp_path: Path
) -> None:
    """From the project root pytest-benchmark loads the project's tests/conftest.py; in the bench
    session's environment (no hypothesis) that must not stop it."""
    out = tmp_path / "0001_run.json"
    assert main(["export", str(run_folder / "results.json"), "--out", str(out)]) == 0
    # hypothesis cannot be imported, as in the bench session (nor its pytest plugin loaded).
    code = (
        "import sys\n"
        "class Absent:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'hypothesis':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "from pytest_benchmark.cli import main\n"
        f"sys.argv = ['pytest-benchmark', 'compare', {str(out)!r}]\n"
        "main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "codec[" in done.stdout
