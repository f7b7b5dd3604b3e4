"""How ``codec-bench run`` grows with its corpus: corpora of a given number of payloads of a
given size, made by a generator into a scratch folder (never kept), each measured by a run in
its own process; its peak memory (the kernel's maximum resident set), the size of its
``results.json`` and its wall time.

The payloads are a pool of synthetic JSON records, cycled: making ten million distinct ones
would take longer than measuring them, and the corpus's size, not its variety, is what this
measures.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus.synthetic import json_records
from bench.errors import UserError
from payload_codecs import CorpusWriter, serialize

POOL = 64


@dataclass(frozen=True)
class Point:
    payloads: int
    payload_bytes: int
    corpus_bytes: int
    peak_rss_bytes: int
    results_bytes: int
    seconds: float
    timed: int
    """Payloads the run timed (its sample)."""


def make_corpus(path: Path, payloads: int, payload_bytes: int, seed: int = 1) -> int:
    """A corpus file of ``payloads`` JSON payloads of about ``payload_bytes`` each; its size."""
    rng = random.Random(seed)
    pool = [serialize(json_records(rng, payload_bytes)) for _ in range(POOL)]
    provenance = {"kind": "synthetic", "generator": "bench.probes.scale", "seed": seed}
    with CorpusWriter(path, provenance) as writer:
        for index in range(payloads):
            writer.write_serialized(pool[index % POOL])
    return path.stat().st_size


def measure(
    counts: Sequence[int], payload_bytes: int, run_args: Sequence[str] = ()
) -> Iterator[Point]:
    """One point per payload count, each corpus made, run and deleted in turn (yielded as it
    is measured: the largest take minutes)."""
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="codec-bench-scale-") as scratch:
            corpus = Path(scratch) / "scale.corpus"
            corpus_bytes = make_corpus(corpus, count, payload_bytes)
            out = Path(scratch) / "run"
            argv = [sys.executable, "-m", "bench.cli", "run", "--corpus", str(corpus)]
            argv += ["--no-client", "--no-reading", "--out", str(out), *run_args]
            log = Path(scratch) / "run.log"
            started = time.perf_counter()
            with log.open("wb") as sink:
                # wait4, not wait: its resource usage is this run's alone, peak memory included
                process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=sink)
                try:
                    _, status, usage = os.wait4(process.pid, 0)
                except BaseException:  # Ctrl-C: the run does not outlive the probe
                    process.kill()
                    process.wait()
                    raise
                process.returncode = os.waitstatus_to_exitcode(status)
            seconds = time.perf_counter() - started
            if process.returncode != 0:
                error = log.read_text(errors="replace").strip().splitlines()[-1:]
                raise UserError(f"the run of {count:,} payloads failed: {' '.join(error)}")
            document = json.loads((out / "results.json").read_text())
            yield Point(
                payloads=count,
                payload_bytes=payload_bytes,
                corpus_bytes=corpus_bytes,
                peak_rss_bytes=usage.ru_maxrss * 1024,
                results_bytes=(out / "results.json").stat().st_size,
                seconds=seconds,
                timed=document["corpora"][0]["payload_count"],
            )
