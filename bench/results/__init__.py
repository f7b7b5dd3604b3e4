"""Results: the data model, the metric registry, the versioned file, statistics and size
buckets. It is the bottom floor: it imports no corpus, layer, server code or plotting, so
report, compare and recommend can read a results file without loading any of them."""

from bench.results.model import (
    ALL,
    CaseResult,
    CodecFacts,
    CorpusInfo,
    Environment,
    Layer,
    Results,
    Route,
)
from bench.results.schema import (
    SCHEMA_VERSION,
    ResultsError,
    case_result,
    load,
    save,
    save_csv,
)

__all__ = [
    "ALL",
    "SCHEMA_VERSION",
    "CaseResult",
    "CodecFacts",
    "CorpusInfo",
    "Environment",
    "Layer",
    "Results",
    "ResultsError",
    "Route",
    "case_result",
    "load",
    "save",
    "save_csv",
]
