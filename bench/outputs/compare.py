"""``codec-bench compare A.json B.json [C.json ...]``: what changed between runs, decided by a
rank test on the raw samples plus a minimum effect size, never by two means.

Rows are matched by layer, codec, corpus, size bucket and metric. Timed metrics (throughput,
latency) get the ratio of medians to the first run with a bootstrap confidence interval and a
verdict; sizes must be identical for the same codec and corpus, and any change is shown. When a
test cannot be computed (too few samples), the verdict says so: an error never turns into
"faster" or "slower".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from bench.outputs import render
from bench.outputs.render import Block, Image, Section, Table
from bench.results import ALL, CaseResult, Layer, Results
from bench.results.metrics import CompareAs, of_layer, series_of

ALPHA = 0.01
MIN_EFFECT = 0.05
"""Changes smaller than 5 % are not called, however significant: below the noise floor that
A/A pairs show on a shared machine, and too small to choose a codec by."""
FASTER, SLOWER, SAME = "faster", "slower", "no significant change"
FEW = "too few samples to test"
ENVIRONMENT_KEYS = ("cpu_model", "cpu_count", "platform", "python", "packages", "native", "malloc")


@dataclass(frozen=True)
class Delta:
    """One matched row between the first run and another."""

    run: str
    layer: str
    codec: str
    corpus: str
    bucket: str
    metric: str
    first: float
    other: float
    ratio: float
    """other / first (medians for timed metrics)."""
    low: float | None
    high: float | None
    p_value: float | None
    verdict: str
    speedup: float | None
    """Ratio oriented so that above 1 is better (faster, or lower latency); timed rows only."""


@dataclass
class Comparison:
    runs: list[str]
    drift: dict[str, float] = field(default_factory=dict)
    """Per run: the median speed ratio of the raw-layer rows against the first run, a measure
    of how much faster or slower the whole machine was. Divided out when normalized."""
    normalized: bool = False
    deltas: list[Delta] = field(default_factory=list)
    only_in: dict[str, list[str]] = field(default_factory=dict)
    """Rows present in one run but not the first, per run id."""
    environment: list[str] = field(default_factory=list)
    """Differences of environment and corpora that may explain (or invalidate) a change."""
    baselines: set[str] = field(default_factory=set)
    """Row labels of the identity baseline: an instrument, reported but never gated on."""

    def geomean(self, run: str) -> dict[str, float]:
        """Geometric mean speed ratio per codec over its timed rows (above 1: faster)."""
        by_codec: dict[str, list[float]] = {}
        for d in self.deltas:
            if d.run == run and d.speedup is not None and d.bucket == ALL:
                by_codec.setdefault(d.codec, []).append(d.speedup)
        return {codec: float(math.exp(np.mean(np.log(v)))) for codec, v in by_codec.items()}

    def geomean_codecs(self) -> set[str]:
        """Codecs with at least one timed row compared, in any run (baseline excluded)."""
        return {
            codec
            for run in self.runs[1:]
            for codec in self.geomean(run)
            if codec not in self.baselines
        }

    def regressions(self, percent: float) -> list[tuple[str, str, float, list[Delta]]]:
        """``(run, codec, geometric mean speed ratio, its significantly slower rows)`` for each
        codec whose speed over all payloads fell by at least ``percent`` % with at least one
        significant slowdown behind it.

        Judged per codec over all payloads rather than per row: with dozens of rows, some small
        size bucket always drifts between two runs, and a gate must not fire on that. The A/A
        baseline pair is an instrument (it times little more than a coroutine call, which drifts
        unlike compression work): it is reported, never gated on."""
        found = []
        for run in self.runs[1:]:
            for codec, ratio in self.geomean(run).items():
                if codec in self.baselines:
                    continue
                slower = [
                    d
                    for d in self.deltas
                    if d.run == run and d.codec == codec and d.bucket == ALL and d.verdict == SLOWER
                ]
                if ratio <= 1 - percent / 100 and slower:
                    found.append((run, codec, ratio, slower))
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "drift": self.drift,
            "normalized": self.normalized,
            "deltas": [asdict(d) for d in self.deltas],
            "only_in": self.only_in,
            "environment": self.environment,
            "geomean": {run: self.geomean(run) for run in self.runs[1:]},
        }


def _ratio_ci(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> tuple[float, float]:
    result = stats.bootstrap(
        (a, b),
        lambda x, y, axis: np.median(y, axis=axis) / np.median(x, axis=axis),
        vectorized=True,
        paired=False,
        method="percentile",
        n_resamples=2000,
        rng=np.random.default_rng(1),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def judge(
    first: Sequence[float], other: Sequence[float], higher_is_better: bool, min_effect: float
) -> tuple[float, float | None, float | None, float | None, str]:
    """Ratio of medians (other / first), its 95 % CI, the Mann-Whitney p-value and the verdict."""
    a, b = np.asarray(first, dtype=float), np.asarray(other, dtype=float)
    ratio = float(np.median(b) / np.median(a))
    if a.size < 3 or b.size < 3:
        return ratio, None, None, None, FEW
    low, high = _ratio_ci(a, b)
    p_value = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    speedup = ratio if higher_is_better else 1 / ratio
    if p_value < ALPHA and abs(speedup - 1) >= min_effect:
        verdict = FASTER if speedup > 1 else SLOWER
    else:
        verdict = SAME
    return ratio, low, high, p_value, verdict


def _environment_changes(first: Results, other: Results) -> list[str]:
    notes = []
    for key in ENVIRONMENT_KEYS:
        a, b = first.environment.get(key), other.environment.get(key)
        if a != b:
            if isinstance(a, dict) and isinstance(b, dict):
                changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
                for name in changed:
                    notes.append(f"{other.run_id}: {key} {name}: {a.get(name)} -> {b.get(name)}")
            else:
                notes.append(f"{other.run_id}: {key}: {a} -> {b}")
    digests = {c.name: c.digest for c in first.corpora}
    for corpus in other.corpora:
        if corpus.name in digests and digests[corpus.name] != corpus.digest:
            notes.append(
                f"{other.run_id}: corpus {corpus.name} holds other payloads (sha256 differs)"
            )
    return notes


def _drift(first: Results, other: Results) -> float:
    """Median speed ratio over the matched raw-layer rows (all payloads): bare library calls,
    the purest measure of how fast the machine ran. Codec-layer rows stand in when a run has
    no raw layer (only user codecs)."""
    layer = Layer.RAW if any(c.layer is Layer.RAW for c in first.cases) else Layer.CODEC
    ratios = []
    for case in first.cases:
        peer = other.case(case.layer, case.codec, case.corpus, case.variant)
        if peer is None or case.layer is not layer:
            continue
        for metric in ("encode_mbps", "decode_mbps"):
            a, b = series_of(case, ALL, metric), series_of(peer, ALL, metric)
            if a and b:
                ratios.append(float(np.median(b) / np.median(a)))
    return float(np.median(ratios)) if ratios else 1.0


def _timed_deltas(
    where: tuple[str, str, str, str, str],
    case: CaseResult,
    peer: CaseResult,
    scale: float,
    min_effect: float,
) -> list[Delta]:
    bucket = where[-1]
    deltas = []
    for metric in of_layer(case.layer, CompareAs.TIMED):
        a, b = series_of(case, bucket, metric.name), series_of(peer, bucket, metric.name)
        if not a or not b:
            continue
        if case.layer.in_process:
            b = [value / scale for value in b]
        higher = bool(metric.higher_is_better)
        ratio, low, high, p, verdict = judge(a, b, higher, min_effect)
        speedup = ratio if higher else 1 / ratio
        first, other = float(np.median(a)), float(np.median(b))
        deltas.append(
            Delta(*where, metric.name, first, other, ratio, low, high, p, verdict, speedup)
        )
    return deltas


def _size_deltas(
    where: tuple[str, str, str, str, str], case: CaseResult, peer: CaseResult
) -> list[Delta]:
    bucket = where[-1]
    deltas = []
    for metric in of_layer(case.layer, CompareAs.SIZE):
        x, y = case.value(bucket, metric.name), peer.value(bucket, metric.name)
        if x is None or y is None:
            continue
        same = abs(y - x) <= metric.tolerance * abs(x)
        verdict = ("identical" if x == y else "within tolerance") if same else "changed"
        ratio = y / x if x else 1.0
        deltas.append(Delta(*where, metric.name, x, y, ratio, None, None, None, verdict, None))
    return deltas


def _only_in(first: Results, other: Results) -> list[str]:
    keys = {c.key for c in other.cases}.symmetric_difference(c.key for c in first.cases)
    return sorted(" / ".join(part for part in key if part) for key in keys)


def compare(
    runs: Sequence[Results], min_effect: float = MIN_EFFECT, *, normalize: bool = False
) -> Comparison:
    """Every run against the first. ``ValueError`` when no row is common to all of them.

    With ``normalize``, each run's in-process throughput is divided by its drift (the median
    change over the raw-layer rows) before testing: what remains is what changed for one codec
    relative to the others. Use it for runs on the same machine at different times; across
    machines the drift is the difference you want to see.
    """
    first = runs[0]
    result = Comparison([r.run_id for r in runs], normalized=normalize)
    result.baselines = {c.codec for c in first.cases if c.facts.baseline}
    for other in runs[1:]:
        drift = result.drift[other.run_id] = _drift(first, other)
        scale = drift if normalize else 1.0
        result.environment += _environment_changes(first, other)
        result.only_in[other.run_id] = _only_in(first, other)
        for case in first.cases:
            peer = other.case(case.layer, case.codec, case.corpus, case.variant)
            if peer is None:
                continue
            for bucket in case.buckets:
                if bucket not in peer.buckets:
                    continue
                where = (other.run_id, case.layer.value, case.codec, case.corpus, bucket)
                result.deltas += _timed_deltas(where, case, peer, scale, min_effect)
                result.deltas += _size_deltas(where, case, peer)
    if not result.deltas:
        raise ValueError(
            "the runs have no rows in common (layer, codec, corpus); compare runs of the same "
            "codecs and corpora"
        )
    return result


def _percent(value: float) -> str:
    return f"{(value - 1) * 100:+.1f} %"


def _runs_section(comparison: Comparison) -> Section:
    drift = ", ".join(f"{run} {_percent(d)}" for run, d in comparison.drift.items())
    return Section(
        "Runs",
        [
            f"First run (the reference): `{comparison.runs[0]}`; compared: "
            + ", ".join(f"`{r}`" for r in comparison.runs[1:])
            + f". Verdicts: Mann-Whitney U test, p < {ALPHA}, and a change of at least "
            f"{MIN_EFFECT:.0%}; ratios are of medians with 95 % bootstrap intervals.",
            "Machine drift (median speed ratio of the bare library calls, raw layer): "
            + drift
            + (
                "; divided out (--normalize), so changes are relative to the other codecs."
                if comparison.normalized
                else "; not divided out. If it is large and every codec moved with it, the "
                "machine changed, not the codecs: compare with --normalize."
            ),
        ],
    )


def _environment_section(comparison: Comparison) -> Section:
    return Section(
        "Warning: the environments differ",
        [
            "Changes below may come from these differences rather than from the codecs:",
            *[f"- {note}" for note in comparison.environment],
        ],
    )


_WHERE = ["layer", "codec", "corpus", "bucket", "metric", "first", "other", "change"]


def _where(d: Delta, digits: int) -> list[str]:
    return [
        d.layer,
        d.codec,
        d.corpus,
        d.bucket,
        d.metric,
        f"{d.first:,.{digits}f}",
        f"{d.other:,.{digits}f}",
        _percent(d.ratio),
    ]


def _timed_blocks(comparison: Comparison, run: str) -> list[Block]:
    timed = [d for d in comparison.deltas if d.run == run and d.speedup is not None]
    flagged = [d for d in timed if d.verdict in (FASTER, SLOWER)]
    blocks: list[Block] = [
        f"{len(flagged)} of {len(timed)} timed rows changed significantly "
        f"({len(flagged) / len(timed):.1%})."
        if timed
        else "No timed rows in common.",
        Table(
            ["codec", "geometric mean speed ratio (above 1: faster)"],
            [[codec, f"{value:.3f}"] for codec, value in sorted(comparison.geomean(run).items())],
        ),
    ]
    if flagged:
        rows = [
            [
                *_where(d, 2),
                f"{_percent(d.low)} .. {_percent(d.high)}" if d.low and d.high else "-",
                f"{d.p_value:.2g}" if d.p_value is not None else "-",
                d.verdict,
            ]
            for d in flagged
        ]
        blocks += ["Significant changes:", Table([*_WHERE, "95% CI", "p", "verdict"], rows)]
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
        image = _plot(comparison, run, folder / f"compare-{run}.png")
        if image is not None:
            section.blocks.append(Image(image, f"Speed changes of {run}"))
    return section


def sections(comparison: Comparison, folder: Path | None) -> list[Section]:
    """Summary, regressions and improvements, every timed row, size changes, and warnings."""
    out = [_runs_section(comparison)]
    if comparison.environment:
        out.append(_environment_section(comparison))
    out += [_run_section(comparison, run, folder) for run in comparison.runs[1:]]
    return out


def _plot(comparison: Comparison, run: str, path: Path) -> Path | None:
    rows = [
        d
        for d in comparison.deltas
        if d.run == run
        and d.speedup is not None
        and d.bucket == ALL
        and d.low is not None
        and d.high is not None
    ]
    from bench.outputs import plots  # matplotlib only when a plot is written

    return plots.comparison_deltas(
        [
            (
                f"{d.layer} {d.codec} {d.corpus} {d.metric}",
                d.ratio,
                d.low or d.ratio,
                d.high or d.ratio,
                d.verdict,
            )
            for d in rows
        ],
        f"change of {run} against {comparison.runs[0]}, % (median ratio, 95% CI)",
        MIN_EFFECT,
        path,
    )


def write(comparison: Comparison, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return render.write(
        folder, "compare", sections(comparison, folder), "Codec benchmark comparison"
    )
