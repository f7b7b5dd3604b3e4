"""Helpers for tests that run codec-bench as a separate process, as a user would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_cli(
    args: Sequence[str], env: dict[str, str] | None = None, **popen: object
) -> subprocess.Popen[str]:
    """``python -m bench.cli ARGS`` from the project root, stderr piped, text mode; ``env``
    adds to this process's environment."""
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "bench.cli", *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        **popen,
    )


def start_embedded_run(
    corpus: Path, out: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], int, int]:
    """Start ``codec-bench run`` of ``zstd:3`` on ``corpus`` with its own dev server (reading
    layer off); return it once it has said the pids of its dev server and its worker."""
    process = start_cli(
        [
            "run",
            "--codec",
            "zstd:3",
            "--corpus",
            str(corpus),
            "--out",
            str(out),
            "--no-reading",
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    assert process.stderr is not None
    server = worker = 0
    deadline = time.monotonic() + 120
    while not (server and worker) and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        if found := re.match(r"started Temporal dev server pid (\d+)", line):
            server = int(found[1])
        if found := re.match(r"started worker pid (\d+)", line):
            worker = int(found[1])
    assert server, "the run never said it started a dev server"
    assert worker, "the run never said it started a worker"
    return process, server, worker


def alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists (reaped children do not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(process: subprocess.Popen[str], text: str | re.Pattern[str]) -> str:
    """Read the process's stderr until a line holds ``text`` (or matches it, for a pattern;
    progress lines come every few seconds when stderr is not a terminal): waiting on the
    progress itself, never a sleep. Returns what was read; fails if the process ends first."""
    assert process.stderr is not None
    seen = ""
    for line in process.stderr:
        seen += line
        if text.search(line) if isinstance(text, re.Pattern) else text in line:
            return seen
    raise AssertionError(f"the process ended before saying {text!r}:\n{seen}")


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children, theirs, ...), from ``/proc``: to check
    later that none outlived the run."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        # The command name may hold spaces and parentheses: the fields after its last ")".
        parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
