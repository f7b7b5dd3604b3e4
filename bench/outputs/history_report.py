"""The history dashboard (``history report``) and the tables ``history list`` and ``history
check`` print: Markdown and a self-contained HTML page from the same sections, plots beside
them, and ``history.json`` with every series and change as plain data."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.history.changes import PENALTY, Change
from bench.history.check import MIN_BASELINE, Finding
from bench.history.series import Series
from bench.history.store import Run
from bench.outputs import render
from bench.outputs.render import Image, Section, Table
from bench.results.metrics import metric as metric_named
from bench.results.schema import atomic_write

PLOTTED = ("encode_geomean_us", "decode_geomean_us", "latency_ms", "encoded_bytes")
"""The series drawn, per layer and corpus: what the regression gate reads in each layer, and
what a codec stores (only where it changed). Every series, plotted or not, is in the changes
table and history.json."""
SCHEMA = "temporal-codec-bench/history-report"
SCHEMA_VERSION = 1
TITLE = "Codec benchmark history"


def percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{(ratio - 1) * 100:+.1f}%"


def _figure(value: float, unit: str = "") -> str:
    if unit == "B":  # exact: a change of a few bytes must show
        return f"{value:,.0f} B"
    return f"{value:,.4g} {unit}".strip()


def runs_section(runs: Sequence[Run]) -> Section:
    rows = [
        [
            str(run.id),
            run.started[:19].replace("T", " "),
            run.name,
            run.version or "-",
            run.profile,
            str(run.processes),
            str(run.details.get("python") or "-"),
            run.machine_name,
        ]
        for run in runs
    ]
    header = ["#", "started (UTC)", "run", "version", "profile", "processes", "Python", "machine"]
    return Section("Runs", [Table(header, rows)] if rows else ["No runs yet."])


def _what_else(before: Run, after: Run) -> str:
    """What differed between the run before a change and the run at it, besides the code."""
    notes = []
    if before.commit_id != after.commit_id and after.commit_id:
        notes.append(f"commit {before.commit_id[:10] or '?'} -> {after.commit_id[:10]}")
    old, new = before.details, after.details
    if old.get("python") != new.get("python"):
        notes.append(f"Python {old.get('python')} -> {new.get('python')}")
    packages_before, packages_after = old.get("packages", {}), new.get("packages", {})
    for name in sorted(packages_before.keys() | packages_after.keys()):
        if packages_before.get(name) != packages_after.get(name):
            notes.append(f"{name} {packages_before.get(name)} -> {packages_after.get(name)}")
    corpora_before, corpora_after = old.get("corpora", {}), new.get("corpora", {})
    notes += [
        f"corpus {name} holds other payloads"
        for name in sorted(corpora_before.keys() & corpora_after.keys())
        if corpora_before[name] != corpora_after[name]
    ]
    return "; ".join(notes) or "nothing recorded"


def _change_row(series: Series, change: Change) -> list[str]:
    unit = metric_named(series.metric).unit
    interval = (
        "exact"
        if change.low is None
        else f"{percent(change.ratio)} [{percent(change.low)} .. {percent(change.high)}]"
    )
    return [
        series.label,
        series.runs[change.at].name,
        _figure(change.before, unit),
        _figure(change.after, unit),
        interval,
        _what_else(series.runs[change.at - 1], series.runs[change.at]),
    ]


def changes_section(machine: str, found: Sequence[Series]) -> Section:
    rows = [_change_row(s, c) for s in found for c in s.changes]
    header = [
        "series (layer codec corpus metric)",
        "from run",
        "before",
        "after",
        "change [95% CI]",
        "what else changed",
    ]
    title = f"Changes on {machine}"
    if not rows:
        runs = max((len(s.runs) for s in found), default=0)
        return Section(title, [f"No change found in {len(found)} series over {runs} runs."])
    lead = (
        f"{len(rows)} changes in {len(found)} series. Before and after are the geometric means "
        "of the stretches the change separates; the interval is Welch's t on logs."
    )
    return Section(title, [lead, Table(header, rows)])


def _plots(found: Sequence[Series], out: Path, index: int) -> list[Image]:
    from bench.outputs import plots  # matplotlib only when a plot is written

    runs = sorted(
        {run.id: run for s in found for run in s.runs}.values(), key=lambda r: (r.started, r.id)
    )
    position = {run.id: x for x, run in enumerate(runs)}
    names = [run.name for run in runs]
    groups: dict[tuple[str, str, str], list[Series]] = {}
    for series in found:
        if series.metric in PLOTTED:
            groups.setdefault((series.layer, series.key[2], series.metric), []).append(series)
    images = []
    for (layer, corpus, name), members in sorted(groups.items()):
        if all(s.exact for s in members) and not any(s.changes for s in members):
            continue  # sizes that never changed: a flat line per codec says nothing
        traces = [
            plots.Trace(
                s.key[1],
                [position[r.id] for r in s.runs],
                s.values,
                s.lows,
                s.highs,
                [position[s.runs[c.at].id] for c in s.changes],
            )
            for s in members
        ]
        definition = metric_named(name)
        stem = re.sub(r"[^a-z0-9]+", "-", f"history-{index}-{layer}-{corpus}-{name}".lower())
        path = plots.history_series(
            traces,
            names,
            f"{name} ({definition.unit})" if definition.unit else name,
            f"{layer} layer, corpus {corpus}: {name}",
            out / f"{stem}.png",
        )
        if path is not None:
            images.append(Image(path, f"{layer} {corpus} {name} over runs"))
    return images


def _method(normalized: bool) -> Section:
    return Section(
        "Method",
        [
            "Each run is one point per series (layer x codec x corpus x metric, all payloads): "
            "the median over its rounds, or the geometric mean of its processes' medians with "
            "their spread as the interval. Series never mix machines (CPU model, cores, OS).",
            "Changes: PELT change-point detection (ruptures) on the logs of each series, "
            f"penalty {PENALTY:g} x noise² x log(runs), the noise read from successive runs and "
            "floored at the median of the machine's series of the same layer and metric; a "
            "change is kept when Welch's t on the logs of the stretches on either side gives "
            "p < 0.01. Sizes are exact: any difference is a change.",
            f"`codec-bench history check` judges the newest run against the last stable stretch "
            f"of each gated series (at least {MIN_BASELINE} runs), as a t prediction with "
            "moderated variances, Holm-corrected, intervals held together over the series.",
            "In-process times are normalised by each run's reference workloads."
            if normalized
            else "Values are as measured (`--normalize` divides out each run's machine speed).",
        ],
    )


def write(
    runs: Sequence[Run], found: Mapping[str, Sequence[Series]], out: Path, *, normalized: bool
) -> Path:
    """``dashboard.md``, ``dashboard.html`` (self-contained), the plots and ``history.json``
    in ``out``; returns the HTML page."""
    out.mkdir(parents=True, exist_ok=True)
    names = {run.machine: run.machine_name for run in runs}
    sections = [
        Section(
            "Summary",
            [
                f"{len(runs)} runs on {len(found)} machine(s), from "
                f"{runs[0].started[:10]} to {runs[-1].started[:10]}; "
                f"{sum(len(s.changes) for v in found.values() for s in v)} changes found in "
                f"{sum(len(v) for v in found.values())} series."
            ],
        )
    ]
    for index, (machine, series) in enumerate(found.items()):
        sections.append(changes_section(names[machine], series))
        images = _plots(series, out, index)
        if images:
            sections.append(Section(f"Series on {names[machine]}", list(images)))
    sections += [runs_section(runs), _method(normalized)]
    _, page = render.write(out, "dashboard", sections, TITLE)
    document = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "normalized": normalized,
        "runs": [vars(run) for run in runs],
        "machines": {
            machine: {"name": names[machine], "series": [_series_json(s) for s in series]}
            for machine, series in found.items()
        },
    }
    atomic_write(out / "history.json", lambda sink: json.dump(document, sink, indent=1))
    return page


def _series_json(series: Series) -> dict[str, Any]:
    layer, codec, corpus, metric = series.key
    return {
        "layer": layer,
        "codec": codec,
        "corpus": corpus,
        "metric": metric,
        "unit": metric_named(metric).unit,
        "runs": [run.id for run in series.runs],
        "values": series.values,
        "lows": series.lows,
        "highs": series.highs,
        "changes": [
            {**vars(change), "run": series.runs[change.at].id} for change in series.changes
        ],
    }


def check_section(newest: Run, findings: Sequence[Finding]) -> Section:
    rows = [
        [
            f.series.label,
            str(f.runs),
            _figure(f.expected),
            _figure(f.newest),
            f"{percent(f.speedup)} [{percent(f.low)} .. {percent(f.high)}]"
            if f.low is not None
            else percent(f.speedup),
            f.verdict,
        ]
        for f in findings
    ]
    header = ["series", "stable runs", "expected", "newest", "speed [CI]", "verdict"]
    lead = (
        f"Run {newest.id} ({newest.name}) against the last stable stretch of each gated series "
        f"on {newest.machine_name}; speed above +0% is faster."
    )
    return Section(f"Run {newest.id} against its history", [lead, Table(header, rows)])


def findings_json(newest: Run, findings: Sequence[Finding]) -> dict[str, Any]:
    return {
        "run": vars(newest),
        "findings": [
            {
                "layer": f.series.key[0],
                "codec": f.series.key[1],
                "corpus": f.series.key[2],
                "metric": f.series.key[3],
                "stable_runs": f.runs,
                "expected": f.expected,
                "newest": f.newest,
                "speedup": f.speedup,
                "low": f.low,
                "high": f.high,
                "p_value": f.p_value,
                "verdict": f.verdict,
            }
            for f in findings
        ],
    }
