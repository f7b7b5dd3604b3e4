"""The corpus file: streams in order, is written atomically, and names every defect clearly."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from payload_codecs import CORPUS_FORMAT_VERSION, CorpusFormatError, CorpusReader, CorpusWriter

PAYLOADS = [
    Payload(metadata={"encoding": b"json/plain"}, data=b'{"n": %d}' % i) for i in range(50)
] + [Payload(), Payload(metadata={"encoding": b"binary/plain"}, data=bytes(range(256)) * 40)]


def _write(path: Path, payloads: list[Payload] = PAYLOADS) -> Path:
    with CorpusWriter(path, {"kind": "test", "note": "unit"}) as writer:
        for payload in payloads:
            writer.write(payload)
        writer.skipped["search_attributes"] += 3
    return path


def test_payloads_come_back_in_order_with_provenance_and_skipped_counts(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.corpus")
    with CorpusReader(path) as reader:
        assert reader.header["version"] == CORPUS_FORMAT_VERSION
        assert reader.provenance == {"kind": "test", "note": "unit"}
        assert list(reader) == PAYLOADS
        assert reader.trailer is not None
        assert reader.trailer["payload_count"] == len(PAYLOADS)
        assert reader.trailer["total_bytes"] == sum(p.ByteSize() for p in PAYLOADS)
        assert reader.trailer["skipped"] == {"search_attributes": 3}


def test_reading_streams_one_record_at_a_time(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.corpus")
    with CorpusReader(path) as reader:
        stream = iter(reader)
        assert next(stream) == PAYLOADS[0]
        assert reader.trailer is None  # nothing beyond the first record was needed


def test_an_error_while_writing_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.corpus")
    before = path.read_bytes()

    def interrupted_write() -> None:
        with CorpusWriter(path, {"kind": "test"}) as writer:
            writer.write(PAYLOADS[0])
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        interrupted_write()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.corpus"]


def test_the_file_only_appears_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "c.corpus"
    writer = CorpusWriter(path, {"kind": "test"})
    writer.write(PAYLOADS[0])
    assert not path.exists()
    writer.close()
    assert path.exists()


def _read_all(path: Path) -> list[Payload]:
    with CorpusReader(path) as reader:
        return list(reader)


@pytest.mark.parametrize("keep", [0, 5, 8, 11, 40, 1000, -20, -1])
def test_truncated_files_are_reported(tmp_path: Path, keep: int) -> None:
    data = _write(tmp_path / "c.corpus").read_bytes()
    cut = tmp_path / "cut.corpus"
    cut.write_bytes(data[:keep])
    with pytest.raises(
        CorpusFormatError, match=r"cut\.corpus (is truncated|is not a codec-bench|is corrupted)"
    ):
        _read_all(cut)


def test_a_flipped_bit_in_a_payload_fails_its_checksum(tmp_path: Path) -> None:
    data = bytearray(_write(tmp_path / "c.corpus").read_bytes())
    data[-200] ^= 0x10  # inside the last large payload
    bad = tmp_path / "bad.corpus"
    bad.write_bytes(bytes(data))
    with pytest.raises(CorpusFormatError, match="fails its checksum"):
        _read_all(bad)


def test_data_after_the_end_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.corpus")
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(CorpusFormatError, match="data after its end"):
        _read_all(path)


def test_another_format_version_is_refused_with_advice(tmp_path: Path) -> None:
    raw = _write(tmp_path / "c.corpus").read_bytes()
    (length,) = struct.unpack("<I", raw[8:12])
    header = json.loads(raw[12 : 12 + length])
    header["version"] = CORPUS_FORMAT_VERSION + 1
    encoded = json.dumps(header).encode()
    other = tmp_path / "v2.corpus"
    other.write_bytes(raw[:8] + struct.pack("<I", len(encoded)) + encoded + raw[12 + length :])
    with pytest.raises(CorpusFormatError, match=f"format version {CORPUS_FORMAT_VERSION + 1}"):
        CorpusReader(other)


def test_other_files_are_not_corpora(tmp_path: Path) -> None:
    other = tmp_path / "history.json"
    other.write_text('{"events": []}')
    with pytest.raises(CorpusFormatError, match="is not a codec-bench corpus file"):
        CorpusReader(other)
    with pytest.raises(CorpusFormatError, match="cannot read corpus"):
        CorpusReader(tmp_path / "missing.corpus")


def test_writing_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusFormatError, match="does not exist"):
        CorpusWriter(tmp_path / "nope" / "c.corpus", {})


def test_corpus_files_are_private_to_their_owner(tmp_path: Path) -> None:
    # Recorded corpora can hold production data.
    assert _write(tmp_path / "c.corpus").stat().st_mode & 0o077 == 0


def test_a_corrupted_length_is_refused_before_anything_is_allocated(tmp_path: Path) -> None:
    """0xFFFFFFF0 bytes for a record in a file of a few hundred: refused from the file size,
    not by trying to read 4 GiB."""
    path = _write(tmp_path / "c.corpus", PAYLOADS[:1])
    data = bytearray(path.read_bytes())
    header_end = 8 + 4 + struct.unpack("<I", data[8:12])[0]
    data[header_end : header_end + 4] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    with CorpusReader(path) as reader, pytest.raises(CorpusFormatError, match="is truncated"):
        list(reader)


def test_a_writer_whose_name_is_a_folder_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    with pytest.raises(IsADirectoryError), CorpusWriter(folder, {"kind": "test"}) as writer:
        writer.write(PAYLOADS[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert list(folder.iterdir()) == []
