"""``codec-bench compare``: what changed between runs, decided on raw samples with the run as
the unit of comparison, corrected for the number of rows, and never by two means.

Each side of a comparison is one run or several runs of the same code. Rows are matched by
layer, codec, corpus, variant, size bucket and metric.

- With one run per side, a row's samples are its rounds. Between-run drift is then not in the
  samples, which is why ``--normalize`` exists: each round's times are divided by the reference
  workloads timed in the same round (``bench.results.drift``), which no change to the codecs can
  move, where that tightens the rounds' spread (noisy round factors would widen it and hide a
  slowdown of every codec).
- With two or more runs per side, a row's samples are the runs' medians, so run-to-run
  variation is in the test; use this for decisions that matter (see the README for how many
  runs this machine class needs).

Rows come in two families. The primary family is each codec's row of all payloads on its layer's
gated metric (per corpus, layer and direction): tested with Welch's t on logs, Holm-corrected so
the family holds at ``ALPHA``. Every other row (size buckets, throughput, CPU) is descriptive:
tested by rank with one run a side, held to a false-discovery rate of ``ALPHA``. A row is called
faster or slower only when its adjusted p-value is below ``ALPHA`` *and* its whole 95 % interval
lies beyond the minimum effect; too few samples to ever reach ``ALPHA`` is said as such, and so
is a row as clear as its samples can be that its family's correction still does not pass.

The regression gate works per layer and codec: each round's (or run's) geometric mean of the
codec's rows (encode and decode time per payload over every corpus, itself a geometric mean
over payloads), compared with Welch's t on logs; it fires when the
whole 95 % interval of the speed ratio is below ``1 - PCT/100``. The round is the unit because
a shared host moves the speed of whole stretches of time: rows timed in the same round share
that noise, and the round-to-round spread is what the interval must carry.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bench.results import ALL, CaseResult, Layer, Results
from bench.results.drift import machine_seconds, round_factors, workloads
from bench.results.metrics import CompareAs, of_layer, series_of
from bench.results.metrics import metric as metric_named
from bench.results.model import Environment
from bench.results.stats import holm, moderated_variances, smallest_rank_p

ALPHA = 0.01
MIN_EFFECT = 0.05
"""Changes smaller than 5 % are not called, however significant: too small to choose a codec by
and within what identical runs drift apart on a shared machine."""
FASTER, SLOWER, SAME = "faster", "slower", "no significant change"
SMALL = "within the minimum effect"
FEW = "too few samples to test"
UNREACHABLE = "cannot tell at this many rows"
"""A row whose samples are as far apart as a rank test of this many can show, and still not
called after the correction over the rows of its family: more rounds would tell. Saying "no
significant change" there said something untrue (90 rows of a codec made 50 % slower once
did)."""
PRIMARY, DESCRIPTIVE = "primary", "descriptive"
GATED_METRICS = {Layer.RAW: "geomean_us", Layer.CODEC: "geomean_us", Layer.CLIENT: "latency_ms"}
"""What the gate averages per layer, on the row of all payloads: encode and decode time per
payload as a geometric mean over payloads in the in-process layers (every payload in
proportion; byte-weighted MB/s would let a few large payloads decide), the round trip in the
client layer (its ``all`` is already a geometric mean over size buckets)."""
RESAMPLES = 2000
GATE_MIN_SAMPLES = 5
"""Rounds a side (one run a side) below which the gate gives no interval: with one round a side
there is no spread to test against, and with a few the noise of a shared host is not yet in
the sample, so the gate would fire on it."""
GATE_LEVEL = 0.95
"""The gate's intervals hold this much together, over every gate of a side (each is wider,
at ``1 - 0.05 / gates``)."""
Floats = np.ndarray[Any, np.dtype[np.float64]]
Samples = Sequence[float] | Floats


@dataclass(frozen=True)
class Delta:
    """One matched row between the first side and another."""

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
    """Adjusted over the row's family in this comparison: Holm (primary) or Benjamini-Hochberg
    (descriptive)."""
    verdict: str
    speedup: float | None
    """Ratio oriented so that above 1 is better (faster, or lower latency); timed rows only."""
    samples: tuple[int, int] = (0, 0)
    """How many samples stood behind each side (rounds, or runs)."""
    family: str = ""
    """``PRIMARY`` (Holm-corrected, a decision may rest on it) or ``DESCRIPTIVE`` (false
    discovery rate); empty for size rows, which are exact."""


@dataclass(frozen=True)
class Gate:
    """The speed change of one codec in one layer: geometric mean over its gated rows'
    speedups (above 1: faster), with a 95 % interval that has rounds (or runs) as its unit."""

    run: str
    layer: str
    codec: str
    speedup: float
    low: float
    high: float
    rows: int
    normalized: bool
    samples: int = 0
    """Rounds (or runs) on the smaller side; below ``GATE_MIN_SAMPLES`` the interval is
    unbounded and the gate cannot fire."""


@dataclass
class Comparison:
    runs: list[str]
    """The label of each side: a run id, or ``first-id+N`` for a group of runs."""
    normalized: bool = False
    grouped: bool = False
    """Whether the samples were runs (several per side) rather than rounds."""
    drift: dict[str, float] = field(default_factory=dict)
    """Per side: how much slower the reference workloads ran than on the first side."""
    deltas: list[Delta] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    """Normalised and raw when ``normalized``; raw only otherwise."""
    only_in: dict[str, list[str]] = field(default_factory=dict)
    environment: list[str] = field(default_factory=list)
    normalizing: list[str] = field(default_factory=list)
    """Per compared side, whether normalising was applied and why (with ``--normalize``)."""
    normalized_runs: set[str] = field(default_factory=set)
    """The sides normalising was applied to (``--normalize`` asks for it; it is applied where
    the machine moved between the sides, or where it tightens the spread within them: noisy
    round factors widened it 1.4-fold on this host and hid a slowdown of every codec)."""
    baselines: set[str] = field(default_factory=set)
    """Row labels of the identity baseline: an instrument, reported but never gated on."""

    def gates_of(self, run: str, *, normalized: bool | None = None) -> list[Gate]:
        """``run``'s gates, normalised where normalising was applied (or as asked)."""
        wanted = run in self.normalized_runs if normalized is None else normalized
        return [g for g in self.gates if g.run == run and g.normalized == wanted]

    def regressions(self, percent: float, *, normalized: bool | None = None) -> list[Gate]:
        """Each layer and codec whose whole interval of size-neutral speed lies below
        ``1 - percent / 100`` (normalised where normalising was applied, or as asked)."""
        threshold = 1 - percent / 100
        return [
            g
            for run in self.runs[1:]
            for g in self.gates_of(run, normalized=normalized)
            if g.codec not in self.baselines and g.high < threshold
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "normalized": self.normalized,
            "normalized_runs": sorted(self.normalized_runs),
            "grouped": self.grouped,
            "drift": self.drift,
            "deltas": [asdict(d) for d in self.deltas],
            # An unbounded interval (too few samples) is null: JSON has no infinity.
            "gates": [
                {k: None if v == math.inf else v for k, v in asdict(g).items()} for g in self.gates
            ],
            "only_in": self.only_in,
            "environment": self.environment,
            "normalizing": self.normalizing,
        }


