"""The recording codec samples what a worker encodes into a corpus, off the event loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from payload_codecs import CorpusReader, RecordingCodec, from_spec

PAYLOADS = [
    Payload(metadata={"encoding": b"json/plain"}, data=b'{"i": %d}' % i) for i in range(400)
]


def _recorded(path: Path) -> list[Payload]:
    with CorpusReader(path) as reader:
        return list(reader)


def _run(
    codec: RecordingCodec, payloads: list[Payload], direction: str = "encode"
) -> list[Payload]:
    async def go() -> list[Payload]:
        out: list[Payload] = []
        for payload in payloads:
            if direction == "encode":
                out.extend(await codec.encode([payload]))
            else:
                out.extend(await codec.decode([payload]))
        return out

    return asyncio.run(go())


def test_rate_one_records_every_payload_in_order(tmp_path: Path) -> None:
    codec = RecordingCodec(tmp_path / "r.corpus", rate=1.0)
    assert _run(codec, PAYLOADS) == PAYLOADS
    codec.close()
    assert _recorded(tmp_path / "r.corpus") == PAYLOADS


def test_a_partial_rate_records_about_that_share(tmp_path: Path) -> None:
    codec = RecordingCodec(tmp_path / "r.corpus", rate=0.25, seed=11)
    _run(codec, PAYLOADS)
    codec.close()
    recorded = _recorded(tmp_path / "r.corpus")
    # 400 draws at p=0.25: mean 100, standard deviation 8.7
    assert 70 <= len(recorded) <= 130
    assert all(payload in PAYLOADS for payload in recorded)


def test_the_inner_codec_still_encodes_and_the_plain_payload_is_recorded(tmp_path: Path) -> None:
    inner = from_spec("zstd:3")
    codec = RecordingCodec(tmp_path / "r.corpus", inner=inner, rate=1.0)
    big = [Payload(metadata={"encoding": b"json/plain"}, data=b"abc" * 1000)]
    encoded = _run(codec, big)
    assert encoded[0].metadata["encoding"] == b"binary/zstd"
    assert _run(codec, encoded, direction="decode") == big
    codec.close()
    assert _recorded(tmp_path / "r.corpus") == big


def test_decode_direction_records_what_the_worker_receives(tmp_path: Path) -> None:
    inner = from_spec("zstd:3", options=None)
    codec = RecordingCodec(tmp_path / "r.corpus", inner=inner, rate=1.0, direction="decode")
    big = [Payload(metadata={"encoding": b"json/plain"}, data=b"xyz" * 1000)]
    encoded = asyncio.run(inner.encode(big))
    _run(codec, big)  # encoding is not recorded in this direction
    assert _run(codec, encoded, direction="decode") == big
    codec.close()
    assert _recorded(tmp_path / "r.corpus") == big


def test_caps_stop_recording_and_complete_the_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "r.corpus"
    codec = RecordingCodec(path, rate=1.0, max_payloads=10)
    _run(codec, PAYLOADS)
    deadline = time.monotonic() + 10  # the writer completes the file by itself at the cap
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _recorded(path) == PAYLOADS[:10]
    codec.close()
    by_bytes = RecordingCodec(tmp_path / "b.corpus", rate=1.0, max_bytes=PAYLOADS[0].ByteSize() * 3)
    _run(by_bytes, PAYLOADS)
    by_bytes.close()
    assert len(_recorded(tmp_path / "b.corpus")) == 3


def test_rate_zero_records_nothing_but_still_writes_a_valid_corpus(tmp_path: Path) -> None:
    codec = RecordingCodec(tmp_path / "r.corpus", rate=0.0)
    _run(codec, PAYLOADS[:5])
    codec.close()
    codec.close()
    assert _recorded(tmp_path / "r.corpus") == []


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"rate": 1.5}, "rate"), ({"direction": "up"}, "direction")]
)
def test_bad_options_are_rejected(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RecordingCodec(tmp_path / "r.corpus", **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


_FULL_DISK = r"""
import asyncio, json, os, resource, signal, sys
from temporalio.api.common.v1 import Payload
from payload_codecs import RecordingCodec, RecordingError, from_spec

# A file-size limit stands in for a full disk: writes past it fail with EFBIG, as they would
# with ENOSPC, and the default action of SIGXFSZ (killing us) is turned off.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
folder = sys.argv[1]
codec = RecordingCodec(os.path.join(folder, "r.corpus"), inner=from_spec("zstd"), rate=1.0)
payload = Payload(metadata={"encoding": b"binary/plain"}, data=os.urandom(4096))


async def go():
    encoded = []
    for _ in range(2000):
        encoded += await codec.encode([payload])
        await asyncio.sleep(0)
    return encoded


encoded = asyncio.run(go())
decoded = asyncio.run(from_spec("zstd").decode(encoded))
try:
    codec.close()
    closed = "no error"
except RecordingError as error:
    closed = str(error)
print(json.dumps({
    "closed": closed, "recorded": codec.recorded, "queued": codec._queue.qsize(),
    "round_trip": decoded == [payload] * 2000, "files": sorted(os.listdir(folder)),
}))
"""


def test_a_full_disk_stops_recording_cleanly_and_close_reports_it(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    path = tmp_path / "r.corpus"
    assert report["closed"].startswith(f"recording to {path} failed: File too large")
    assert "the partial corpus was removed" in report["closed"]
    assert report["files"] == []  # no corpus, no .partial
    assert report["queued"] == 0
    assert report["round_trip"] is True  # the inner codec kept working
    assert report["recorded"] < 2000  # sampling stopped once the write failed
    assert done.stderr.count("recording to") == 1  # one warning


def test_a_rotating_recording_keeps_the_newest_files_within_its_disk_budget(
    tmp_path: Path,
) -> None:
    """400 payloads of about 12 bytes, a new file every 600 bytes, three kept: the recording
    never stops, the files on disk are the three newest before the last (complete, in order),
    and the last payload recorded is in the last file."""
    codec = RecordingCodec(tmp_path / "r.corpus", rate=1.0, rotate_bytes=600, keep_files=3)
    _run(codec, PAYLOADS)
    codec.close()
    files = sorted(tmp_path.glob("r.*.corpus"))
    assert len(files) == 4  # three complete ones kept, and the one being written at close
    numbers = [int(f.suffixes[0].lstrip(".")) for f in files]
    assert numbers == list(range(numbers[0], numbers[0] + 4))
    assert numbers[0] > 1  # the oldest were deleted
    recorded = [p for f in files for p in _recorded(f)]
    assert recorded == PAYLOADS[-len(recorded) :]
    for path in files[:-1]:
        assert 600 <= sum(p.ByteSize() for p in _recorded(path)) < 600 + 20
        with CorpusReader(path) as reader:
            assert reader.provenance["kind"] == "recording"
    assert not (tmp_path / "r.corpus").exists()


def test_rotation_needs_a_size_and_files_to_keep(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rotate_bytes and keep_files"):
        RecordingCodec(tmp_path / "r.corpus", rotate_bytes=0)
