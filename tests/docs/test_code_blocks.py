"""Every code block of the README, the library's README and the docs site runs: shell blocks in
bash (setup lines checked rather than run: ``pip install`` paths exist, ``nox`` sessions exist),
the harness's commands for real with small runs pinned where a block measures, and Python
snippets against a real dev server. ``text`` blocks are output or long-running servers, which
``tests/codecs/test_server_with_the_*.py`` start on free ports instead."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bench.run import run
from bench.temporal.devserver import DevServer

from tests.run.options import in_process

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "codecs" / "README.md", *(ROOT / "docs").rglob("*.md")]
)
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
PINNED = (
    "--client-rounds 1 --client-per-bucket 1 --concurrency 1 --reading-rounds 1 --history-size 4 "
    "--no-ui --no-storage"
)
"""Appended to every ``codec-bench run`` of the docs, after the block's own flags so these win
(the block's flags are still parsed and checked), with one round (two runs of two rounds for
the CI profile: a series' gate needs two runs a side), one codec and the ``histories`` corpus
(small payloads: the quickest to measure) where the block names none, and no reading layer
unless the block sets one of its flags (tests/layers/test_reading.py measures it): the test
checks that a block runs, not what it measures."""
PRELUDE = f"""
set -euo pipefail
nox() {{ [ "$1" = -s ] && grep -q "^def $2(" "{ROOT}/noxfile.py"; }}
pip() {{ for arg in "$@"; do case "$arg" in ./*|.) test -e "{ROOT}/${{arg%%\\[*}}";; esac; done; }}
pytest-benchmark() {{ "{sys.executable}" -m pytest_benchmark "$@"; }}
codec-bench() {{
  if [ "$1" = run ]; then
    shift; pins=(--rounds 1); case " $* " in *" --profile ci "*) pins=(--rounds 2 --runs 2);; esac
    case " $* " in *" --codec "*) ;; *) pins+=(--codec zstd:3);; esac
    case " $* " in *" --corpus "*) ;; *) pins+=(--corpus histories);; esac
    case " $* " in *" --reading"*|*" --history-size "*|*" --codec-endpoint "*|*" --ui-url "*) ;;
      *) pins+=(--no-reading);; esac
    "{sys.executable}" -m bench.cli run "$@" "${{pins[@]}}" {PINNED}
  else "{sys.executable}" -m bench.cli "$@"; fi
}}
"""
NOX_COMMAND = re.compile(r"\.nox/\w+/bin/codec-bench")
"""Where ``nox -s bench`` installs the command; here the test's own environment runs it."""


def _blocks(language: str) -> list[tuple[str, str]]:
    return [
        (f"{path.relative_to(ROOT)}#{index}", body)
        for path in DOCUMENTS
        for index, (lang, body) in enumerate(BLOCK.findall(path.read_text()))
        if lang == language
    ]


SHELL = _blocks("sh")
PYTHON = _blocks("python")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder like a checkout after a run: the reference run, and a latest run (one round of
    zstd:3 and zstd:3 with AES-GCM on the reference's ``sizes`` corpus, in process: rows in
    common, an encrypting codec for ``--must-encrypt``, seconds to compare)."""
    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "results" / "reference", folder / "results" / "reference")
    options = in_process(folder / "results" / "latest", codec="zstd:3")
    options = dataclasses.replace(options, codecs=("zstd:3", "zstd:3+aes256gcm"))
    assert run(options).failure is None
    return folder


def _env(dev_server: DevServer) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "codecs" / "src")]),
        "PAYLOAD_CODEC_KEYS": f"docs={base64.b64encode(bytes(range(32))).decode()}",
        "TEMPORAL_ADDRESS": dev_server.address,
    }


def _localised(text: str, dev_server: DevServer) -> str:
    for placeholder in ("temporal.internal:7233", "localhost:7233", "HOST:7233"):
        text = text.replace(placeholder, dev_server.address)
    return NOX_COMMAND.sub("codec-bench", text)


@pytest.mark.temporal
@pytest.mark.parametrize(("where", "block"), SHELL, ids=[where for where, _ in SHELL])
def test_every_shell_block_runs(
    where: str, block: str, workdir: Path, dev_server: DevServer
) -> None:
    script = PRELUDE + _localised(block, dev_server)
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
    report = f"{where}\n{block}\n{done.stderr[-3000:]}"
    if done.returncode == 1 and "--fail-on-regression" in script:
        # The gate's own verdict on two noisy runs of identical code, not a failure to run.
        assert "codec-bench: regression:" in done.stderr, report
        assert "Traceback" not in done.stderr, report
    else:
        assert done.returncode == 0, report


@pytest.mark.temporal
@pytest.mark.parametrize(("where", "block"), PYTHON, ids=[where for where, _ in PYTHON])
def test_every_python_snippet_runs(
    where: str,
    block: str,
    workdir: Path,
    dev_server: DevServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYLOAD_CODEC_KEYS", _env(dev_server)["PAYLOAD_CODEC_KEYS"])
    monkeypatch.chdir(workdir)
    source = _localised(block, dev_server)
    namespace: dict[str, object] = {}
    if "await " not in source:  # as a script runs it
        exec(source, namespace)
        return
    body = textwrap.indent(source, "    ")
    exec(f"async def _snippet():\n{body}\n    return locals()", namespace)
    asyncio.run(namespace["_snippet"]())  # type: ignore[operator]


@pytest.mark.parametrize("path", [ROOT / "README.md", ROOT / "codecs" / "README.md"], ids=str)
def test_every_relative_link_of_a_readme_names_a_file(path: Path) -> None:
    """The docs site checks its own links (``nox -s docs`` is strict); the READMEs are read on
    their own, outside it."""
    targets = [t for t in LINK.findall(path.read_text()) if "://" not in t]
    assert targets
    assert [t for t in targets if not (path.parent / t).exists()] == []


def test_the_readme_stays_a_front_door() -> None:
    assert len((ROOT / "README.md").read_bytes()) <= 10 * 1024
