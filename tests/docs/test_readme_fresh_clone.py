"""The README as a new user follows it: a fresh copy of the checkout (the files git tracks, and
nothing a previous run left), its shell blocks in order in one shell from the project root.

Two commands are stood in for, because the suite cannot nest itself or wait minutes: ``nox -s
bench`` runs the same ``codec-bench run`` in-process layers on one round of the built-in
``histories`` corpus with the test's Python and the copy's code, and leaves
``.nox/bench/bin/codec-bench`` where nox would; ``nox -s tests`` and ``pip install`` are checked
(the session exists, the paths exist) rather than run. Every other command runs as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
BENCH_PINS = "--rounds 1 --corpus histories --no-client --no-reading"
PRELUDE = f"""
set -euo pipefail
pip() {{
  [ "$1" = install ] || return 1; shift
  for arg in "$@"; do
    case "$arg" in ./*|.) test -e "${{arg%%\\[*}}";; nox) ;; *) return 1;; esac
  done
}}
nox() {{
  [ "$1" = -s ] && grep -q "^def $2(" noxfile.py || return 1
  if [ "$2" = bench ]; then
    mkdir -p .nox/bench/bin
    printf '#!/bin/sh\\nexec "%s" -m bench.cli "$@"\\n' "{sys.executable}" \\
      > .nox/bench/bin/codec-bench
    chmod +x .nox/bench/bin/codec-bench
    shift 2; if [ "${{1:-}}" = -- ]; then shift; fi
    if [ $# -eq 0 ]; then set -- --profile quick; fi  # the session's default
    .nox/bench/bin/codec-bench run "$@" {BENCH_PINS}
  fi
}}
"""


def _fresh_copy(into: Path) -> Path:
    """The tracked files of the checkout as they are now: what a clone of this tree holds."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


@pytest.mark.temporal
def test_the_readme_runs_in_order_in_a_fresh_copy(tmp_path: Path) -> None:
    clone = _fresh_copy(tmp_path / "clone")
    assert not (clone / "results" / "latest").exists()
    blocks = BLOCK.findall((clone / "README.md").read_text())
    assert blocks
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(clone), str(clone / "codecs" / "src")]),
    }
    done = subprocess.run(
        ["bash", "-c", PRELUDE + "\n".join(blocks)],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert (clone / "results" / "latest" / "report.html").is_file()
    assert "Traceback" not in done.stderr
