"""Every command and snippet of the README runs: shell blocks in bash (setup lines checked rather
than run: ``pip install`` paths exist, ``nox`` sessions exist), the harness's commands for real
with one round where a block measures, and Python snippets against a real dev server."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bench.temporal.devserver import DevServer

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)
FAST = (
    "--client-rounds 1 --client-per-bucket 1 --concurrency 1 --reading-rounds 1 --history-size 4 "
    "--no-ui"
)
"""Added to every ``codec-bench run`` of the README, with one round (five for the CI profile,
the fewest the regression gate judges, on its smallest corpus): the test checks that it runs,
not what it measures."""
PRELUDE = f"""
set -euo pipefail
nox() {{ [ "$1" = -s ] && grep -q "^def $2(" "{ROOT}/noxfile.py"; }}
pip() {{ for arg in "$@"; do case "$arg" in ./*|.) test -e "{ROOT}/${{arg%%\\[*}}";; esac; done; }}
pytest-benchmark() {{ "{sys.executable}" -m pytest_benchmark "$@"; }}
codec-bench() {{
  if [ "$1" = run ]; then
    shift; rounds=(--rounds 1); case " $* " in *" --profile ci "*)
      rounds=(--rounds 5 --corpus histories);; esac
    "{sys.executable}" -m bench.cli run "${{rounds[@]}}" {FAST} "$@"
  else "{sys.executable}" -m bench.cli "$@"; fi
}}
"""


def blocks(language: str) -> list[str]:
    return [
        body for lang, body in BLOCK.findall((ROOT / "README.md").read_text()) if lang == language
    ]


pytestmark = pytest.mark.temporal


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, dev_server: DevServer) -> Path:
    """A folder like a checkout after a run: the reference run, and a latest run."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "results" / "reference", folder / "results" / "reference")
    shutil.copytree(ROOT / "results" / "reference", folder / "results" / "latest")
    return folder


def _env(dev_server: DevServer) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "codecs" / "src")]),
        "PAYLOAD_CODEC_KEYS": f"readme={base64.b64encode(bytes(range(32))).decode()}",
        "TEMPORAL_ADDRESS": dev_server.address,
    }


def _localised(text: str, dev_server: DevServer) -> str:
    for placeholder in ("temporal.internal:7233", "localhost:7233", "HOST:7233"):
        text = text.replace(placeholder, dev_server.address)
    return text


@pytest.mark.parametrize("index", range(len(blocks("sh"))))
def test_every_shell_block_runs(index: int, workdir: Path, dev_server: DevServer) -> None:
    script = PRELUDE + _localised(blocks("sh")[index], dev_server)
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=workdir,
        env=_env(dev_server),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    report = f"{blocks('sh')[index]}\n{done.stderr[-3000:]}"
    if done.returncode == 1 and "--fail-on-regression" in script:
        # The gate's own verdict on two noisy runs of identical code, not a failure to run.
        assert "codec-bench: regression:" in done.stderr, report
        assert "Traceback" not in done.stderr, report
    else:
        assert done.returncode == 0, report


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_every_python_snippet_runs(
    index: int, dev_server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYLOAD_CODEC_KEYS", _env(dev_server)["PAYLOAD_CODEC_KEYS"])
    source = _localised(blocks("python")[index], dev_server)
    body = textwrap.indent(source, "    ")
    namespace: dict[str, object] = {}
    exec(f"async def _snippet():\n{body}\n    return locals()", namespace)
    asyncio.run(namespace["_snippet"]())  # type: ignore[operator]