@dataclass(frozen=True)
class _Side:
    label: str
    runs: Sequence[Results]

    @property
    def first(self) -> Results:
        return self.runs[0]

    @functools.cached_property
    def factors(self) -> list[Floats | None]:
        """Each run's round factors (``bench.results.drift``), computed once per comparison."""
        return [round_factors(run) for run in self.runs]


def _series(
    side: _Side, case: CaseResult, bucket: str, metric: str, base: float | None
) -> list[Floats]:
    """Per run of the side, the row's per-round values; when normalizing (``base``: the first
    side's median round factor), each round's divided by its machine factor relative to
    ``base``, so the figures keep their unit, at the first side's machine speed (in-process
    layers only: the client layer's time is the server's)."""
    out = []
    for run, run_factors in zip(side.runs, side.factors, strict=True):
        peer = run.case(case.layer, case.codec, case.corpus, case.variant)
        values = np.asarray(series_of(peer, bucket, metric) if peer else [], dtype=np.float64)
        if base and run_factors is not None and case.layer.in_process and values.size:
            rounds = min(values.size, run_factors.size)
            relative = run_factors[:rounds] / base
            higher = bool(metric_named(metric).higher_is_better)
            values = values[:rounds] * (relative if higher else 1 / relative)
        out.append(values)
    return out


