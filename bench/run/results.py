"""A measured plan as the one results document: every case that has samples, the corpora, the
environment and how each layer ran."""

from __future__ import annotations

import os
from pathlib import Path

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
