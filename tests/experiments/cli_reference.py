"""The raw layer's compressors against the C libraries' own benchmarks, side by side on the
same bytes: ``lz4 -b1`` and ``zstd -b3`` (the command-line tools, their best over about two
seconds) and each implementation's Compressor (what the raw layer times: best of 15 loops of
about 50 ms), in turn, twice, on 1 MiB blocks of classic files in ``../shared/corpora/files``.
Also python-lz4's decode with and without the frame's content checksum. Snappy has no
command-line reference here.

    python -m tests.experiments.cli_reference

A benchmark, not a test: it prints tables and asserts nothing.
"""

from __future__ import annotations

import lzma
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import lz4.frame

from payload_codecs._compression import (
    Compressor,
    Lz4Cramjam,
    Lz4Lz4,
    ZstdCramjam,
    ZstdZstandard,
)

ROOT = Path(__file__).resolve().parents[2]
FILES = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared")) / "corpora" / "files"
BLOCK = 1 << 20
BLOCKS = ("kennedy.xls", "urls.10K", "alice29.txt")
TOOLS: dict[str, tuple[int, tuple[type[Compressor], ...]]] = {
    "lz4": (1, (Lz4Lz4, Lz4Cramjam)),
    "zstd": (3, (ZstdZstandard, ZstdCramjam)),
}


def _best(work: Callable[[], object], repeats: int = 15, span: float = 0.05) -> float:
    """Best seconds per call, each sample a loop of calls lasting about ``span`` seconds, as
    the tools time theirs (one call alone is too short to time well on a shared host)."""
    started = time.perf_counter()
    work()
    calls = max(1, int(span / max(time.perf_counter() - started, 1e-6)))
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            work()
        best = min(best, (time.perf_counter() - started) / calls)
    return best


def _cli(tool: str, level: int, block: bytes) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile(suffix=".blk") as file:
        file.write(block)
        file.flush()
        # lz4's -i counts iterations (at most 9), zstd's seconds: about two seconds each.
        command = [tool, f"-b{level}", "-i9" if tool == "lz4" else "-i2", file.name]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    compress, decompress = re.findall(
        r"([\d.]+) MB/s\s*,\s*([\d.]+) MB/s", done.stdout + done.stderr
    )[-1]
    return float(compress), float(decompress)


def _ours(cls: type[Compressor], level: int, block: bytes) -> tuple[float, float]:
    compressor = cls(level)
    blob = compressor.compress(block)
    megabytes = len(block) / 1e6
    encode = _best(lambda: compressor.compress(block))
    decode = _best(lambda: compressor.decompress(blob, 1 << 30))
    return megabytes / encode, megabytes / decode


def _fastest(rates: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """The best compress and the best decompress rate of several runs."""
    encodes, decodes = zip(*rates, strict=True)
    return max(encodes), max(decodes)


def _blocks() -> list[tuple[str, bytes]]:
    found = []
    for name in BLOCKS:
        path = FILES / f"{name}.xz"
        if path.exists():
            found.append((name, lzma.decompress(path.read_bytes())[:BLOCK]))
    return found


def main() -> None:
    for tool, (level, classes) in TOOLS.items():
        names = " | ".join(f"{cls.__name__} (share of the CLI)" for cls in classes)
        print(f"\n| block | {tool} -b{level} compress / decompress MB/s | {names} |")
        print("|---|---|" + "---|" * len(classes))
        for name, block in _blocks():
            # Tool and library in turn, twice, each keeping its best: drift on a shared host
            # then hits both alike.
            runs = [
                (_cli(tool, level, block), [_ours(cls, level, block) for cls in classes])
                for _ in range(2)
            ]
            cli = _fastest(run[0] for run in runs)
            ours = [_fastest(run[1][index] for run in runs) for index in range(len(classes))]
            cells = [f"{name} ({len(block):,} B)", f"{cli[0]:,.0f} / {cli[1]:,.0f}"]
            for encode, decode in ours:
                cells.append(
                    f"{encode:,.0f} / {decode:,.0f} ({encode / cli[0]:.0%} / {decode / cli[1]:.0%})"
                )
            print("| " + " | ".join(cells) + " |")
    print("\n| block | python-lz4 decode MB/s with / without content checksum |")
    print("|---|---|")
    for name, block in _blocks():
        megabytes = len(block) / 1e6
        rates = []
        for check in (True, False):
            frame: bytes = lz4.frame.compress(block, content_checksum=check)
            rates.append(megabytes / _best(partial(lz4.frame.decompress, frame)))
        print(f"| {name} | {rates[0]:,.0f} / {rates[1]:,.0f} |")


if __name__ == "__main__":
    main()