def _bootstrap(statistic: Callable[..., Floats], samples: Sequence[Floats]) -> tuple[float, float]:
    """Percentile bootstrap interval; a degenerate sample (all equal) gives its point, reported
    as such rather than warned about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from scipy import stats  # scipy loads only where a test runs

        result = stats.bootstrap(
            tuple(samples),
            statistic,
            vectorized=True,
            paired=False,
            method="percentile",
            n_resamples=RESAMPLES,
            rng=np.random.default_rng(1),
        )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):
        point = float(statistic(*[s[np.newaxis, :] for s in samples], axis=-1)[0])
        return point, point
    return low, high


def _ratio_of_medians(a: Floats, b: Floats, axis: int = -1) -> Floats:
    ratio: Floats = np.median(b, axis=axis) / np.median(a, axis=axis)
    return ratio


def judge(first: Samples, other: Samples) -> tuple[float, float | None, float | None, float | None]:
    """Speeds (higher is better) of one run a side: ratio of medians (other / first), its 95 %
    bootstrap interval and the Mann-Whitney p-value (uncorrected); interval and p are ``None``
    when no data could ever be significant with this many samples."""
    a, b = np.asarray(first, dtype=np.float64), np.asarray(other, dtype=np.float64)
    ratio = float(np.median(b) / np.median(a))
    if smallest_rank_p(a.size, b.size) > ALPHA:
        return ratio, None, None, None
    low, high = _bootstrap(_ratio_of_medians, (a, b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from scipy import stats

        p_value = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return ratio, low, high, p_value


def verdict(
    speedup: float,
    low: float | None,
    high: float | None,
    p_value: float | None,
    min_effect: float,
    *,
    apart: bool = False,
) -> str:
    """The call on one row from its speedup interval (oriented: above 1 is better);
    ``apart``: the row's rank-tested samples do not overlap at all, as clear as that many can
    be, so a p-value that still misses ``ALPHA`` means more rounds would tell."""
    if low is None or high is None or p_value is None:
        return FEW
    if apart and p_value >= ALPHA:
        return UNREACHABLE
    if p_value >= ALPHA or low <= 1 <= high:
        return SAME
    if low >= 1 + min_effect:
        return FASTER
    if high <= 1 - min_effect:
        return SLOWER
    return SMALL


def _environment_changes(first: Results, other: Results) -> list[str]:
    notes = []
    for key in Environment.COMPARED:
        a, b = getattr(first.environment, key), getattr(other.environment, key)
        if a != b:
            if isinstance(a, dict) and isinstance(b, dict):
                changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
                for name in changed:
                    notes.append(f"{other.run_id}: {key} {name}: {a.get(name)} -> {b.get(name)}")
            else:
                notes.append(f"{other.run_id}: {key}: {a} -> {b}")
    if first.profile != other.profile:
        notes.append(f"{other.run_id}: profile {first.profile} -> {other.profile}")
    notes += _implementations_changed(first, other)
    digests = {c.name: c.digest for c in first.corpora}
    for corpus in other.corpora:
        if corpus.name in digests and digests[corpus.name] != corpus.digest:
            notes.append(
                f"{other.run_id}: corpus {corpus.name} holds other payloads (sha256 differs)"
            )
    return notes


def judge_runs(
    first: Samples, other: Samples, level: float = 0.95
) -> tuple[float, float | None, float | None, float | None]:
    """Between groups of runs, one value per run: the ratio of geometric means with its Welch t
    interval on logs at ``level`` and its p-value; ``None`` for fewer than two runs a side."""
    a, b = np.log(np.asarray(first)), np.log(np.asarray(other))
    ratio = float(np.exp(b.mean() - a.mean()))
    if a.size < 2 or b.size < 2:
        return ratio, None, None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from scipy import stats

        test = stats.ttest_ind(b, a, equal_var=False)
        interval = test.confidence_interval(level)
    low, high, p_value = float(interval.low), float(interval.high), float(test.pvalue)
    if not np.isfinite(p_value):  # identical runs: no spread to test against
        return ratio, ratio, ratio, 1.0
    return ratio, float(np.exp(low)), float(np.exp(high)), p_value


@dataclass(frozen=True)
class _Row:
    case: CaseResult
    bucket: str
    metric: str
    first: Floats
    other: Floats
    """Samples of each side: rounds (one run a side) or run medians (groups)."""


def _rows(
    first: _Side, other: _Side, grouped: bool, norm: bool, *, only_primary: bool = False
) -> list[_Row]:
    rows = []
    known = [f for f in first.factors if f is not None]
    base = float(np.median(np.concatenate(known))) if norm and known else None
    for case in first.first.cases:
        if case.layer is Layer.REFERENCE or not any(
            run.case(case.layer, case.codec, case.corpus, case.variant) for run in other.runs
        ):
            continue
        for bucket in case.buckets:
            for m in of_layer(case.layer, CompareAs.TIMED):
                if only_primary and not primary(case.layer, bucket, m.name):
                    continue
                a_runs = _series(first, case, bucket, m.name, base)
                b_runs = _series(other, case, bucket, m.name, base)
                if grouped:
                    a = np.asarray([np.median(r) for r in a_runs if r.size])
                    b = np.asarray([np.median(r) for r in b_runs if r.size])
                else:
                    a, b = a_runs[0], b_runs[0]
                if a.size and b.size:
                    rows.append(_Row(case, bucket, m.name, a, b))
    return rows


def primary(layer: Layer, bucket: str, metric: str) -> bool:
    """Whether a row belongs to the primary family: a codec's row of all payloads on its
    layer's gated metric, one per codec, corpus, layer and direction. These are the rows a
    decision rests on, few enough for Holm's correction to pass at ``ALPHA``."""
    gated = GATED_METRICS.get(layer)
    return bool(gated) and bucket == ALL and metric.endswith(gated or "")


