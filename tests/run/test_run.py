"""codec-bench run end to end: what it writes, how it fails, and how it stops."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import lz4
import pytest
from bench.cli import main

from payload_codecs import CorpusReader, from_spec
from tests.processes import start_cli, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_a_run_writes_results_csv_and_report(run_folder: Path) -> None:
    names = {p.name for p in run_folder.iterdir()}
    assert {"results.json", "results.csv", "report.md", "report.html"} <= names
    assert any(name.endswith(".png") for name in names)
    document = json.loads((run_folder / "results.json").read_text())
    assert document["interrupted"] is False
    assert document["rounds_completed"] == 3
    rows = {(c["layer"], c["codec"]) for c in document["cases"]}
    assert rows == {
        ("codec", "none"),
        # zstd:3 is also the noise-floor codec: measured twice, as replicas A and B
        ("codec", "zstd:3@zstandard (A)"),
        ("codec", "zstd:3@zstandard (B)"),
        ("codec", "lz4:1@lz4+aes256gcm"),
        ("raw", "zstd:3@zstandard (A)"),
        ("raw", "zstd:3@zstandard (B)"),
        ("raw", "lz4:1@lz4"),
        ("raw", "aes256gcm"),
        ("reference", "bz2"),
        ("reference", "lzma"),
    }
    env = document["environment"]
    assert env["native"]["libzstd (zstandard)"]
    assert env["native"]["liblz4 (python-lz4)"] == lz4.library_version_string()
    assert env["packages"]["cramjam"]
    case = document["cases"][0]
    assert len(case["samples"]["encode_ns"]) == 3
    assert len(case["samples"]["encode_ns"][0]) == 24


def test_results_hold_no_key_material(run_folder: Path) -> None:
    """The run's AES key is random and stays in its keyring: the only 32-byte values written
    are sha256 digests of the corpus and its sources, and no base64 key appears."""
    document = json.loads((run_folder / "results.json").read_text())
    digests = {corpus["digest"] for corpus in document["corpora"]}
    digests |= {
        source["sha256"]
        for corpus in document["corpora"]
        for source in corpus["provenance"].get("sources", [])
    }
    for path in run_folder.iterdir():
        if path.suffix in {".json", ".csv", ".md", ".html"}:
            text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", path.read_text())
            assert set(re.findall(r"[0-9a-f]{64}", text)) <= digests, path.name
            assert not re.search(r"[A-Za-z0-9+/]{43}=", text), path.name


def test_a_round_trip_mismatch_fails_the_run(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "broken"
    code = main(
        [
            "run",
            "--codec",
            "tests.run.custom_codecs:corrupting",
            "--corpus",
            str(small_corpus),
            "--rounds",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "tests.run.custom_codecs:corrupting" in err
    assert "did not round-trip byte for byte" in err
    assert not (out / "results.json").exists()


def test_a_codec_that_breaks_after_calibration_fails_the_run(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every measured round checks every round trip, not only the warm-up."""
    out = tmp_path / "broken-later"
    codec = "tests.run.custom_codecs:breaks_after_calibration"
    argv = ["run", "--codec", codec, "--corpus", str(small_corpus), "--rounds", "2"]
    assert main([*argv, "--no-client", "--no-reading", "--out", str(out)]) == 1
    assert "did not round-trip byte for byte" in capsys.readouterr().err
    assert not (out / "results.json").exists()


@pytest.mark.parametrize(
    ("codec", "message"),
    [
        ("tests.run.custom_codecs:missing", "cannot load codec factory"),
        ("no_such_module:factory", "cannot load codec factory"),
        ("tests.run.custom_codecs:not_a_codec", "not a temporalio.converter.PayloadCodec"),
        ("zstd:42", "valid levels"),
    ],
)
def test_bad_codecs_are_one_line_errors(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], codec: str, message: str
) -> None:
    assert (
        main(["run", "--codec", codec, "--corpus", str(small_corpus), "--out", str(tmp_path / "x")])
        == 2
    )
    assert message in capsys.readouterr().err


def test_a_non_empty_output_folder_is_not_overwritten(run_folder: Path, small_corpus: Path) -> None:
    before = (run_folder / "results.json").read_bytes()
    assert (
        main(["run", "--codec", "zstd:3", "--corpus", str(small_corpus), "--out", str(run_folder)])
        == 2
    )
    assert (run_folder / "results.json").read_bytes() == before


