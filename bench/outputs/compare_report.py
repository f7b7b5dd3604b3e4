"""A comparison as Markdown and self-contained HTML: the gate per codec first, then the rows
that changed, stored sizes, and what differs between the environments."""

from __future__ import annotations

import math
from pathlib import Path

from bench.outputs import render
from bench.outputs.compare import (
    ALPHA,
    DESCRIPTIVE,
    FASTER,
    MIN_EFFECT,
    PRIMARY,
    SLOWER,
    Comparison,
    Delta,
    Gate,
)
from bench.outputs.render import Block, Image, Section, Table

PLOTTED_ROWS = 30
"""The plot shows the largest changes; every row is in the tables."""


def _percent(value: float) -> str:
    return f"{(value - 1) * 100:+.1f} %"


def _interval(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"{_percent(low)} .. {_percent(high)}"


def _runs_section(comparison: Comparison) -> Section:
    unit = (
        "runs (each side's run medians, Welch t-test on logs)"
        if comparison.grouped
        else "rounds of one run a side (Mann-Whitney U, bootstrap intervals)"
    )
    drift = ", ".join(f"{run} {_percent(d)}" for run, d in comparison.drift.items()) or "unknown"
    blocks: list[Block] = [
        f"Reference: `{comparison.runs[0]}`; compared: "
        + ", ".join(f"`{r}`" for r in comparison.runs[1:])
        + f". Samples are {unit}; each side's primary rows (the gated metric on all payloads) "
        "are tested with Welch's t on logs. A row is faster or slower when its adjusted p < "
        f"{ALPHA} and its whole 95 % interval lies {MIN_EFFECT:.0%} or more from no change.",
        f"Machine drift (the reference workloads' time against the first side): {drift}. "
        + (
            "--normalize divides each round by the reference workloads' factor where the "
            "machine moved between the sides or where that tightens the spread within them; "
            "the gate table shows both:"
            if comparison.normalized
            else "Not divided out (--normalize would, where the machine moved between the "
            "sides or where that tightens the spread within them)."
        ),
        *[f"- {line}" for line in comparison.normalizing],
    ]
    return Section("Runs", blocks)


def _gate_table(comparison: Comparison, run: str) -> Table:
    applied = run in comparison.normalized_runs
    raw = {(g.layer, g.codec): g for g in comparison.gates_of(run, normalized=False)}
    rows = []
    for gate in comparison.gates_of(run, normalized=applied):
        cells = [
            gate.layer,
            gate.codec,
            f"{_percent(gate.speedup)} [{_interval(gate.low, gate.high)}]",
        ]
        if applied:
            plain = raw.get((gate.layer, gate.codec))
            cells.append(
                f"{_percent(plain.speedup)} [{_interval(plain.low, plain.high)}]" if plain else "-"
            )
        cells.append(str(gate.rows))
        rows.append(cells)
    header = ["layer", "codec", "speed change" + (" (normalised)" if applied else "")]
    if applied:
        header.append("speed change (not normalised)")
    return Table([*header, "rows"], rows)


def _where(d: Delta, digits: int) -> list[str]:
    return [
        d.layer,
        d.codec,
        d.corpus,
        d.bucket,
        d.metric,
        f"{d.first:,.{digits}f}",
        f"{d.other:,.{digits}f}",
        _percent(d.speedup if d.speedup is not None else d.ratio),
    ]


_WHERE = ["layer", "codec", "corpus", "bucket", "metric", "first", "other", "change"]
"""For timed rows the change is in speed (negative: slower, whatever the metric's unit)."""


_FAMILIES = {
    PRIMARY: "each codec's row of all payloads on its layer's gated metric, per corpus, layer "
    "and direction; Holm-corrected, so the family holds at p < {alpha} together",
    DESCRIPTIVE: "size buckets, throughput and CPU; the false-discovery rate held at {alpha} "
    "(Benjamini-Hochberg)",
}


def _family_line(family: str, rows: list[Delta]) -> str:
    verdicts = sorted({d.verdict for d in rows})
    counts = ", ".join(f"{sum(d.verdict == v for d in rows)} {v}" for v in verdicts)
    note = _FAMILIES[family].format(alpha=ALPHA)
    return f"{family.capitalize()} rows ({note}): {len(rows)}: {counts or 'none'}."


def _timed_blocks(comparison: Comparison, run: str) -> list[Block]:
    timed = [d for d in comparison.deltas if d.run == run and d.speedup is not None]
    flagged = [d for d in timed if d.verdict in (FASTER, SLOWER)]
    blocks: list[Block] = [
        "Speed per layer and codec: encode and decode time per payload as a geometric mean "
        "over payloads and corpora (client layer: round trip), each "
        + (
            "run one sample, with a t interval on the codec's variance moderated toward the "
            "other codecs' (empirical Bayes)"
            if comparison.grouped
            else "round one sample, with a Welch interval"
        )
        + "; the gates of a side hold 95 % together (each at 1 - 0.05 / gates). "
        "`--fail-on-regression PCT` fails when a whole interval lies below -PCT %.",
        _gate_table(comparison, run),
    ]
    if not timed:
        return [*blocks, "No timed rows in common."]
    blocks += [_family_line(f, [d for d in timed if d.family == f]) for f in _FAMILIES]
    if flagged:
        rows = [
            [*_where(d, 2), _interval(d.low, d.high), f"{d.p_value:.2g}", d.family, d.verdict]
            for d in flagged
            if d.p_value is not None
        ]
        header = [*_WHERE, "95% CI", "adjusted p", "family", "verdict"]
        blocks += ["Rows that changed:", Table(header, rows)]
    return blocks


def _size_blocks(comparison: Comparison, run: str) -> list[Block]:
    sizes = [d for d in comparison.deltas if d.run == run and d.speedup is None]
    changed = [d for d in sizes if d.verdict == "changed"]
    blocks: list[Block] = [
        f"Stored sizes: {len(sizes) - len(changed)} of {len(sizes)} rows identical (stored "
        "history within 1 %, as it holds workflow ids and timestamps)."
        + (" Changed:" if changed else "")
    ]
    if changed:
        blocks.append(Table(_WHERE, [_where(d, 0) for d in changed]))
    return blocks


def _run_section(comparison: Comparison, run: str, folder: Path | None) -> Section:
    section = Section(f"{run} against {comparison.runs[0]}")
    section.blocks += _timed_blocks(comparison, run) + _size_blocks(comparison, run)
    if comparison.only_in.get(run):
        section.blocks.append(
            "Rows in only one of the two runs: " + "; ".join(comparison.only_in[run])
        )
    if folder is not None:
        image = _plot(comparison.gates_of(run), run, comparison.runs[0], folder)
        if image is not None:
            section.blocks.append(Image(image, f"Speed changes of {run}"))
    return section


def sections(comparison: Comparison, folder: Path | None) -> list[Section]:
    """The runs and method, environment differences, then each compared side."""
    out = [_runs_section(comparison)]
    if comparison.environment:
        out.append(
            Section(
                "Warning: the environments differ",
                [
                    "Changes below may come from these differences rather than from the codecs:",
                    *[f"- {note}" for note in comparison.environment],
                ],
            )
        )
    out += [_run_section(comparison, run, folder) for run in comparison.runs[1:]]
    return out


def _call(gate: Gate) -> str:
    if gate.high <= 1 - MIN_EFFECT:
        return SLOWER
    return FASTER if gate.low >= 1 + MIN_EFFECT else ""


def _plot(gates: list[Gate], run: str, first: str, folder: Path) -> Path | None:
    from bench.outputs import plots  # matplotlib only when a plot is written

    largest = sorted(gates, key=lambda g: -abs(math.log(g.speedup)))[:PLOTTED_ROWS]
    return plots.comparison_deltas(
        [(f"{g.layer} {g.codec}", g.speedup, g.low, g.high, _call(g)) for g in largest],
        f"speed change of {run} against {first}, % (geometric mean over size buckets, 95% CI)",
        MIN_EFFECT,
        folder / f"compare-{run.split(maxsplit=1)[0]}.png",
    )


def write(comparison: Comparison, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return render.write(
        folder, "compare", sections(comparison, folder), "Codec benchmark comparison"
    )
