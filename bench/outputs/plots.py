"""The report's figures, drawn with matplotlib's Agg backend from a results file alone."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from adjustText import adjust_text
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

from bench.outputs.ranking import cpu_us_per_kib, front, saved_share
from bench.outputs.strategies import strategy
from bench.results import ALL, CaseResult, CodecFacts, Layer, Results
from bench.results.buckets import BUCKETS
from bench.results.stages import STAGES

if TYPE_CHECKING:
    from bench.outputs.strategies import Cell as LargeCell

_FAMILY_COLORS = {
    "none": "#7f7f7f",
    "snappy": "#2ca02c",
    "zstd": "#1f77b4",
    "lz4": "#9467bd",
    "gzip": "#8c564b",
    "zlib": "#e377c2",
    "aes256gcm": "#d62728",
    "custom": "#17becf",
}
"""One colour per family, no two alike (gzip and zlib were two browns) and none the front's."""
FRONT_COLOR = "black"


_REPLICA_STYLES = {"A": {"marker": "s"}, "B": {"marker": "D", "linestyle": ":"}}
"""The two replicas of a noise-floor pair, told apart from each other and from the plain row."""


def _style(case: CaseResult) -> dict[str, str]:
    """:func:`_styled` for a case, an offloading route drawn apart from the inline one."""
    return _styled(case.facts, offloads=case.route is not None and case.route.offloads)


def _styled(facts: CodecFacts, *, offloads: bool = False) -> dict[str, str]:
    """Colour by family; dashed line and triangle marker when the chain also encrypts; the
    replicas of a noise-floor pair and an offloading route each drawn apart from the rest."""
    encrypted = facts.encrypts and facts.compresses
    style = {
        "color": _FAMILY_COLORS.get(facts.family, "black"),
        "marker": "^" if encrypted else "o",
        "linestyle": "--" if encrypted else "-",
    }
    style |= _REPLICA_STYLES.get(facts.replica or "", {})
    if offloads:
        style |= {"linestyle": "-.", "markerfacecolor": "none"}
    return style


def _legends(axes: Axes, cases: Sequence[CaseResult], extra: Sequence[Line2D] = ()) -> None:
    """One legend for the family colours, one for the encryption marker."""
    families = list(dict.fromkeys(c.facts.family for c in cases))
    colours = [
        Line2D([], [], color=_FAMILY_COLORS.get(f, "black"), marker="o", linestyle="", label=f)
        for f in families
    ]
    first = _outside(axes, handles=colours, title="family", fontsize=8)
    axes.add_artist(first)
    markers = [
        Line2D([], [], color="black", marker="o", linestyle="", label="compression only"),
        Line2D([], [], color="black", marker="^", linestyle="", label="then AES-256-GCM"),
        *extra,
    ]
    axes.legend(
        handles=markers, fontsize=8, loc="lower left", bbox_to_anchor=(1.01, 0.0), borderaxespad=0
    )


def _outside(axes: Axes, **options: Any) -> Legend:
    """A legend right of the axes, from its top: inside, legends covered points and lines
    wherever the data happened to be."""
    return axes.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, handlelength=3.5, **options
    )


def _plain_numbers(axis: Axis) -> None:
    """Plain numbers on a log axis ("3" and "20" read faster than 3e0 and 2e1) at 1, 2 and 5
    times powers of ten, and none between: labelled minor ticks collide where an axis spans
    more than a decade ("0.80.9 1.0")."""
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())


def _codec_cases(results: Results, corpus: str, *, baseline: bool = True) -> list[CaseResult]:
    """Codec-layer cases of ``corpus``; without the identity baseline where it is not a point
    of comparison but the origin of one."""
    cases = results.cases_of(Layer.CODEC, corpus)
    return cases if baseline else [c for c in cases if not c.facts.baseline]


def _labelled(axes: Axes, xlabel: str, ylabel: str, title: str) -> None:
    """Axis labels, title, a light grid and a small legend: the finish of every line plot."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    _outside(axes, fontsize=7)


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    # The bounding box of everything drawn, legends outside the axes and long labels included.
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def _save_with_legend_below(figure: Figure, axes: Axes, path: Path, *, columns: int) -> Path:
    """One legend for the whole figure, of ``axes``'s entries, below every panel."""
    figure.legend(
        *axes.get_legend_handles_labels(),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=columns,
        fontsize=8,
    )
    return _save(figure, path)


