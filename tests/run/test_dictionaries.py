"""A trained dictionary through every layer of a run: in-process, a real client, server and
worker, and histories read back by the temporal CLI through the codec server, all loading the
run's --dictionaries folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.cli import main
from bench.temporal.devserver import DevServer

pytestmark = pytest.mark.temporal


def test_a_dictionary_spec_is_measured_in_every_layer(
    dev_server: DevServer, tmp_path: Path
) -> None:
    folder = tmp_path / "dicts"
    train = ["dict", "train", "histories", "--name", "h", "--out", str(folder), "--size", "8KiB"]
    assert main(train) == 0
    out = tmp_path / "run"
    argv = ["run", "--codec", "zstd:3:dict=h", "--codec", "zstd:3:dict=h+aes256gcm"]
    argv += ["--corpus", "histories", "--dictionaries", str(folder), "--no-storage"]
    argv += ["--rounds", "1", "--client-rounds", "1", "--client-per-bucket", "1"]
    argv += ["--concurrency", "1", "--reading-rounds", "1", "--history-size", "10", "--no-ui"]
    assert main([*argv, "--address", dev_server.address, "--out", str(out)]) == 0
    document = json.loads((out / "results.json").read_text())
    labels = {"zstd:3:dict=h@zstandard", "zstd:3:dict=h@zstandard+aes256gcm"}
    for layer in ("raw", "codec", "client", "reading"):
        found = {c["codec"] for c in document["cases"] if c["layer"] == layer}
        # The raw layer times each stage on its own: the compressor with its dictionary.
        wanted = {"zstd:3:dict=h@zstandard"} if layer == "raw" else labels
        assert wanted <= found, (layer, found)
    for case in document["cases"]:
        if case["codec"] in labels and case["layer"] == "client":
            assert case["samples"]["errors"] == 0  # the worker decoded with the same set
        if case["codec"] in labels and case["layer"] == "reading" and "show_ns" in case["samples"]:
            assert case["samples"]["errors"] == 0  # so did the codec server
            assert case["samples"]["show_requests"][0] > 0
