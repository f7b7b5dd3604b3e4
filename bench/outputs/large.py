"""The report's "Large payloads" section: for payloads near and over Temporal's limits, what
each way of sending them did (inline, compressed, offloaded to external storage, compressed then
offloaded), by payload size, from the client layer's raw samples.

Sizes are finer here than the report's buckets: the interesting edges (2 MiB blob limit, 4 MiB
gRPC message) all fall in the last bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.outputs import plots
from bench.outputs.render import Block, Image, Section, Table, amount_of_bytes
from bench.results import CaseResult, Layer, Results
from bench.results.buckets import KIB, MIB
from bench.results.samples import FAILED

SIZE_CLASSES = (
    (256 * KIB, "256 KiB-1 MiB"),
    (MIB, "1-2 MiB"),
    (2 * MIB, "2-3 MiB"),
    (3 * MIB, "3-4 MiB"),
    (4 * MIB, "4-8 MiB"),
    (8 * MIB, "8-16 MiB"),
    (16 * MIB, "16 MiB and more"),
)
"""Lower bound and name of each size class, by the payload's size before the codec. Smaller
payloads are left out: below every threshold and limit, they travel inline whatever is chosen."""
STRATEGIES = ("inline", "compress", "offload", "compress, then offload")


def size_class(size: int) -> str | None:
    found = None
    for low, name in SIZE_CLASSES:
        if size >= low:
            found = name
    return found


def strategy(case: CaseResult) -> str:
    offloads = case.samples.get("storage_threshold") is not None
    if case.facts.baseline:
        return "offload" if offloads else "inline"
    return "compress, then offload" if offloads else "compress"


@dataclass(frozen=True)
class Cell:
    """One case's workflows whose payloads fall in one size class, over every round."""

    workflows: int
    failed: int
    error: str
    p50_ms: float | None
    history: float | None
    stored: float | None
    """Bytes written to the object store per workflow (median); ``None`` when inline."""

    @property
    def passes(self) -> bool:
        return self.failed == 0


def _median(rows: Sequence[Sequence[int]], indices: Sequence[int]) -> float | None:
    cells = [row[i] for row in rows for i in indices if row[i] != FAILED]
    return float(np.median(cells)) if cells else None


def cells(case: CaseResult) -> dict[str, Cell]:
    """The case's figures by size class, in class order."""
    samples = case.samples
    by_class: dict[str, list[int]] = {}
    for index, size in enumerate(samples["original_bytes"]):
        if (name := size_class(size)) is not None:
            by_class.setdefault(name, []).append(index)
    errors = samples.get("payload_errors") or []
    found = {}
    for name, indices in by_class.items():
        latency = samples["latency_ns"]
        p50 = _median(latency, indices)
        found[name] = Cell(
            workflows=len(indices) * len(latency),
            failed=sum(row[i] == FAILED for row in latency for i in indices),
            error=next((errors[i] for i in indices if i < len(errors) and errors[i]), ""),
            p50_ms=None if p50 is None else p50 / 1e6,
            history=_median(samples["history_bytes"], indices),
            stored=_median(samples["s3_bytes"], indices) if samples.get("s3_bytes") else None,
        )
    order = [name for _, name in SIZE_CLASSES]
    return {name: found[name] for name in order if name in found}


def large_cases(results: Results, corpus: str) -> list[CaseResult]:
    """The client cases of ``corpus`` with payloads in a size class, one baseline replica per
    route, ordered by strategy."""
    cases = [
        c
        for c in results.cases_of(Layer.CLIENT, corpus)
        if cells(c)
        and (not c.facts.baseline or c is results.baseline(Layer.CLIENT, corpus, c.variant))
    ]
    return sorted(cases, key=lambda c: STRATEGIES.index(strategy(c)))


def decision_table(cases: Sequence[CaseResult]) -> Table:
    by_case = [(case, cells(case)) for case in cases]
    rows = []
    for _, name in SIZE_CLASSES:
        for case, found in by_case:
            cell = found.get(name)
            if cell is None:
                continue
            rows.append(
                [
                    name,
                    strategy(case),
                    case.codec,
                    case.variant or "inline, gRPC gzip",
                    "yes" if cell.passes else f"no ({cell.failed} of {cell.workflows} failed)",
                    amount_of_bytes(cell.history, mib_digits=2),
                    "0 (stayed inline)"
                    if cell.stored == 0
                    else amount_of_bytes(cell.stored, mib_digits=2),
                    "-" if cell.p50_ms is None else f"{cell.p50_ms:,.1f}",
                ]
            )
    header = ["payload size", "strategy", "codec", "route", "feasible", "history per workflow"]
    return Table([*header, "S3 per workflow", "round trip p50, ms"], rows)


def needed(cases: Sequence[CaseResult]) -> Table:
    """Per size class: what failed and with which error, and what got the payloads through."""
    by_case = [(case, cells(case)) for case in cases]
    lines: list[list[str]] = []
    for _, name in SIZE_CLASSES:
        present = [(case, found[name]) for case, found in by_case if name in found]
        if not present:
            continue
        failed = [(c, cell) for c, cell in present if not cell.passes]
        if not failed:
            lines.append([name, "every route measured passes"])
            continue
        through = {
            s: ", ".join(
                f"{c.codec} {c.variant}".strip()
                for c, cell in present
                if cell.passes and strategy(c) == s
            )
            for s in STRATEGIES
        }
        passing = "; ".join(f"{s}: {who}" for s, who in through.items() if who) or "nothing"
        failing = ", ".join(f"{c.codec} {c.variant}".strip() for c, _ in failed)
        error = failed[0][1].error or "no error recorded"
        lines.append([name, f"fails with {failing} ({error}); passes with {passing}"])
    return Table(["payload size", "what it needed"], lines)


INTRO = (
    "Payloads of 256 KiB and more, by their size before the codec, through the client path "
    "on each route: inline (the codec's output in the history), or with the SDK's external "
    "storage, whose S3 driver stores every payload of at least the threshold *after* the "
    "codec in the object store and leaves a reference in the history (so compression decides "
    "what stays inline). A route is feasible for a size when none of its workflows failed; a "
    "failure is the SDK's or the server's own error. History and S3 bytes are medians per "
    "workflow (input, activity input and result, result); the S3 driver writes one object per "
    "distinct content and scope, so S3 bytes can be less than the referenced payloads. Limits "
    "in force: {limits}."
)


def large_section(results: Results, folder: Path) -> Section | None:
    """The section, when a client case carried payloads of 256 KiB or more and a route
    offloaded or a workflow failed; else ``None``."""
    client = results.layers.get(Layer.CLIENT, {})
    blocks: list[Block] = []
    for corpus in results.corpus_names:
        cases = large_cases(results, corpus)
        interesting = any(
            strategy(c).endswith("offload") or not all(x.passes for x in cells(c).values())
            for c in cases
        )
        if not interesting:
            continue
        blocks += [
            f"Corpus {corpus}:",
            decision_table(cases),
            needed(cases),
        ]
        image = plots.large_payloads(
            [(f"{c.codec} [{c.variant or 'inline'}]", c, cells(c)) for c in cases],
            [name for _, name in SIZE_CLASSES],
            folder / f"large-{corpus}.png",
        )
        if image is not None:
            blocks.append(Image(image, f"Large payloads by strategy, corpus {corpus}"))
    if not blocks:
        return None
    limits = str(client.get("limits", "not recorded"))
    storage = str(client.get("external_storage", "off"))
    return Section(
        "Large payloads", [INTRO.format(limits=limits), f"External storage: {storage}.", *blocks]
    )