def saving_vs_cpu(results: Results, corpus: str, path: Path) -> Path | None:
    """Bytes saved against CPU per KiB (encode + decode), each codec labelled, with the front
    the report's table marks; no codec is the 0 % line."""
    cases = [
        c for c in _codec_cases(results, corpus, baseline=False) if cpu_us_per_kib(c) is not None
    ]
    if not cases:
        return None
    figure, axes = plt.subplots(figsize=(9, 6))
    xs = [cpu_us_per_kib(c) or 0.0 for c in cases]
    ys = [saved_share(c) * 100 for c in cases]
    for case, x, y in zip(cases, xs, ys, strict=True):
        style = _style(case)
        axes.scatter([x], [y], color=style["color"], marker=style["marker"], s=40, zorder=3)
    labels = [
        axes.text(x, y, text, fontsize=7)
        for x, y, text in _one_label_per_spot(xs, ys, [c.codec for c in cases])
    ]
    axes.margins(x=0.2, y=0.15)  # room inside the axes for the labels at the edges
    on_front = {c.codec: (x, y) for c, x, y in zip(cases, xs, ys, strict=True)}
    line = [on_front[codec] for codec in front(cases)]
    if line:
        axes.plot(*zip(*line, strict=True), color=FRONT_COLOR, linestyle=":", zorder=2)
    axes.axhline(0, color=_FAMILY_COLORS["none"], linewidth=1)
    axes.set_xscale("log")
    _plain_numbers(axes.xaxis)
    axes.set_xlabel("CPU per KiB of payload, encode + decode, µs (log scale; left is cheaper)")
    axes.set_ylabel("bytes saved, % (0: no codec; below: the codec adds bytes)")
    axes.set_title(f"Bytes saved against CPU, codec layer, corpus {corpus}")
    axes.grid(True, which="both", alpha=0.3)
    front_key = Line2D(
        [], [], color=FRONT_COLOR, linestyle=":", label="front: no codec saves more for less"
    )
    _legends(axes, cases, [front_key])
    # Labels kept off each other and off every point, inside the axes as laid out for saving
    # (laid out after, the axes shrank under labels placed at their edge).
    figure.tight_layout()
    adjust_text(
        labels,
        x=xs,
        y=ys,
        ax=axes,
        expand=(1.5, 1.8),
        force_text=(0.3, 0.6),
        # A number of iterations, not adjustText's default second: under load a second held
        # fewer iterations, and the labels landed elsewhere from one run to the next.
        iter_lim=ADJUST_ITERATIONS,
        arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5},
    )
    return _save(figure, path)


ADJUST_ITERATIONS = 500


def _one_label_per_spot(
    xs: Sequence[float], ys: Sequence[float], names: Sequence[str]
) -> list[tuple[float, float, str]]:
    """One label for the points that sit on one spot (within 8 % of CPU and 2.5 points of
    bytes saved, about a marker's width here: gzip:6 and zlib:6 are one library), their names
    one per line; four labels fought over one spot and overlapped whatever adjustText did."""
    spots: list[tuple[float, float, list[str]]] = []
    for x, y, name in sorted(zip(xs, ys, names, strict=True)):
        spot = next(
            (s for s in spots if abs(math.log(x / s[0])) < 0.08 and abs(y - s[1]) < 2.5), None
        )
        if spot is None:
            spots.append((x, y, [name]))
        else:
            spot[2].append(name)
    return [(x, y, "\n".join(found)) for x, y, found in spots]


def throughput_by_bucket(results: Results, corpus: str, path: Path) -> Path | None:
    """Encode and decode throughput per size bucket, one line per codec."""
    cases = _codec_cases(results, corpus, baseline=False)
    names = [b.name for b in BUCKETS if any(b.name in c.buckets for c in cases)]
    if not cases or not names:
        return None
    figure, panes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for pane, side in zip(panes, ("encode", "decode"), strict=True):
        for case in cases:
            values = [case.value(name, f"{side}_mbps") or np.nan for name in names]
            pane.plot(names, values, label=case.codec, **_style(case))
        pane.set_yscale("log")
        pane.set_title(f"{side} throughput by payload size, corpus {corpus}")
        pane.set_xlabel("payload size bucket (serialized, before encoding)")
        pane.grid(True, which="both", alpha=0.3)
    panes[0].set_ylabel("MB/s of original bytes (median, log scale)")
    for pane in panes:
        _plain_numbers(pane.yaxis)
    _outside(panes[1], fontsize=7)
    return _save(figure, path)