def _timed_deltas(label: str, rows: list[_Row], grouped: bool, min_effect: float) -> list[Delta]:
    """Each row's call. The primary family is tested with Welch's t on the logs of its samples
    (rounds or runs) and Holm-corrected, so that it holds at ``ALPHA`` together; every other
    row is descriptive, tested by rank (one run a side) and held to a false-discovery rate of
    ``ALPHA`` (Benjamini-Hochberg): with a thousand rows, Holm would let no row of 7 rounds be
    called at all, a 50 % slowdown included."""
    deltas = []
    for family in (True, False):
        members = [r for r in rows if primary(r.case.layer, r.bucket, r.metric) is family]
        parametric = family or grouped
        judged = [(judge_runs if parametric else judge)(*_oriented(r)) for r in members]
        if family and not grouped:
            # As for the gate: a handful of rounds does not yet hold the host's noise.
            judged = [
                j
                if min(r.first.size, r.other.size) >= GATE_MIN_SAMPLES
                else (j[0], None, None, None)
                for r, j in zip(members, judged, strict=True)
            ]
        tested = [j[3] for j in judged if j[3] is not None]
        adjusted = iter(holm(tested) if family else _false_discovery(tested))
        for row, (speedup, low, high, p_value) in zip(members, judged, strict=True):
            p = next(adjusted) if p_value is not None else None
            # A rank test cannot go below its smallest p-value: samples that do not overlap
            # at all and still do not pass the correction are as clear as this many can be.
            apart = not parametric and _apart(row.first, row.other)
            deltas.append(
                _delta(label, row, speedup, (low, high, p), min_effect, family=family, apart=apart)
            )
    return deltas


def _apart(first: Floats, other: Floats) -> bool:
    return bool(first.max() < other.min() or other.max() < first.min())


def _false_discovery(p_values: list[float]) -> list[float]:
    if not p_values:
        return []
    from scipy import stats

    return [float(p) for p in stats.false_discovery_control(p_values, method="bh")]


