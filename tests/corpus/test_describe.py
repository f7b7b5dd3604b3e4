"""corpus describe: counts, buckets, encodings, skipped, provenance, and a JSON form."""

from __future__ import annotations

import json
from pathlib import Path

import bench
import pytest
from bench.cli import main


def _describe_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["corpus", "describe", *args, "--json"]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_describe_json_of_a_generated_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g.corpus"
    assert main(["corpus", "generate", "--count", "40", "--out", str(out)]) == 0
    capsys.readouterr()
    summary = _describe_json(capsys, str(out))
    assert summary["payload_count"] == 40
    buckets = summary["buckets"]
    assert isinstance(buckets, dict)
    assert sum(b["count"] for b in buckets.values()) == 40
    assert summary["total_bytes"] == sum(b["bytes"] for b in buckets.values())
    assert summary["provenance"] == {
        "kind": "synthetic",
        "generator": "bench.corpus.synthetic",
        "seed": 0,
        "count": 40,
        "mix": {
            "small-json": 40,
            "medium-json": 15,
            "large-json": 2,
            "log-text": 12,
            "base64-json": 8,
            "protobuf": 15,
            "random-bytes": 8,
        },
        "buckets": None,
        "tool_version": bench.__version__,
    }
    ratio = summary["zstd1_ratio"]
    assert isinstance(ratio, float)
    assert ratio > 1.0


def test_describe_a_built_in_corpus_shows_skipped_search_attributes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = _describe_json(capsys, "histories")
    assert summary["payload_count"] == 781
    assert summary["skipped"] == {"search_attributes": 119}
    encodings = summary["encodings"]
    assert isinstance(encodings, dict)
    assert encodings["json/plain"] > 0


def test_describe_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "describe", "histories"]) == 0
    text = capsys.readouterr().out
    assert "payloads      781" in text
    assert "search_attributes: 119" in text


def test_describe_an_unknown_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "describe", "nope"]) == 2
    assert capsys.readouterr().err.strip() == (
        "codec-bench: error: no corpus 'nope': not a built-in name (synthetic, histories, "
        "classic, sizes, large) "
        "and no such file"
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: raw[: len(raw) // 2], "is truncated"),
        (lambda raw: raw[:-300] + bytes([raw[-300] ^ 1]) + raw[-299:], "is corrupted"),
        (lambda raw: raw.replace(b'"version": 1', b'"version": 9', 1), "is format version 9"),
        (lambda raw: b"{}" + raw, "is not a codec-bench corpus file"),
    ],
    ids=["truncated", "bit-flip", "version", "not-a-corpus"],
)
def test_damaged_corpora_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object, message: str
) -> None:
    good = tmp_path / "good.corpus"
    assert main(["corpus", "generate", "--count", "20", "--out", str(good)]) == 0
    bad = tmp_path / "bad.corpus"
    bad.write_bytes(damage(good.read_bytes()))  # type: ignore[operator]
    capsys.readouterr()
    assert main(["corpus", "describe", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.strip().splitlines()
    assert line.startswith(f"codec-bench: error: corpus {bad} ")
    assert message in line


def test_the_histories_digest_is_the_same_in_every_process() -> None:
    """Payload order follows the history (events, then fields, map keys sorted), never a
    protobuf map's iteration order, which differs between processes."""
    import json
    import os
    import subprocess
    import sys

    from tests.processes import ROOT

    digests = set()
    for seed in ("0", "1", "12345"):
        done = subprocess.run(
            [sys.executable, "-m", "bench.cli", "corpus", "describe", "histories", "--json"],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(json.loads(done.stdout)["sha256"])
    from bench.corpus import catalog

    assert digests == {catalog.load("histories").digest}  # what results record