def client_path(results: Results, corpus: str, path: Path) -> Path | None:
    """Workflow round trip by payload size bucket (median over rounds with its interval) and
    what is stored per workflow, history and S3, per codec and route (client layer); the
    legend below both panels."""
    cases = [c for c in results.cases_of(Layer.CLIENT, corpus) if c.has(ALL, "latency_ms")]
    if not cases:
        return None
    names = [b.name for b in BUCKETS if any(c.has(b.name, "latency_ms") for c in cases)]
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [3, 2]}
    )
    for offset, case in enumerate(cases):
        estimates = [case.estimate(name, "latency_ms") for name in names]
        xs = [i + (offset - len(cases) / 2) * 0.06 for i, e in enumerate(estimates) if e]
        found = [e for e in estimates if e]
        left.errorbar(
            xs,
            [e.median for e in found],
            yerr=[[e.median - e.low for e in found], [e.high - e.median for e in found]],
            label=case.row,
            capsize=2,
            **_style(case),
        )
    left.set_xticks(range(len(names)), names, fontsize=8)
    left.set_yscale("log")
    _plain_numbers(left.yaxis)
    left.set_xlabel("payload size bucket")
    left.set_ylabel("workflow round trip, ms (median, 95% CI, log)")
    left.set_title(f"Client path by payload size, corpus {corpus}", fontsize=11)
    left.grid(True, which="both", alpha=0.3)
    _stored_per_workflow(right, cases)
    return _save_with_legend_below(figure, left, path, columns=3)


def round_trip_stages(results: Results, corpus: str, path: Path) -> Path | None:
    """Where a round trip's time goes: each stage's median per codec, stacked, one panel per
    size bucket (the SDK's default route); the stages holding a codec's work solid, the waits
    hatched."""
    cases = [
        c
        for c in results.cases_of(Layer.CLIENT, corpus)
        if c.route is not None and c.route.default and c.has(ALL, "stage_ms")
    ]
    names = [b.name for b in BUCKETS if any(c.has(b.name, "stage_ms") for c in cases)]
    if not names:
        return None
    figure, panels = plt.subplots(
        len(names), 1, figsize=(11, 1.1 + 0.45 * len(cases) * len(names)), squeeze=False
    )
    colors = [plt.get_cmap("tab10")(i) for i in range(10)]
    for axes, bucket in zip(panels[:, 0], names, strict=True):
        rows = [c for c in cases if c.has(bucket, "stage_ms")]
        left = np.zeros(len(rows))
        for index, stage in enumerate(STAGES):
            widths = np.asarray([c.raw(bucket, "stage_ms")[stage.name] for c in rows])
            axes.barh(
                [c.row for c in rows],
                widths,
                left=left,
                color=colors[index % len(colors)],
                hatch=None if stage.codec else "//",
                edgecolor="white",
                label=stage.name + (" (codec)" if stage.codec else ""),
            )
            left += widths
        axes.invert_yaxis()
        axes.tick_params(axis="y", labelsize=8)
        axes.set_title(f"payloads of {bucket}", fontsize=9, loc="left")
        axes.grid(True, axis="x", alpha=0.3)
    panels[-1, 0].set_xlabel("ms, median of each stage over the workflows of the bucket")
    figure.suptitle(
        f"Where a round trip's time goes, corpus {corpus}: solid stages hold a codec's work, "
        "hatched ones are waits",
        fontsize=10,
    )
    return _save_with_legend_below(figure, panels[0, 0], path, columns=4)