def _delta(
    label: str,
    row: _Row,
    speedup: float,
    interval: tuple[float | None, float | None, float | None],
    min_effect: float,
    *,
    family: bool,
    apart: bool,
) -> Delta:
    low, high, p = interval
    higher = bool(metric_named(row.metric).higher_is_better)
    call = verdict(speedup, low, high, p, min_effect, apart=apart)
    return Delta(
        label,
        row.case.layer.value,
        row.case.row,
        row.case.corpus,
        row.bucket,
        row.metric,
        float(np.median(row.first)),
        float(np.median(row.other)),
        speedup if higher else 1 / speedup,
        low,
        high,
        p,
        call,
        speedup,
        (int(row.first.size), int(row.other.size)),
        PRIMARY if family else DESCRIPTIVE,
    )


def _oriented(row: _Row) -> tuple[Floats, Floats]:
    """Samples as speeds (higher is better), so every interval reads the same way."""
    if metric_named(row.metric).higher_is_better:
        return row.first, row.other
    return 1 / row.first, 1 / row.other


def _gates(label: str, rows: list[_Row], normalized: bool, grouped: bool) -> list[Gate]:
    groups: dict[tuple[Layer, str], list[_Row]] = {}
    for row in rows:
        if primary(row.case.layer, row.bucket, row.metric):
            groups.setdefault((row.case.layer, row.case.row), []).append(row)
    # Bonferroni over the gates of this side: the chance that any of them fires on identical
    # code stays 2.5 % (one-sided) however many codecs and layers are gated.
    level = 1 - (1 - GATE_LEVEL) / max(1, len(groups))
    sides = [_per_sample([_oriented(r) for r in members]) for members in groups.values()]
    intervals = (_moderated_intervals if grouped else _welch_intervals)(sides, level)
    gates = []
    for ((layer, codec), members), (first, other), (speedup, *bounds) in zip(
        groups.items(), sides, intervals, strict=True
    ):
        samples = min(first.size, other.size)
        low, high = (0.0, math.inf) if not grouped and samples < GATE_MIN_SAMPLES else bounds
        gates.append(
            Gate(label, layer.value, codec, speedup, low, high, len(members), normalized, samples)
        )
    return gates


Interval = tuple[float, float, float]
"""A speed ratio with its interval (0 and infinity when unbounded)."""


def _welch_intervals(sides: list[tuple[Floats, Floats]], level: float) -> list[Interval]:
    """Each gate on its own samples: Welch's t on logs."""
    out = []
    for first, other in sides:
        ratio, low, high, _ = judge_runs(np.exp(first), np.exp(other), level)
        out.append((ratio, 0.0 if low is None else low, math.inf if high is None else high))
    return out


def _moderated_intervals(sides: list[tuple[Floats, Floats]], level: float) -> list[Interval]:
    """Gates over groups of runs: each gate's pooled variance of its run figures, moderated
    toward the other gates' (``moderated_variances``), and a t interval on its degrees of
    freedom. Runs are few (4 a side in the ``ci`` profile), so a gate's own variance has 6
    degrees of freedom; the moderated one has more, while a codec noisier than the rest keeps
    most of its own spread."""
    from scipy import stats

    own: list[float] = []
    own_dof: list[float] = []
    for first, other in sides:
        spread = first.size > 1 and other.size > 1
        squares = ((first - first.mean()) ** 2).sum() + ((other - other.mean()) ** 2).sum()
        own_dof.append(float(first.size + other.size - 2) if spread else 0.0)
        own.append(float(squares) / own_dof[-1] if spread else 0.0)
    variances, dof = moderated_variances(own, own_dof)
    out: list[Interval] = []
    for (first, other), variance, df in zip(sides, variances, dof, strict=True):
        shift = float(other.mean() - first.mean())
        if df <= 0:
            out.append((math.exp(shift), 0.0, math.inf))
            continue
        quantile = float(stats.t.ppf(1 - (1 - level) / 2, df))
        half = quantile * math.sqrt(variance * (1 / first.size + 1 / other.size))
        out.append((math.exp(shift), math.exp(shift - half), math.exp(shift + half)))
    return out


