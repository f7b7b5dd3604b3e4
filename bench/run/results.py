"""A measured plan as the one results document: every case that has samples, the corpora, the
environment and how each layer ran."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from bench.corpus.sampling import WholeSizes
from bench.results import ALL, CaseResult, CorpusInfo, Layer, Results, environment
from bench.results.compact import within_bound
from bench.results.environment import utc_now
from bench.run.measure import Outcome
from bench.run.plan import Plan

API_COMMAND = ("bench.run.run",)
"""What results record as the command of a run started from Python without one."""


def build_results(plan: Plan, outcome: Outcome, started: str) -> Results:
    whole = {corpus.name: corpus.whole for corpus in plan.corpora if corpus.whole}
    cases = within_bound(
        [_sized_whole(case.result(), whole) for case in plan.cases if case.samples.original_bytes]
    )
    cases += [case.result() for case in outcome.client_cases if case.samples.latency_ns]
    cases += [reading.result() for reading in outcome.readings if reading.samples.rounds]
    cases += [
        load.result(plan.reading_corpus.name) for load in outcome.loads if load.samples.rounds
    ]
    return Results(
        run_id=plan.run_id,
        started=started,
        finished=utc_now(),
        interrupted=outcome.interrupted,
        profile=plan.profile.name,
        rounds_planned=plan.rounds,
        rounds_completed=min((c.samples.rounds for c in plan.cases), default=0),
        command=list(plan.options.command or API_COMMAND),
        environment=environment.collect(),
        corpora=[
            CorpusInfo(
                name=corpus.name,
                digest=corpus.digest,
                payload_count=len(corpus.payloads),
                total_bytes=corpus.total_bytes,
                provenance=dict(corpus.provenance),
                skipped=dict(corpus.skipped),
                sample=corpus.sample.to_json() if corpus.sample else None,
                whole=corpus.whole.to_json() if corpus.whole else None,
            )
            for corpus in plan.corpora
        ],
        cases=cases,
        layers=outcome.layers,
    )


def _sized_whole(case: CaseResult, whole: dict[str, WholeSizes]) -> CaseResult:
    """A codec-layer case of a sampled corpus with its all-payloads sizes over the whole
    corpus: exact where the sample's are estimates (its strata topped up to a minimum weigh
    more than their share), and what recommend, compare and the verdict read."""
    sizes = whole.get(case.corpus)
    if case.layer is not Layer.CODEC or sizes is None or case.codec not in sizes.encoded:
        return case
    encoded = sizes.encoded[case.codec]
    exact = {
        "original_bytes": sizes.bytes,
        "encoded_bytes": encoded,
        "ratio": sizes.bytes / encoded if encoded else None,
        "bytes_saved": sizes.bytes - encoded,
    }
    every = {**case.summary[ALL], **{k: v for k, v in exact.items() if v is not None}}
    return replace(case, summary={**case.summary, ALL: every})


LATEST = "latest"


def link_latest(folder: Path) -> Path | None:
    """Point ``results/latest`` at ``folder`` (a run in the default place), so that commands
    written once (``compare results/reference results/latest``) read the newest run. Replaced
    atomically; a ``latest`` that is not a link (the user's own folder) is left alone and
    ``None`` returned, as it is where links cannot be made."""
    link = folder.parent / LATEST
    if link.exists() and not link.is_symlink():
        return None
    staged = folder.parent / f".{LATEST}-{os.getpid()}"
    try:
        staged.unlink(missing_ok=True)
        staged.symlink_to(folder.name, target_is_directory=True)
        os.replace(staged, link)
    except OSError:
        staged.unlink(missing_ok=True)
        return None
    return link