def _stored_per_workflow(axes: Axes, cases: Sequence[CaseResult]) -> None:
    """History and S3 bytes per workflow, stacked, over the size buckets every case measured:
    an offloading route's history alone, against another route's over other payloads, made
    offloading look four times worse."""
    common = [
        b.name for b in BUCKETS if all(c.has(b.name, "history_bytes_per_workflow") for c in cases)
    ]

    def kib(case: CaseResult, metric: str) -> float:
        return sum(case.value(name, metric) or 0.0 for name in common) / 1024

    rows = [c.row for c in cases]
    history = [kib(c, "history_bytes_per_workflow") for c in cases]
    s3 = [kib(c, "s3_bytes_per_workflow") for c in cases]
    colors = [_style(c)["color"] for c in cases]
    axes.barh(rows, history, color=colors, label="history")
    axes.barh(rows, s3, left=history, color=colors, alpha=0.4, hatch="//", label="S3")
    axes.tick_params(axis="y", labelsize=8)
    axes.set_xlabel(f"KiB stored, one workflow per size bucket ({', '.join(common)})")
    axes.set_title("What is stored: history, then S3 (hatched)", fontsize=11)
    axes.grid(True, axis="x", alpha=0.3)


def reading_times(cases: Sequence[CaseResult], path: Path) -> Path | None:
    """CLI ``workflow show`` time against the history's payload count, per codec (p50 with its
    interval, log-log), and the Web UI's page time where it was measured (hollow markers)."""
    by_codec: dict[str, list[CaseResult]] = {}
    for case in cases:
        if case.has(ALL, "show_ms"):
            by_codec.setdefault(case.codec, []).append(case)
    if not by_codec:
        return None
    figure, axes = plt.subplots(figsize=(9, 5.5))
    for codec, group in by_codec.items():
        style = _style(group[0])
        for metric, hollow in (("show_ms", False), ("ui_ms", True)):
            points = [
                (c.value(ALL, "payloads_in_history") or 0.0, e)
                for c in group
                if (e := c.estimate(ALL, metric, "p50")) is not None
            ]
            if not points:
                continue
            counts, found = [x for x, _ in points], [e for _, e in points]
            axes.errorbar(
                counts,
                [e.median for e in found],
                yerr=[[e.median - e.low for e in found], [e.high - e.median for e in found]],
                label=f"{codec}, {'Web UI page' if hollow else 'CLI show'}",
                capsize=2,
                color=style["color"],
                marker=style["marker"],
                markerfacecolor="none" if hollow else style["color"],
                linestyle=":" if hollow else style["linestyle"],
            )
    axes.set_xscale("log")
    axes.set_yscale("log")
    _plain_numbers(axes.xaxis)
    _plain_numbers(axes.yaxis)
    _labelled(
        axes,
        "payloads in the history",
        "ms to show it (p50 over rounds, 95% CI, log scale)",
        "Reading a history through the codec server",
    )
    return _save(figure, path)


_STRATEGY_MARKERS = {"inline": "o", "compress": "s", "offload": "D", "compress, then offload": "^"}


def large_payloads(
    lines: Sequence[tuple[str, CaseResult, Mapping[str, LargeCell]]],
    classes: Sequence[str],
    path: Path,
) -> Path | None:
    """Round trip p50 by payload size class, one line per case and route (marker by strategy,
    colour by codec family); a size that failed is a red cross on the axis's floor."""
    shown = [c for c in classes if any(c in cells for _, _, cells in lines)]
    if not shown:
        return None
    figure, axes = plt.subplots(figsize=(10, 5.5))
    failed_x: list[int] = []
    for label, case, cells in lines:
        points = [
            (i, cell.p50_ms)
            for i, name in enumerate(shown)
            if (cell := cells.get(name)) is not None and cell.passes and cell.p50_ms
        ]
        failed_x += [i for i, name in enumerate(shown) if name in cells and not cells[name].passes]
        if points:
            axes.plot(
                [x for x, _ in points],
                [y for _, y in points],
                label=label,
                color=_FAMILY_COLORS.get(case.facts.family, "black"),
                marker=_STRATEGY_MARKERS[strategy(case)],
                markerfacecolor="none" if case.facts.encrypts else None,
                linestyle="--" if case.route is not None and case.route.offloads else "-",
            )
    axes.set_yscale("log")
    _plain_numbers(axes.yaxis)
    if failed_x:
        floor = axes.get_ylim()[0]
        axes.plot(
            failed_x,
            [floor] * len(failed_x),
            "x",
            color="red",
            markersize=10,
            label="a route failed here",
            clip_on=False,
        )
    axes.set_xticks(range(len(shown)), shown)
    _labelled(
        axes,
        "payload size before the codec",
        "workflow round trip, ms (p50, log scale)",
        "Large payloads: inline, compressed, offloaded (dashed); hollow: encrypted",
    )
    return _save(figure, path)