def _spread(rows: list[_Row]) -> float:
    """The samples' spread within each side, on the in-process rows the gate judges (the
    primary rows, which normalising changes): per row, the log variance of each side's samples
    about that side's mean, pooled over both sides and over rows. Within sides, so that the
    difference being tested stays out of it: with the two sides together, a slowdown of every
    codec on a machine that ran 10 % faster for the second side looked tighter raw (the machine
    hid part of the slowdown) and the slowdown was judged on it, caught in 176 of 200
    simulated pairs instead of all."""
    squares, dof = 0.0, 0
    for row in rows:
        if not (row.case.layer.in_process and primary(row.case.layer, row.bucket, row.metric)):
            continue
        for side in (row.first, row.other):
            if side.size > 1:
                logs = np.log(side)
                squares += float(((logs - logs.mean()) ** 2).sum())
                dof += side.size - 1
    return math.sqrt(squares / dof) if dof else math.inf


DRIFT_ALPHA = 0.05
"""A machine that moved between the sides by more than its reference workloads' own noise
(Welch's t on their factors, p below this) is divided out whatever the spread."""


def _normalising(
    first: _Side, other: _Side, grouped: bool, raw: float, normed: float
) -> tuple[bool, str]:
    """Whether to divide by the reference workloads, and why, as said in the comparison:
    where the machine itself moved between the sides (a neighbour arrived between two CI
    steps), dividing takes out a bias; otherwise only where it tightens the samples' spread
    within the sides (noisy round factors would widen it and hide changes)."""

    def samples(side: _Side) -> Floats:
        factors = [f for f in side.factors if f is not None]
        per_run = [float(np.median(f)) for f in factors] if grouped else list(factors[0])
        return np.asarray(per_run, dtype=np.float64)

    shift, _, _, p_value = judge_runs(samples(first), samples(other))
    spread = (
        f"the samples' spread within the sides (log sd, pooled over rows) is {raw:.3f} raw and "
        f"{normed:.3f} divided by the reference workloads' factors"
    )
    if p_value is not None and p_value < DRIFT_ALPHA:
        return True, (
            f"normalised: the reference workloads ran {shift - 1:+.1%} against the first side "
            f"(p = {p_value:.2g}), a move of the machine that dividing takes out; {spread}"
        )
    if normed < raw:
        return True, f"normalised: {spread}, which tightens it"
    return False, f"not normalised: {spread}, which would widen it and hide changes"


def _log_sides(pairs: list[tuple[Floats, Floats]]) -> tuple[Floats, Floats]:
    """Each side as a rows x samples matrix of logs, cut to the side's fewest samples."""
    n_first = min(a.size for a, _ in pairs)
    n_other = min(b.size for _, b in pairs)
    first: Floats = np.log(np.stack([a[:n_first] for a, _ in pairs]))
    other: Floats = np.log(np.stack([b[:n_other] for _, b in pairs]))
    return first, other


def _per_sample(pairs: list[tuple[Floats, Floats]]) -> tuple[Floats, Floats]:
    """Each side's samples (rounds or runs) as the mean over the gate's rows of their logs: the
    sample's geometric-mean speed for the codec.

    Rows of one round share that round's machine state (on a shared host the speed of a whole
    round moves by tens of percent), so the round, not the row, is the unit: averaging its rows
    first keeps their shared noise in the test instead of counting it once per row."""
    first, other = _log_sides(pairs)
    return first.mean(axis=0), other.mean(axis=0)


def _size_deltas(label: str, first: Results, other: Results) -> list[Delta]:
    deltas = []
    for case in first.cases:
        peer = other.case(case.layer, case.codec, case.corpus, case.variant)
        if peer is None or case.layer is Layer.REFERENCE:
            continue
        for bucket in case.buckets:
            for m in of_layer(case.layer, CompareAs.SIZE):
                x, y = case.value(bucket, m.name), peer.value(bucket, m.name)
                if x is None or y is None:
                    continue
                same = abs(y - x) <= m.tolerance * abs(x)
                call = ("identical" if x == y else "within tolerance") if same else "changed"
                where = (label, case.layer.value, case.row, case.corpus, bucket, m.name)
                deltas.append(
                    Delta(*where, x, y, y / x if x else 1.0, None, None, None, call, None)
                )
    return deltas


