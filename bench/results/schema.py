"""The results file: versioned JSON with the environment, the raw samples and their summaries,
read and written here and nowhere else.

History of the format (``schema_version``):

- 1 (2026-11-26): first version. Rows named by label only (``none (A)`` was parsed to find the
  baseline), client-layer status at the top level under ``client``.
- 2 (2026-11-28): each case carries ``facts`` (spec, family, level, implementation, encrypts,
  compresses, baseline, replica) and ``variant``; slow layers report under
  ``layers.<name>``. Version 1 files are migrated on load (:func:`update_to_2`).
- 3 (2026-11-28): statistics redone (median intervals from order statistics with the level they
  reach in ``confidence``; lzbench's best-of; count-weighted ``*_us_per_payload``; client
  latency per round and size bucket, failures counted); a ``reference`` layer times fixed
  stdlib work in the same rounds, for compare's ``--normalize``. Earlier files are summarised
  again from their raw samples on load (:func:`update_to_3`); they have no reference layer.
- 4 (2026-12-06): ``facts.integrity`` says what detects a corrupted payload of the codec (zstd
  frames carry a content checksum from this version on). Earlier files load with "not known"
  (:func:`update_to_4`): what their frames carried is not recorded.

- 5 (2026-12-06): a corpus file larger than the run's sample is sampled (``corpora[].sample``)
  and its sizes measured over every payload (``corpora[].whole``). Earlier files measured every
  corpus whole (:func:`update_to_5`).
- 6 (2026-12-06): an in-process case past the file's bound of per-payload figures keeps
  summaries instead (``bench.results.compact``): its ``samples`` are then ``payloads``,
  ``rounds``, the cpu times and ``buckets`` ({bucket: payloads, series by metric, sketches by
  side}). Client-layer cases record ``paired`` (the sequential rounds ran payload by payload
  through every codec in turn) and ``stage_ns`` (each workflow's round trip in stages); their
  throughput passes may be fewer than their rounds. Earlier files hold none of these
  (:func:`update_to_6`); a reader of version 5 cannot read them.

Schema version 6::

    schema, schema_version        "temporal-codec-bench/results", 6
    run_id, started, finished     ISO 8601 UTC
    interrupted                   true if the run was stopped; what was measured is kept
    profile, rounds_planned, rounds_completed, command (credentials redacted)
    environment                   CPU, load, Python, package and native library versions, malloc
                                  variables, git commit (see bench.results.environment)
    corpora[]                     name, digest (sha256 of the payloads measured), payload_count,
                                  total_bytes, provenance, skipped; sample (how a larger
                                  corpus file was sampled: method, seed, size, population,
                                  population_bytes, population_digest, strata) and whole (its
                                  payloads, bytes and encoded bytes per codec over every
                                  payload), both null for a corpus measured whole. For a
                                  sampled corpus the codec layer's all-payloads sizes
                                  (original_bytes, encoded_bytes, ratio, bytes_saved) are
                                  those over every payload, the rest over the sample
    layers                        {layer: how it ran (server, rounds, status) or why it did not}
    cases[]                       one per layer x codec x corpus x variant:
        layer                     raw, codec, client, or reference (fixed stdlib work)
        codec, corpus, variant, library
        facts                     see bench.results.model.CodecFacts
        samples                   raw samples (bench.results.samples): in-process layers
                                  original_bytes[i], encoded_bytes[i], encode_repeats[i],
                                  encode_ns[round][i] (time of repeats[i] calls), cpu per round,
                                  peak_memory_bytes; client layer per round and payload
                                  latency_ns, history_bytes, client_codec_ns, worker_codec_ns,
                                  worker_stall_ns (-1 where the workflow failed), stage_ns
                                  (eight stages, empty where it failed), throughput_wps per
                                  pass, paired, errors, first_error, workflow_ids; an
                                  in-process case past the bound: payloads, rounds, cpu per
                                  round, peak_memory_bytes and buckets {bucket: payloads,
                                  series {metric: per round}, sketches {side: DDSketch of
                                  each payload's median µs per call, its protobuf as JSON}}
        summary                   {bucket name or "all": {metric: value}}, metrics as
                                  bench.results.metrics defines them

Throughput is in MB/s of original bytes (1 MB = 10^6 bytes, as lzbench counts).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, TypeVar

from bench.results.metrics import summarise
from bench.results.model import (
    UNKNOWN_INTEGRITY,
    CaseResult,
    CodecFacts,
    CorpusInfo,
    Environment,
    Layer,
    Results,
)
from bench.results.samples import (
    ClientSamples,
    CompactSamples,
    DecodeSamples,
    InProcessSamples,
    ReadingSamples,
    Samples,
)
from bench.results.validate import check_case

SCHEMA = "temporal-codec-bench/results"
SCHEMA_VERSION = 6


class ResultsError(ValueError):
    """A results file is missing, unreadable, or of another schema version."""


def case_result(
    samples: Samples,
    *,
    layer: Layer,
    codec: str,
    corpus: str,
    library: str,
    facts: CodecFacts,
    variant: str = "",
) -> CaseResult:
    """A case with its summary computed from ``samples`` by the metric registry; the result
    keeps a copy, so the layer may go on recording into ``samples``."""
    kept = copy.deepcopy(samples)
    return CaseResult(
        layer, codec, corpus, library, facts, kept, summarise(layer, vars(kept)), variant
    )


def samples_from_json(layer: Layer, document: dict[str, Any]) -> Samples:
    """A case's stored samples as the typed record its layer writes (the reading layer holds
    two kinds: a history read, and ``/decode`` under load)."""
    if not isinstance(document, dict):
        raise ValueError("samples is not a table of fields")
    if layer.in_process and "buckets" in document:
        return _record(CompactSamples, document)
    if layer.in_process:  # every field, as every version wrote them
        return _record(InProcessSamples, document, every=True)
    if layer is Layer.CLIENT:
        return _record(ClientSamples, document)
    if "requests_per_s" in document:
        return _record(DecodeSamples, document)
    return _record(ReadingSamples, document)


_S = TypeVar("_S")


def _record(cls: type[_S], document: dict[str, Any], every: bool = False) -> _S:
    """``cls`` from ``document``: ``ValueError`` for a field it does not have, or lacks (those
    without a default, or ``every`` one; later versions added fields with defaults)."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    unknown = sorted(set(document) - {field.name for field in fields})
    if unknown:
        raise ValueError(f"samples.{unknown[0]} is not a field of these samples")
    for field in fields:
        default = not (field.default is field.default_factory is dataclasses.MISSING)
        if (every or not default) and field.name not in document:
            raise ValueError(f"samples.{field.name} is missing")
    return cls(**document)


