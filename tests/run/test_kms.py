"""A run with envelope encryption: the harness starts a local KMS (moto) behind a delay, measures
what the KMS costs beside static keys, reports it, stops the KMS, and recommend turns the
figures into KMS calls a second against the quota."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from bench.cli import main

from tests.processes import start_cli

DELAY_MS = 20


@pytest.fixture(scope="module")
def kms_run(tmp_path_factory: pytest.TempPathFactory, small_corpus: Path) -> tuple[Path, str]:
    """A run of static and envelope encryption, its KMS 20 ms away; its folder and stderr."""
    out = tmp_path_factory.mktemp("kms-run")
    argv = ["run", "--codec", "aes256gcm", "--codec", "zstd:3+envelope@aws-kms"]
    argv += ["--corpus", str(small_corpus), "--rounds", "1", "--out", str(out), "--force"]
    argv += ["--no-client", "--no-reading", "--kms-delay-ms", str(DELAY_MS)]
    process = start_cli(argv, env={"PAYLOAD_CODEC_KMS_KEY_ID": ""})
    _, stderr = process.communicate(timeout=240)
    assert process.returncode == 0, stderr
    return out, stderr


def test_the_run_measures_cold_and_warm_kms_costs_beside_static_keys(
    kms_run: tuple[Path, str],
) -> None:
    out, stderr = kms_run
    document = json.loads((out / "results.json").read_text())
    kms = document["layers"]["kms"]
    assert kms["delay_ms"] == DELAY_MS
    envelope = kms["codec"]["zstd:3@zstandard+envelope@aws-kms"]
    static = kms["codec"]["aes256gcm"]
    assert envelope["generate_per_1000"] == 1  # one data key for the 1,000 payloads
    assert envelope["unwrap_per_1000"] == 1
    assert envelope["cold_encode_ms"] >= DELAY_MS  # the first call waited for the KMS
    assert envelope["cold_decode_ms"] >= DELAY_MS
    assert static["generate_per_1000"] == static["unwrap_per_1000"] == 0
    assert envelope["policy"]["max_payloads"] == 1 << 20
    assert "codec" in {case["layer"] for case in document["cases"]}
    report = (out / "report.md").read_text()
    assert "## Key management service" in report
    assert f"{DELAY_MS} ms added to each call" in report
    [pid] = re.findall(r"started local KMS \(moto\) pid (\d+)", stderr)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)  # stopped with the run


def test_recommend_must_encrypt_puts_the_kms_load_against_the_quota(
    kms_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    results = str(kms_run[0] / "results.json")
    main(["recommend", results, "--must-encrypt", "--processes", "100", "--volume-gb", "1000"])
    shown = capsys.readouterr().out
    assert "## Key management service" in shown
    # 100 processes, keys kept 300 s: 100/300 made and 100 x 100/300 unwrapped a second.
    assert "about 0.333 GenerateDataKey and 33.3 Decrypt calls a second, 0.34 %" in shown
    main(["recommend", results])
    assert "Key management service" not in capsys.readouterr().out


def test_a_kms_delay_without_an_envelope_codec_is_refused_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["run", "--codec", "zstd:3", "--no-client", "--kms-delay-ms", "5"])
    assert code == 2
    assert "--kms-delay-ms delays the local KMS of envelope@aws-kms codecs; none is run" in (
        capsys.readouterr().err
    )
