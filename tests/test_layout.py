"""The layout's promises, checked: outputs read results without loading a worker or, where
nothing is drawn, matplotlib; results import no measuring code; no long functions."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "tests" / "data" / "results-v1.json"
MAX_FUNCTION_LINES = 60


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_report_module_loads_no_worker() -> None:
    loaded = _modules_after("import bench.outputs.report")
    assert "temporalio.worker" not in loaded
    assert "bench.layers.client" not in loaded


def test_results_import_no_corpus_layer_or_server_code() -> None:
    loaded = _modules_after("import bench.results, bench.results.metrics, bench.results.schema")
    assert not {
        m for m in loaded if m.startswith(("bench.corpus", "bench.layers", "bench.temporal"))
    }
    assert "matplotlib" not in loaded
    assert "temporalio.worker" not in loaded


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", str(V1), str(V1)],
        ["compare", str(V1), str(V1), "--json"],
        ["recommend", str(V1)],
        ["recommend", str(V1), "--json"],
    ],
)
def test_compare_and_recommend_without_out_load_no_matplotlib_and_no_worker(
    argv: list[str],
) -> None:
    code = (
        "import contextlib, io\nfrom bench.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    main({argv!r})"
    )
    loaded = _modules_after(code)
    assert "matplotlib" not in loaded
    assert "temporalio.worker" not in loaded


def test_the_command_line_loads_no_server_stack_until_a_command_needs_it() -> None:
    """Every command starts through bench.cli: the codec-server probe's aiohttp, uvicorn and
    Starlette load only when `codec-bench codec-server` runs (and `nox -s bench` once failed
    because the probe was imported at start-up)."""
    loaded = _modules_after("import bench.cli")
    assert not {"aiohttp", "uvicorn", "starlette"} & loaded


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_no_function_in_the_harness_is_longer_than_60_lines() -> None:
    found = [
        item for path in sorted((ROOT / "bench").rglob("*.py")) for item in _long_functions(path)
    ]
    assert found == []
