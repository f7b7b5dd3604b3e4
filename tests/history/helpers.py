"""Histories made up in memory: results files of a few days' runs with run-to-run noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from bench.results.schema import save

from tests.synthetic_runs import make_run

RUN_NOISE = 0.03
"""Run-to-run noise of the made-up runs (log standard deviation)."""


def history_files(
    folder: Path,
    slow: float = 1.0,
    runs: int = 6,
    *,
    slow_from: int | None = None,
    cpu_model: str = "x",
) -> list[Path]:
    """``runs`` results files of zstd and lz4 in ``folder``, one a day, with run-to-run noise;
    zstd ``slow`` times slower from run ``slow_from`` on (the last run by default)."""
    rng = np.random.default_rng(5)
    files = []
    for day in range(runs):
        factor = slow if day >= (runs - 1 if slow_from is None else slow_from) else 1.0
        noise = np.exp(rng.normal(0.0, RUN_NOISE, 2))
        run = make_run(
            f"run-{day}-{cpu_model}",
            {"zstd:3": (factor * noise[0], 10 + day), "lz4:1": (noise[1], 50 + day)},
            started=f"2026-03-{day + 1:02d}T10:00:00",
            cpu_model=cpu_model,
        )
        path = folder / f"{run.run_id}.json"
        save(run, path)
        files.append(path)
    return files
