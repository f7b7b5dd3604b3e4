"""Run options the tests share."""

from __future__ import annotations

from pathlib import Path

from bench.run import ClientOptions, ReadingOptions, RunOptions


def in_process(out: Path, codec: str = "lz4", corpus: str = "sizes") -> RunOptions:
    """One round of ``codec`` (with the baseline and the noise-floor pair) on ``corpus``, in
    process only: a real run that takes seconds."""
    return RunOptions(
        codecs=(codec,),
        corpora=(corpus,),
        rounds=1,
        client=ClientOptions(run=False),
        reading=ReadingOptions(run=False),
        out=out,
    )