def to_json(results: Results) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "run_id": results.run_id,
        "started": results.started,
        "finished": results.finished,
        "interrupted": results.interrupted,
        "profile": results.profile,
        "rounds_planned": results.rounds_planned,
        "rounds_completed": results.rounds_completed,
        "command": results.command,
        "environment": results.environment.to_json(),
        "corpora": [asdict(corpus) for corpus in results.corpora],
        "layers": results.layers,
        "cases": [
            {
                "layer": case.layer.value,
                "codec": case.codec,
                "corpus": case.corpus,
                "variant": case.variant,
                "library": case.library,
                "facts": case.facts.to_json(),
                "samples": asdict(case.samples),
                "summary": case.summary,
            }
            for case in results.cases
        ],
    }


def update_to_2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 to 2: facts from the row labels, ``client`` under ``layers``."""
    document = dict(document)
    client = document.pop("client", None)
    document["layers"] = {"client": client} if client else {}
    for case in document.get("cases", []):
        case.setdefault("variant", "")
        spec, _, replica = case["codec"].partition(" (")
        facts = CodecFacts.of_spec(spec, replica.rstrip(")") or None)
        case.setdefault("facts", facts.to_json())
    document["schema_version"] = 2
    return document


def update_to_3(document: dict[str, Any]) -> dict[str, Any]:
    """Version 2 to 3: every summary computed again from the raw samples, as the metric
    registry now defines it."""
    document = dict(document)
    for case in document.get("cases", []):
        case["summary"] = summarise(Layer(case["layer"]), case["samples"])
    document["schema_version"] = 3
    return document


def update_to_4(document: dict[str, Any]) -> dict[str, Any]:
    """Version 3 to 4: ``facts.integrity`` not known (zstd frames carried no checksum then)."""
    document = dict(document)
    for case in document.get("cases", []):
        case["facts"] = {**case["facts"], "integrity": UNKNOWN_INTEGRITY}
    document["schema_version"] = 4
    return document


def update_to_5(document: dict[str, Any]) -> dict[str, Any]:
    """Version 4 to 5: every corpus was measured whole (no ``sample``, no ``whole`` sizes)."""
    document = dict(document)
    document["corpora"] = [
        {**corpus, "sample": None, "whole": None} for corpus in document.get("corpora", [])
    ]
    document["schema_version"] = 5
    return document


def update_to_6(document: dict[str, Any]) -> dict[str, Any]:
    """Version 5 to 6: nothing to change (every case kept its figures per payload)."""
    return {**document, "schema_version": 6}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: update_to_2,
    2: update_to_3,
    3: update_to_4,
    4: update_to_5,
    5: update_to_6,
}
"""Version N to N + 1, applied in turn so that every earlier file still loads."""


def from_json(document: Any, source: str = "results") -> Results:
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ResultsError(f"{source} is not a codec-bench results file")
    version = document.get("schema_version")
    while version in MIGRATIONS:
        document = MIGRATIONS[version](document)
        version = document["schema_version"]
    if version != SCHEMA_VERSION:
        raise ResultsError(
            f"{source} has results schema version {version!r}; this codec-bench reads versions "
            f"1 to {SCHEMA_VERSION}. Use the codec-bench version that wrote it"
        )
    try:
        return Results(
            run_id=document["run_id"],
            started=document["started"],
            finished=document["finished"],
            interrupted=document["interrupted"],
            profile=document["profile"],
            rounds_planned=document["rounds_planned"],
            rounds_completed=document["rounds_completed"],
            command=document["command"],
            environment=Environment.from_json(document["environment"]),
            corpora=[CorpusInfo(**corpus) for corpus in document["corpora"]],
            cases=[_case(index, case) for index, case in enumerate(document["cases"])],
            layers=document.get("layers", {}),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ResultsError(
            f"{source} is a damaged results file: {error}; it was edited or cut short, so "
            "measure again or restore it"
        ) from None


def _case(index: int, case: Any) -> CaseResult:
    """Case ``index`` of a file, checked (see :mod:`bench.results.validate`); ``ValueError``
    naming the case and its damaged field."""
    named = f"case {index}"
    try:
        named += f" ({case['layer']} layer, {case['codec']}, corpus {case['corpus']})"
        result = CaseResult(
            layer=Layer(case["layer"]),
            codec=case["codec"],
            corpus=case["corpus"],
            library=case["library"],
            facts=CodecFacts.from_json(case["facts"]),
            samples=samples_from_json(Layer(case["layer"]), case["samples"]),
            summary=case["summary"],
            variant=case.get("variant", ""),
        )
        check_case(result)
    except KeyError as missing:
        raise ValueError(f"{named}: field {missing} is missing") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{named}: {error}") from None
    return result


def atomic_write(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Write a text file so that a reader never sees half of it and an earlier file under the
    same name survives a failure: into a hidden file beside it, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".partial", dir=path.parent
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            write(out)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save(results: Results, path: Path) -> None:
    """Write ``results`` to ``path`` atomically."""
    atomic_write(
        path,
        lambda out: json.dump(to_json(results), out, separators=(",", ":"), allow_nan=False),
    )


def load(path: str | os.PathLike[str]) -> Results:
    """Read a results file of any version; :class:`ResultsError` with one line otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ResultsError(f"cannot read results {os.fspath(path)!r}: {error.strerror}") from None
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except _NotANumber as error:
        raise ResultsError(
            f"{os.fspath(path)} holds {error} where a number belongs; it was not written by "
            "codec-bench, or was edited"
        ) from None
    except ValueError:
        raise ResultsError(
            f"{os.fspath(path)} is not JSON; expected a codec-bench results.json"
        ) from None
    return from_json(document, os.fspath(path))


