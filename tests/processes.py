"""Helpers for tests that run codec-bench as a separate process, as a user would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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
