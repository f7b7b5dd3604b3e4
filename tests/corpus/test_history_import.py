"""Importing history exports finds exactly the payloads a codec would see."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from bench.cli import main
from bench.corpus.catalog import history_files
from bench.corpus.history import HistoryFormatError, extract, parse_histories
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from temporalio.api.history.v1 import History

from payload_codecs import CorpusReader, Keyring, from_spec
from tests.protowalk import walk_payloads

SEARCH_ATTRIBUTES = frozenset({"temporal.api.common.v1.SearchAttributes"})
ROOT = Path(__file__).resolve().parents[2]
SHARED = next(
    (
        folder / "corpora" / "histories"
        for folder in (
            *([Path(os.environ["SHARED_DIR"])] if os.environ.get("SHARED_DIR") else []),
            ROOT.parent / "shared",
            ROOT.parent.parent / "shared",
        )
        if (folder / "corpora" / "histories").is_dir()
    ),
    ROOT.parent / "shared" / "corpora" / "histories",
)
"""The project's ../shared folder (SHARED_DIR when the checkout lives elsewhere)."""
FILES = history_files()
LEGACY = {"sdk-go-gogoproto-payload-workflow.json", "sdk-go-version-loop-workflow-256.json"}


def test_the_bundled_histories_are_the_shared_ones_unchanged() -> None:
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED} is missing: CI must check the bundled copies against it")
        pytest.skip(f"{SHARED} is not here (outside CI the check is skipped)")
    for path in FILES:
        shared = SHARED / path.name
        assert (
            hashlib.sha256(shared.read_bytes()).digest()
            == hashlib.sha256(path.read_bytes()).digest()
        )
    assert len(FILES) == 6


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_import_finds_exactly_what_a_generic_walk_finds(path: Path) -> None:
    [history] = parse_histories(path.read_text(), path.name)
    found = extract(history)
    assert found.payloads == list(walk_payloads(history, exclude=SEARCH_ATTRIBUTES))
    everything = list(walk_payloads(history))
    assert found.skipped.get("search_attributes", 0) == len(everything) - len(found.payloads)
    assert found.payloads


def test_legacy_exports_need_the_sdk_translation_and_get_it() -> None:
    for path in FILES:
        document = json.loads(path.read_text())
        if path.name in LEGACY:
            with pytest.raises(ParseError):
                ParseDict(document, History())
        [history] = parse_histories(path.read_text(), path.name)
        assert len(history.events) == len(document["events"])
        assert all(event.event_type != 0 for event in history.events)  # no enum was dropped


def test_the_version_loop_history_has_search_attributes_to_skip() -> None:
    path = next(p for p in FILES if p.name == "sdk-go-version-loop-workflow-256.json")
    found = extract(parse_histories(path.read_text(), path.name)[0])
    assert len(found.payloads) == 651
    assert found.skipped["search_attributes"] == 119


def test_a_json_array_of_histories_is_imported_whole(tmp_path: Path) -> None:
    documents = [json.loads(path.read_text()) for path in FILES[:3]]
    combined = tmp_path / "three.json"
    combined.write_text(json.dumps(documents))
    out = tmp_path / "three.corpus"
    assert main(["corpus", "import", str(combined), "--out", str(out)]) == 0
    expected = sum(
        len(extract(parse_histories(p.read_text(), p.name)[0]).payloads) for p in FILES[:3]
    )
    with CorpusReader(out) as reader:
        assert len(list(reader)) == expected
        assert reader.provenance["sources"][0]["histories"] == 3
        assert reader.trailer is not None
        # Which workflow each payload came from, for evaluations that must not split one.
        workflows = reader.trailer["workflows"]
        assert [name for name, _ in workflows] == [f"three.json#{i}" for i in range(3)]
        assert sum(count for _, count in workflows) == expected


def _encrypted_export(tmp_path: Path, keyring: Keyring) -> tuple[Path, History]:
    path = next(p for p in FILES if p.name == "openai-agents-tools-workflow-history.json")
    [history] = parse_histories(path.read_text(), path.name)
    codec = from_spec("zstd:3+aes256gcm", keyring=keyring)
    encrypted = History()
    encrypted.CopyFrom(history)
    for payload in walk_payloads(encrypted):
        [encoded] = codec.encode_sync([payload])
        payload.CopyFrom(encoded)
    export = tmp_path / "encrypted.json"
    export.write_text(json.dumps(MessageToDict(encrypted)))
    return export, history


def test_an_import_that_keeps_nothing_is_an_error_that_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every payload encrypted and no --codec given: exit 2 and the way out, not an empty
    corpus and exit 0."""
    export, history = _encrypted_export(tmp_path, Keyring.generate("k1"))
    out = tmp_path / "skipped.corpus"
    assert main(["corpus", "import", str(export), "--out", str(out)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    count = len(list(walk_payloads(history)))
    assert f"every one was encoded by a codec ({count} binary/encrypted)" in line
    assert "pass --codec SPEC" in line
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["encrypted.json"]


def test_a_history_without_payloads_is_an_error_naming_what_was_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"events": [{"eventId": "1", "eventType": "WorkflowTaskStarted"}]}))
    assert main(["corpus", "import", str(bare), "--out", str(tmp_path / "c.corpus")]) == 2
    assert "no payloads found in the histories (skipped: nothing)" in capsys.readouterr().err


def test_an_input_cannot_be_its_own_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "h.json"
    export.write_bytes(FILES[0].read_bytes())
    before = export.read_bytes()
    assert main(["corpus", "import", str(export), "--out", str(export), "--force"]) == 2
    assert "is also an input" in capsys.readouterr().err
    assert export.read_bytes() == before


def test_json_nested_past_any_history_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"events": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert main(["corpus", "import", str(deep), "--out", str(tmp_path / "c.corpus")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "nests JSON deeper than any history does" in line


def test_encoded_payloads_are_decoded_with_the_codec_and_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = Keyring({"k1": bytes(range(32))}, active="k1")
    export, history = _encrypted_export(tmp_path, keyring)
    monkeypatch.setenv(
        "PAYLOAD_CODEC_KEYS", "k1=" + __import__("base64").b64encode(bytes(range(32))).decode()
    )
    out = tmp_path / "decoded.corpus"
    assert (
        main(["corpus", "import", str(export), "--codec", "zstd:3+aes256gcm", "--out", str(out)])
        == 0
    )
    with CorpusReader(out) as reader:
        assert list(reader) == list(walk_payloads(history))
        assert reader.provenance["decoded_with"] == "zstd:3@zstandard+aes256gcm"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "is not JSON"),
        ('{"workflowId": "x"}', "is not a Temporal history (no 'events' list)"),
        ("[1, 2]", "item 0 is not a Temporal history"),
        ("[]", "empty JSON array"),
        ('{"events": [{"eventId": "x"}]}', "is not a valid Temporal history"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "out.corpus"
    assert main(["corpus", "import", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.json"]


def test_an_existing_output_is_not_overwritten_without_force(tmp_path: Path) -> None:
    out = tmp_path / "c.corpus"
    out.write_bytes(b"precious")
    assert main(["corpus", "import", str(FILES[0]), "--out", str(out)]) == 2
    assert out.read_bytes() == b"precious"
    assert main(["corpus", "import", str(FILES[0]), "--out", str(out), "--force"]) == 0


def test_parse_errors_name_the_file() -> None:
    with pytest.raises(HistoryFormatError, match=r"my-export\.json"):
        parse_histories("{", "my-export.json")
