"""The report's "Large payloads" section: the tables and plot of what each strategy did with
payloads near and over Temporal's limits (the figures come from ``bench.outputs.strategies``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.outputs import plots
from bench.outputs.render import Block, Image, Section, Table
from bench.outputs.strategies import SIZE_CLASSES, STRATEGIES, cells, large_cases, strategy
from bench.results import CaseResult, Layer, Results
from bench.results.buckets import amount_of_bytes


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
