"""The raw layer's compressors against the C libraries' own benchmarks, side by side on the
same bytes: ``lz4 -b1`` and ``zstd -b3`` (the command-line tools, their best over about two
seconds) and each implementation's Compressor (what the raw layer times: best of 15 loops of
about 50 ms), in turn, twice, on 1 MiB blocks of the classic files in ``bench/data/classic/``.
Snappy's reference is Google's C++ library, compiled here from ``SNAPPY_REFERENCE`` (needs g++
and Debian's libsnappy-dev). Also python-lz4's decode with and without the frame's content
checksum.

    python -m experiments.cli_reference

A benchmark, not a test: it prints tables and asserts nothing.
"""

from __future__ import annotations

import lzma
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
    SnappyCramjam,
    SnappyRawCramjam,
    ZstdCramjam,
    ZstdZstandard,
)

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "bench" / "data" / "classic"
BLOCK = 1 << 20
BLOCKS = ("kennedy.xls", "urls.10K", "alice29.txt")
TOOLS: dict[str, tuple[int | None, tuple[type[Compressor], ...]]] = {
    "lz4": (1, (Lz4Lz4, Lz4Cramjam)),
    "zstd": (3, (ZstdZstandard, ZstdCramjam)),
    "snappy": (None, (SnappyCramjam, SnappyRawCramjam)),
}

# Snappy has no benchmarking tool in Debian: Google's C++ library (libsnappy-dev), timed the way
# lzbench and the lz4 and zstd tools time theirs (raw blocks, reused buffers, loops of about
# 50 ms, best of 15), printing what those tools print.
SNAPPY_REFERENCE = r"""
#include <snappy.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

template <class Work> static double best_seconds(Work work) {
  using clock = std::chrono::steady_clock;
  auto started = clock::now();
  work();
  double once = std::chrono::duration<double>(clock::now() - started).count();
  long calls = once > 0 ? static_cast<long>(0.05 / once) + 1 : 1000;
  double best = 1e30;
  for (int round = 0; round < 15; ++round) {
    started = clock::now();
    for (long call = 0; call < calls; ++call) work();
    double each = std::chrono::duration<double>(clock::now() - started).count() / calls;
    if (each < best) best = each;
  }
  return best;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::ifstream in(argv[1], std::ios::binary);
  std::string block((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<char> compressed(snappy::MaxCompressedLength(block.size()));
  std::vector<char> out(block.size());
  size_t length = 0;
  double c = best_seconds([&] {
    snappy::RawCompress(block.data(), block.size(), compressed.data(), &length);
  });
  double d = best_seconds([&] { snappy::RawUncompress(compressed.data(), length, out.data()); });
  std::printf("%.1f MB/s , %.1f MB/s\n", block.size() / c / 1e6, block.size() / d / 1e6);
  return 0;
}
"""


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


def _snappy_tool(folder: Path) -> Path:
    """The snappy reference, compiled into ``folder`` (needs g++ and libsnappy-dev)."""
    source = folder / "snappy_reference.cc"
    source.write_text(SNAPPY_REFERENCE)
    binary = folder / "snappy_reference"
    command = ["g++", "-O2", "-std=c++17", str(source), "-lsnappy", "-o", str(binary)]
    subprocess.run(command, check=True)
    return binary


def _cli(tool: str, level: int | None, block: bytes, folder: Path) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile(suffix=".blk") as file:
        file.write(block)
        file.flush()
        # lz4's -i counts iterations (at most 9), zstd's seconds: about two seconds each.
        command = {
            "lz4": ["lz4", f"-b{level}", "-i9", file.name],
            "zstd": ["zstd", f"-b{level}", "-i2", file.name],
            "snappy": [str(folder / "snappy_reference"), file.name],
        }[tool]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    compress, decompress = re.findall(
        r"([\d.]+) MB/s\s*,\s*([\d.]+) MB/s", done.stdout + done.stderr
    )[-1]
    return float(compress), float(decompress)


def _ours(cls: type[Compressor], level: int | None, block: bytes) -> tuple[float, float]:
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
    with tempfile.TemporaryDirectory(prefix="cli-reference-") as folder:
        _snappy_tool(Path(folder))
        _tables(Path(folder))


def _tables(folder: Path) -> None:
    for tool, (level, classes) in TOOLS.items():
        names = " | ".join(f"{cls.__name__} (share of the reference)" for cls in classes)
        reference = f"{tool} -b{level}" if level is not None else "Google's C++ snappy, raw"
        print(f"\n| block | {reference} compress / decompress MB/s | {names} |")
        print("|---|---|" + "---|" * len(classes))
        for name, block in _blocks():
            # Tool and library in turn, twice, each keeping its best: drift on a shared host
            # then hits both alike.
            runs = [
                (_cli(tool, level, block, folder), [_ours(cls, level, block) for cls in classes])
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
