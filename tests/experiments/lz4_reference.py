"""LZ4 in the raw layer against the C library's own benchmark, side by side on the same bytes:
``lz4 -b1 -i15`` (the lz4 command-line tool) and each implementation's Compressor (what the raw
layer times), best of 15, on 1 MiB blocks of the classic files in ``../shared/corpora/files``.
Also python-lz4's decode with and without the frame's content checksum.

    python -m tests.experiments.lz4_reference

A benchmark, not a test: it prints a table and asserts nothing.
"""

from __future__ import annotations

import lzma
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import lz4.frame

from payload_codecs._compression import Compressor, Lz4Cramjam, Lz4Lz4

ROOT = Path(__file__).resolve().parents[2]
FILES = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared")) / "corpora" / "files"
BLOCK = 1 << 20


def _best(work: Callable[[], object], repeats: int = 15) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _cli(block: bytes) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile(suffix=".blk") as file:
        file.write(block)
        file.flush()
        command = ["lz4", "-b1", "-i15", file.name]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    compress, decompress = re.findall(
        r"([\d.]+) MB/s ,\s*([\d.]+) MB/s", done.stdout + done.stderr
    )[-1]
    return float(compress), float(decompress)


def _ours(cls: type[Compressor], block: bytes) -> tuple[float, float]:
    compressor = cls(1)
    blob = compressor.compress(block)
    megabytes = len(block) / 1e6
    encode = _best(lambda: compressor.compress(block))
    decode = _best(lambda: compressor.decompress(blob, 1 << 30))
    return megabytes / encode, megabytes / decode


def main() -> None:
    print(
        "| block | lz4 -b1 compress / decompress MB/s | lz4@lz4 | lz4@cramjam "
        "| python-lz4 decode with / without content checksum |"
    )
    print("|---|---|---|---|---|")
    for name in ("kennedy.xls", "urls.10K"):
        block = lzma.decompress((FILES / f"{name}.xz").read_bytes())[:BLOCK]
        cli = _cli(block)
        cells = [f"{name} ({len(block):,} B)", f"{cli[0]:,.0f} / {cli[1]:,.0f}"]
        for cls in (Lz4Lz4, Lz4Cramjam):
            encode, decode = _ours(cls, block)
            cells.append(
                f"{encode:,.0f} / {decode:,.0f} ({encode / cli[0]:.0%} / {decode / cli[1]:.0%})"
            )
        megabytes = len(block) / 1e6
        rates = []
        for check in (True, False):
            frame: bytes = lz4.frame.compress(block, content_checksum=check)
            rates.append(megabytes / _best(partial(lz4.frame.decompress, frame)))
        cells.append(f"{rates[0]:,.0f} / {rates[1]:,.0f}")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