def test_ctrl_c_keeps_what_was_measured_marked_interrupted(
    small_corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "interrupted"
    process = start_cli(
        [
            "run",
            "--codec",
            "zstd:3",
            "--corpus",
            str(small_corpus),
            "--rounds",
            "100000",
            "--out",
            str(out),
            "--no-client",
            "--no-reading",
        ]
    )
    assert process.stderr is not None
    assert process.stderr.readline().startswith("measuring ")
    # A progress line every 5 s names the round then under way: any after the first one
    wait_for(process, re.compile(r"round ([2-9]|\d{2,}):"))
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted after" in err
    document = json.loads((out / "results.json").read_text())
    assert document["interrupted"] is True
    assert 1 <= document["rounds_completed"] < 100000
    assert (out / "report.html").exists()
    assert "This run was interrupted" in (out / "report.md").read_text()


def test_an_empty_corpus_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from payload_codecs import CorpusWriter

    empty = tmp_path / "empty.corpus"
    with CorpusWriter(empty, {"kind": "test"}):
        pass
    assert (
        main(["run", "--codec", "zstd:3", "--corpus", str(empty), "--out", str(tmp_path / "x")])
        == 2
    )
    assert "corpus empty holds no payloads" in capsys.readouterr().err


def test_results_latest_points_at_the_newest_run_in_the_default_place(
    tmp_path: Path,
    small_corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["run", "--codec", "zstd:3", "--corpus", str(small_corpus), "--rounds", "1"]
    argv += ["--no-client", "--no-reading"]
    latest = tmp_path / "results" / "latest"
    for _ in range(2):
        assert main(argv) == 0
        newest = max((tmp_path / "results").glob("2*"), key=lambda p: p.stat().st_mtime)
        assert latest.resolve() == newest.resolve()
        assert (latest / "results.json").is_file()
    assert len(list((tmp_path / "results").glob("2*"))) == 2
    # A folder of the user's own named latest is never replaced.
    latest.unlink()
    latest.mkdir()
    (latest / "mine.txt").write_text("keep")
    capsys.readouterr()
    assert main(argv) == 0
    assert (latest / "mine.txt").read_text() == "keep"
    assert "was not pointed at this run" in capsys.readouterr().err


def test_a_corpus_larger_than_the_sample_is_timed_on_it_and_sized_whole(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "many.corpus"
    argv = ["corpus", "generate", "--count", "300", "--seed", "5", "--out", str(corpus)]
    assert main([*argv, "--buckets", "<1KiB,1-16KiB"]) == 0
    out = tmp_path / "run"
    argv = ["run", "--codec", "zstd:3", "--corpus", str(corpus), "--rounds", "1"]
    argv += ["--sample", "40", "--out", str(out), "--no-client", "--no-reading"]
    assert main(argv) == 0
    document = json.loads((out / "results.json").read_text())
    [info] = document["corpora"]
    sample, whole = info["sample"], info["whole"]
    assert sample["population"] == whole["payloads"] == 300
    assert 40 <= sample["size"] == info["payload_count"] < 40 + 5 * len(sample["strata"])
    assert sample["seed"] == 1
    assert sum(s["sampled"] for s in sample["strata"].values()) == sample["size"]
    case = next(c for c in document["cases"] if c["layer"] == "codec" and c["codec"] != "none")
    assert len(case["samples"]["encode_ns"][0]) == sample["size"]
    # the whole corpus's sizes, exact: what encoding every payload gives
    every = list(CorpusReader(corpus))
    expected = sum(p.ByteSize() for p in from_spec("zstd:3").encode_sync(every))
    assert whole["encoded"]["zstd:3@zstandard (A)"] == expected
    assert whole["encoded"]["none"] == whole["bytes"] == sum(p.ByteSize() for p in every)
    # and are what the codec layer's all-payloads sizes say, while its timings are the sample's
    assert case["summary"]["all"]["encoded_bytes"] == expected
    assert case["summary"]["all"]["ratio"] == pytest.approx(whole["bytes"] / expected)
    report = (out / "report.md").read_text()
    assert f"Timed on a sample: {sample['size']:,} of the corpus's 300 payloads" in report
    assert "Sizes over every payload of the corpus (300 payloads" in report
    assert len(sample["stratum_of_each"]) == sample["size"]
    # time per payload over the corpus, estimated stratum by stratum, for every codec row
    assert "Time per payload over the whole corpus, estimated from the sample" in report
    assert report.count(" ± ") >= 2 * 3  # none, zstd:3 (A) and (B), encode and decode
