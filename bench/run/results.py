"""A measured plan as the one results document: every case that has samples, the corpora, the
environment and how each layer ran."""

from __future__ import annotations

from bench.results import CorpusInfo, Results, environment
from bench.results.environment import utc_now
from bench.run.measure import Outcome
from bench.run.plan import Plan

API_COMMAND = ("bench.run.run",)
"""What results record as the command of a run started from Python without one."""


def build_results(plan: Plan, outcome: Outcome, started: str) -> Results:
    cases = [case.result() for case in plan.cases if case.samples.original_bytes]
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
            )
            for corpus in plan.corpora
        ],
        cases=cases,
        layers=outcome.layers,
    )