PLOTTED_CHANGES = 40


def comparison_deltas(
    rows: Sequence[tuple[str, float, float, float, str]],
    xlabel: str,
    min_effect: float,
    path: Path,
) -> Path | None:
    """Each ``(label, ratio, low, high, verdict)`` as a percentage change with its interval;
    green faster, red slower, gray no significant change; dotted lines at the minimum effect.
    Only the ``PLOTTED_CHANGES`` largest changes, so that the plot keeps a readable height; the
    comparison's table holds every row."""
    if not rows:
        return None
    if len(rows) > PLOTTED_CHANGES:
        rows = sorted(rows, key=lambda row: -abs(math.log(row[1])))[:PLOTTED_CHANGES]
        xlabel += f" (the {PLOTTED_CHANGES} largest changes; every row is in the table)"
    figure, axes = plt.subplots(figsize=(9, 0.28 * len(rows) + 1.5))
    colors = {"faster": "tab:green", "slower": "tab:red"}
    for y, (_, ratio, low, high, verdict) in enumerate(rows):
        axes.errorbar(
            (ratio - 1) * 100,
            y,
            xerr=[[(ratio - low) * 100], [(high - ratio) * 100]],
            fmt="o",
            color=colors.get(verdict, "gray"),
        )
    axes.set_yticks(range(len(rows)), [row[0] for row in rows], fontsize=6)
    axes.axvline(0, color="black", linewidth=0.8)
    for edge in (-min_effect * 100, min_effect * 100):
        axes.axvline(edge, color="gray", linestyle=":", linewidth=0.8)
    axes.set_xlabel(xlabel)
    axes.set_title("Timed rows against the first run: change with its 95 % interval")
    return _save(figure, path)


@dataclass(frozen=True)
class Trace:
    """One series of a history plot: values (with intervals) at run positions ``xs``, and the
    positions where a change was found."""

    label: str
    xs: list[int]
    values: list[float]
    lows: list[float | None]
    highs: list[float | None]
    changes: list[int]


def _trace_style(label: str) -> dict[str, Any]:
    """:func:`_styled` from a row label alone (``zstd:3@zstandard (A)``, ``none [variant]``):
    a history keeps no codec facts, and the label states them."""
    spec, _, replica = label.split(" [", 1)[0].partition(" (")
    return _styled(CodecFacts.of_spec(spec, replica.rstrip(")") or None))


def history_series(
    traces: Sequence[Trace], run_names: Sequence[str], ylabel: str, title: str, path: Path
) -> Path | None:
    """Values over runs, one line per codec with its 95 % interval, each change found marked
    by a ring on the first run after it; the legend sits outside the axes so it covers no
    point."""
    if not traces:
        return None
    figure, axes = plt.subplots(figsize=(11, 4.6))
    for trace in traces:
        style = _trace_style(trace.label)
        below = [
            v - (lo if lo is not None else v)
            for v, lo in zip(trace.values, trace.lows, strict=True)
        ]
        above = [
            (hi if hi is not None else v) - v
            for v, hi in zip(trace.values, trace.highs, strict=True)
        ]
        axes.errorbar(
            trace.xs,
            trace.values,
            yerr=[below, above],
            label=trace.label,
            capsize=2,
            markersize=4,
            **style,
        )
        for x in trace.changes:
            y = trace.values[trace.xs.index(x)]
            axes.plot(
                [x],
                [y],
                marker="o",
                markersize=14,
                markerfacecolor="none",
                color=style["color"],
                linestyle="",
            )
    axes.set_yscale("log")
    _plain_numbers(axes.yaxis)
    axes.set_xticks(range(len(run_names)), run_names, rotation=30, ha="right", fontsize=8)
    axes.set_xlabel("run, in the order measured (ring: first run after a change)")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    _outside(axes, fontsize=7)
    return _save(figure, path)