class _NotANumber(ValueError):
    pass


def _no_constant(name: str) -> None:
    """NaN and Infinity are not JSON; Python writes and reads them unless told not to, and one
    of them would turn every ranking and comparison it touches into nonsense."""
    raise _NotANumber(name)


def csv_rows(results: Results) -> Iterator[list[Any]]:
    """One row per layer, codec, corpus, variant, bucket and metric (long format, for pandas)."""
    yield [
        "run_id",
        "layer",
        "codec",
        "corpus",
        "variant",
        "bucket",
        "metric",
        "value",
        "ci_low",
        "ci_high",
    ]
    for case in results.cases:
        for bucket, metrics in case.summary.items():
            prefix = [results.run_id, case.layer.value, case.codec, case.corpus, case.variant]
            for name, value in metrics.items():
                yield from _csv_cells([*prefix, bucket], name, value)


def _csv_cells(prefix: list[Any], name: str, value: Any) -> Iterator[list[Any]]:
    if isinstance(value, dict) and "median" in value:
        yield [*prefix, name, value["median"], value["low"], value["high"]]
        yield [*prefix, f"{name}_best", value["best"], "", ""]
    elif isinstance(value, dict):
        for sub, inner in value.items():
            yield from _csv_cells(prefix, f"{name}_{sub}", inner)
    else:
        yield [*prefix, name, "" if value is None else value, "", ""]


def save_csv(results: Results, path: Path) -> None:
    atomic_write(path, lambda out: csv.writer(out).writerows(csv_rows(results)))
