"""A run is a Python call: ``run(RunOptions(...))`` plans, measures and writes what
``codec-bench run`` writes, and says clearly when it cannot run."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
from bench.errors import UserError
from bench.run import RunOptions, run

from tests.run.options import in_process


def _in_process(out: Path, **changes: object) -> RunOptions:
    return dataclasses.replace(in_process(out), **changes)  # type: ignore[arg-type]


def test_a_run_from_python_writes_results_and_a_report(tmp_path: Path) -> None:
    outcome = run(_in_process(tmp_path / "run"))
    assert outcome.failure is None
    assert outcome.stopped is None
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["run_id"] == outcome.results.run_id
    assert saved["command"] == ["bench.run.run"]
    assert {c["codec"] for c in saved["cases"]} >= {"none", "lz4:1@lz4"}
    assert outcome.report.exists()
    assert saved["layers"]["client"]["status"] == "not run (--no-client)"


def test_a_run_inside_a_running_event_loop_is_refused_before_it_measures(tmp_path: Path) -> None:
    async def inside() -> None:
        run(_in_process(tmp_path / "loop"))

    with pytest.raises(UserError, match="outside a running one"):
        asyncio.run(inside())
    assert not (tmp_path / "loop").exists()


def test_an_unknown_profile_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no profile 'fastest'"):
        run(_in_process(tmp_path / "p", profile="fastest"))