def _implementations_changed(first: Results, other: Results) -> list[str]:
    """The codecs measured through another library in one run than in the other (``lz4:1``
    by cramjam, then by python-lz4): their rows match nowhere, and the runs do not measure the
    same thing for them."""

    def libraries(run: Results) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for case in run.cases:
            facts = case.facts
            if facts.implementation and not facts.baseline:
                plain = facts.spec.replace(f"@{facts.implementation}", "")
                found.setdefault(plain, set()).add(facts.implementation)
        return found

    before, after = libraries(first), libraries(other)
    return [
        f"{other.run_id}: {spec} measured with {', '.join(sorted(after[spec]))} where the first "
        f"run used {', '.join(sorted(before[spec]))}: its rows are in one run only"
        for spec in sorted(before.keys() & after.keys())
        if not before[spec] & after[spec]
    ]


def _only_in(first: Results, other: Results) -> list[str]:
    keys = {c.key for c in other.cases}.symmetric_difference(c.key for c in first.cases)
    return sorted(" / ".join(part for part in key if part) for key in keys)


def _drift(first: _Side, other: _Side) -> float | None:
    """How much slower the reference workloads ran on ``other``; ``None`` where a run timed
    none, or other workloads than the first side's (runs of codec-bench 0.1 timed zlib and a
    memory copy, whose times say nothing about bz2's)."""
    if len({workloads(run) for run in (*first.runs, *other.runs)}) > 1:
        return None
    a = [machine_seconds(run) for run in first.runs]
    b = [machine_seconds(run) for run in other.runs]
    if None in a or None in b:
        return None
    return float(np.median(b) / np.median(a))  # type: ignore[arg-type]


def _label(runs: Sequence[Results]) -> str:
    return runs[0].run_id if len(runs) == 1 else f"{runs[0].run_id} (+{len(runs) - 1} runs)"


def compare(
    sides: Sequence[Sequence[Results]],
    min_effect: float = MIN_EFFECT,
    *,
    normalize: bool = False,
    rows: bool = True,
) -> Comparison:
    """Every side against the first; a side is one run or several runs of the same code.
    ``ValueError`` when no timed or size row is common to them. ``rows=False`` judges the
    gates only (``experiments.gate_simulation`` judges thousands of comparisons)."""
    groups = [_Side(_label(runs), runs) for runs in sides]
    grouped = all(len(side.runs) > 1 for side in groups)
    first = groups[0]
    result = Comparison([g.label for g in groups], normalized=normalize, grouped=grouped)
    result.baselines = {c.row for c in first.first.cases if c.facts.baseline}
    for other in groups[1:]:
        drift = _drift(first, other)
        if drift is not None:
            result.drift[other.label] = drift
        elif normalize:
            result.normalizing.append(
                f"{other.label}: not normalised: a run timed no reference workloads, or other "
                "ones than the first side's (written by an earlier codec-bench)"
            )
        result.environment += _environment_changes(first.first, other.first)
        result.only_in[other.label] = _only_in(first.first, other.first)
        raw = _rows(first, other, grouped, False, only_primary=not rows)
        result.gates += _gates(other.label, raw, False, grouped)
        timed = raw
        if normalize and drift is not None:
            normed = _rows(first, other, grouped, True, only_primary=not rows)
            result.gates += _gates(other.label, normed, True, grouped)
            applied, line = _normalising(first, other, grouped, _spread(raw), _spread(normed))
            if applied:
                result.normalized_runs.add(other.label)
                timed = normed
            result.normalizing.append(f"{other.label}: {line}")
        if rows:
            result.deltas += _timed_deltas(other.label, timed, grouped, min_effect)
            result.deltas += _size_deltas(other.label, first.first, other.first)
    if rows and not result.deltas:
        raise ValueError(
            "the runs have no rows in common (layer, codec, corpus); compare runs of the same "
            "codecs and corpora"
        )
    return result
