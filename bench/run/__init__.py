"""A benchmark run as a Python call: ``run(RunOptions(...))`` plans, measures every layer the
options ask for, writes ``results.json``, ``results.csv`` and the report into the run's folder,
and returns what happened. ``codec-bench run`` is this call behind flags.

``from bench.run import RunOptions, run``; the plan (``bench.run.plan``) and the measuring
(``bench.run.measure``) load the layers and the Temporal client, so they are imported only when
a run starts."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.errors import UserError
from bench.run.options import ClientOptions, ReadingOptions, RunOptions

if TYPE_CHECKING:
    from bench.results import Results

__all__ = ["ClientOptions", "ReadingOptions", "RunOptions", "RunOutcome", "run"]


@dataclass(frozen=True)
class RunOutcome:
    """What a run left: its results (also in ``folder``), the report page, and why it ended
    early, if it did. Ctrl-C or SIGTERM keep what was measured (``stopped``); a server layer
    that fails keeps it too (``failure``)."""

    results: Results
    folder: Path
    report: Path
    failure: str | None = None
    stopped: KeyboardInterrupt | None = None


def run(options: RunOptions) -> RunOutcome:
    """Plan, measure, and write results and the report. ``UserError`` before anything is
    measured for input that cannot be run; ``RoundTripError`` (and nothing written) when a
    measured round trip does not give back its input. The layers run event loops of their own,
    so this is called outside a running one."""
    import asyncio

    with contextlib.suppress(RuntimeError):  # RuntimeError: no loop runs, as it should be
        asyncio.get_running_loop()
        raise UserError(
            "bench.run.run() runs event loops of its own; call it outside a running one "
            "(from a notebook: in a thread, e.g. await asyncio.to_thread(run, options))"
        )
    from bench.outputs.report import write_report
    from bench.progress import warn
    from bench.results import save, save_csv
    from bench.results.environment import utc_now
    from bench.run.measure import key_service, measure, reach
    from bench.run.plan import make_plan
    from bench.run.results import build_results, link_latest

    with key_service(options) as kms:
        plan = make_plan(options)
        for note in plan.reading_notes:
            warn(f"reading layer: {note}")
        if plan.reading_skip is not None:
            warn(f"reading layer: not run: {plan.reading_skip}")
        reach(plan)
        started = utc_now()
        outcome = measure(plan, kms)
    results = build_results(plan, outcome, started)
    save(results, plan.out / "results.json")
    save_csv(results, plan.out / "results.csv")
    _, page = write_report(results, plan.out)
    if options.out is None and link_latest(plan.out) is None:
        warn(f"{plan.out.parent / 'latest'} was not pointed at this run (it is not a link)")
    return RunOutcome(results, plan.out, page, outcome.failure, outcome.stopped)
