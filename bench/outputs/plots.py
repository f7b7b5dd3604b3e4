"""The report's figures, drawn with matplotlib's Agg backend from a results file alone."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from bench.outputs.ranking import pareto_front
from bench.results import ALL, CaseResult, Layer, Results
from bench.results.buckets import BUCKETS

_FAMILY_COLORS = {
    "none": "tab:gray",
    "snappy": "tab:green",
    "zstd": "tab:blue",
    "lz4": "tab:purple",
    "gzip": "tab:brown",
    "zlib": "tab:orange",
    "aes256gcm": "tab:red",
}


def _style(case: CaseResult) -> dict[str, str]:
    """Color by compression family, dashed line and triangle marker when the chain encrypts, so
    13 or more codecs stay distinguishable."""
    family = case.facts.family
    encrypted = case.facts.encrypts and case.facts.compresses
    return {
        "color": _FAMILY_COLORS.get(family, "black"),
        "marker": "^" if encrypted else "o",
        "linestyle": "--" if encrypted else "-",
    }


def _codec_cases(results: Results, corpus: str, *, baseline: bool = True) -> list[CaseResult]:
    """Codec-layer cases of ``corpus``; without the identity baseline where its near-infinite
    throughput would squash every other codec into a corner of the plot."""
    cases = results.cases_of(Layer.CODEC, corpus)
    return cases if baseline else [c for c in cases if not c.facts.baseline]


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def ratio_vs_speed(results: Results, corpus: str, path: Path) -> Path | None:
    """Compression ratio against encode throughput, with the Pareto frontier."""
    cases = [c for c in _codec_cases(results, corpus, baseline=False) if c.has(ALL, "encode_mbps")]
    if not cases:
        return None
    points = [(c.value(ALL, "encode_mbps") or 0.0, c.value(ALL, "ratio") or 0.0) for c in cases]
    front = pareto_front(points)
    figure, axes = plt.subplots(figsize=(8, 5.5))
    xs, ys = zip(*points, strict=True)
    for case, x, y in zip(cases, xs, ys, strict=True):
        style = _style(case)
        axes.scatter([x], [y], color=style["color"], marker=style["marker"], zorder=3)
    axes.plot(
        [points[i][0] for i in front],
        [points[i][1] for i in front],
        color="tab:orange",
        linestyle="--",
        zorder=2,
        label="Pareto frontier",
    )
    for case, (x, y) in zip(cases, points, strict=True):
        axes.annotate(case.codec, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes.set_xscale("log")
    axes.set_xlabel("encode throughput, MB/s of original bytes (median, log scale)")
    axes.set_ylabel("compression ratio (original / stored)")
    axes.set_title(f"Ratio vs encode speed, codec layer, corpus {corpus}")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    return _save(figure, path)


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
    panes[1].legend(fontsize=7, loc="best")
    return _save(figure, path)


def latency_distribution(results: Results, corpus: str, path: Path) -> Path | None:
    """Per-payload encode and decode times (median over rounds) as box plots."""
    cases = [c for c in _codec_cases(results, corpus) if c.samples["encode_ns"]]
    if not cases:
        return None
    figure, panes = plt.subplots(1, 2, figsize=(12, 0.35 * len(cases) + 2.5), sharey=True)
    for pane, side in zip(panes, ("encode", "decode"), strict=True):
        data = []
        for case in cases:
            rows = np.asarray(case.samples[f"{side}_ns"], dtype=float)
            per_call = rows / np.asarray(case.samples[f"{side}_repeats"], dtype=float)
            data.append(np.median(per_call, axis=0) / 1e3)
        pane.boxplot(
            data,
            orientation="horizontal",
            tick_labels=[c.codec for c in cases],
            showfliers=True,
            flierprops={"markersize": 2},
        )
        pane.set_xscale("log")
        pane.set_xlabel(f"{side} time per payload, microseconds (log scale)")
        pane.grid(True, which="both", axis="x", alpha=0.3)
    panes[0].set_title(f"Per-payload latency, corpus {corpus}")
    return _save(figure, path)


def client_path(results: Results, corpus: str, path: Path) -> Path | None:
    """Workflow round trip by payload size bucket (median over rounds with its interval) and
    the history bytes stored per workflow, per codec (client layer)."""
    cases = [c for c in results.cases_of(Layer.CLIENT, corpus) if c.has(ALL, "latency_ms")]
    if not cases:
        return None
    names = [b.name for b in BUCKETS if any(c.has(b.name, "latency_ms") for c in cases)]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    for offset, case in enumerate(cases):
        estimates = [case.estimate(name, "latency_ms") for name in names]
        xs = [i + (offset - len(cases) / 2) * 0.06 for i, e in enumerate(estimates) if e]
        found = [e for e in estimates if e]
        left.errorbar(
            xs,
            [e.median for e in found],
            yerr=[[e.median - e.low for e in found], [e.high - e.median for e in found]],
            label=case.codec,
            capsize=2,
            **_style(case),
        )
    left.set_xticks(range(len(names)), names)
    left.set_yscale("log")
    left.set_xlabel("payload size bucket")
    left.set_ylabel("workflow round trip, ms (median over rounds, 95% CI, log scale)")
    left.set_title(f"Client path by payload size, corpus {corpus}")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7)
    stored = [(c.value(ALL, "history_bytes_per_workflow") or 0.0) / 1024 for c in cases]
    right.barh([c.codec for c in cases], stored, color=[_style(c)["color"] for c in cases])
    right.set_xlabel("history the server stores per workflow, KiB (median)")
    right.grid(True, axis="x", alpha=0.3)
    return _save(figure, path)


def comparison_deltas(
    rows: Sequence[tuple[str, float, float, float, str]],
    xlabel: str,
    min_effect: float,
    path: Path,
) -> Path | None:
    """Each ``(label, ratio, low, high, verdict)`` as a percentage change with its interval;
    green faster, red slower, gray no significant change; dotted lines at the minimum effect."""
    if not rows:
        return None
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
    return _save(figure, path)
