"""The decision behind ``codec-bench recommend``: which codec to deploy under the user's
constraints, as plain data (``bench.outputs.recommend_report`` renders it).

Every objective compares like with like: sizes and CPU from the codec layer, on every corpus
(weighted, the user's own first); round trips from the client layer, relative to the baseline,
only among codecs that were measured there (the others are named, with how to measure them).
Differences within this run's noise floor are ties, and the tie-break is stated. The floor is the
smallest difference two codecs' figures can show and be told apart: 1.96 standard errors of the
difference of two medians over the run's rounds, from the round-to-round spread of every codec
in the layer, pooled. It was once how far one noise-floor pair (the same codec measured twice)
drifted apart: one draw, 2.5 % to 22 % across six identical runs, which made the ``cpu`` winner
flip between identical runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from bench.outputs.ranking import cpu_us_per_kib, saved_share, saving_front
from bench.results import ALL, CaseResult, CodecFacts, CorpusInfo, Layer, Results, Route
from bench.results.buckets import BUCKETS, LIMIT_BYTES, size_text
from bench.results.metrics import series_of

OBJECTIVES = ("storage", "latency", "cpu", "balanced", "cost")
SIZE_TIE = 0.01
"""Stored sizes are exact; within 1 % they are a tie all the same (metadata and levels)."""
MIN_NOISE = 0.02
"""Ties are called within at least 2 %, even where the noise floor measured less."""
MEDIAN_EFFICIENCY = math.sqrt(math.pi / 2)
"""A median's standard error over a mean's, for normal noise: the figures are medians."""
Z_95 = 1.959964
FLOOR_METRICS = {
    Layer.CODEC: ("encode_geomean_us", "decode_geomean_us"),
    Layer.CLIENT: ("latency_ms",),
}
"""The per-round figures whose spread sets each layer's noise floor."""


@dataclass(frozen=True)
class Constraints:
    must_encrypt: bool = False
    max_encode_us_per_kib: float | None = None
    """Per KiB of payload, p99 across the payloads of every size bucket (the worst bucket)."""
    max_decode_us_per_kib: float | None = None
    max_latency_ms: float | None = None
    """Client-layer round trip on every corpus that measured one."""
    min_ratio: float | None = None
    min_saved: float | None = None
    """Share of bytes saved, 0 to 1."""
    headroom: float | None = None
    """Share of Temporal's 2 MiB payload limit to keep free for the largest stored payload."""
    max_show_ms: float | None = None
    """``temporal workflow show`` through the codec server (reading layer), p50, every history
    size measured."""
    max_ui_ms: float | None = None
    """The Web UI's workflow page through the codec server (reading layer), p50."""


@dataclass(frozen=True)
class Costs:
    """A monthly cost model; prices in ``currency``."""

    volume_gb: float = 100.0
    """Payload data the workflows produce per month, before encoding, GB."""
    storage_per_gb_month: float = 0.0
    transfer_per_gb: float = 0.0
    cpu_per_hour: float = 0.0
    copies: float = 1.0
    """Times each payload is stored (an input that an activity also receives is stored twice)."""
    retention_days: float = 30.0
    """How long a closed workflow's history is kept: what is stored at any time."""
    currency: str = "USD"

    @property
    def given(self) -> bool:
        return any((self.storage_per_gb_month, self.transfer_per_gb, self.cpu_per_hour))

    def assumptions(self) -> str:
        return (
            f"{self.volume_gb:,.0f} GB of payloads a month before encoding, each stored "
            f"{self.copies:g} time(s) and kept {self.retention_days:g} days; "
            f"{self.currency} {self.storage_per_gb_month:g} per GB-month stored, "
            f"{self.transfer_per_gb:g} per GB moved (to the server and back), "
            f"{self.cpu_per_hour:g} per CPU hour"
        )


@dataclass(frozen=True)
class Breakdown:
    storage: float
    transfer: float
    cpu: float

    @property
    def total(self) -> float:
        return self.storage + self.transfer + self.cpu


@dataclass(frozen=True)
class Candidate:
    """One codec's figures, combined over the corpora by their weights."""

    codec: str
    encrypts: bool
    ratio: float
    saved: float
    """Share of the original bytes saved (negative: the codec adds bytes)."""
    cpu_us_per_kib: float
    """Encode plus decode time per KiB of payload, CPU time (threads counted)."""
    cpu_noise: float
    """This run's noise floor on CPU figures (``noise_floor``): differences below it are ties."""
    encode_us_per_kib_p99: float
    decode_us_per_kib_p99: float
    largest_stored: int
    corpora: tuple[str, ...]
    latency_vs_baseline: float | None = None
    """Round trip relative to the baseline (geometric mean over corpora and size buckets)."""
    latency_ms: dict[str, float] = field(default_factory=dict)
    """Round trip per corpus measured in the client layer (geometric mean over size buckets)."""
    latency_noise: float = MIN_NOISE
    show_ms: dict[str, float] = field(default_factory=dict)
    """Reading layer, CLI ``workflow show`` p50 by history (``"100 payloads"``)."""
    ui_ms: dict[str, float] = field(default_factory=dict)
    """Reading layer, Web UI page p50 by history."""
    cost: Breakdown | None = None
    score: float = 0.0
    pareto: bool = False
    failed: list[str] = field(default_factory=list)
    threshold: int | None = None
    """External storage from this payload size (after the codec); ``None``: inline."""
    compresses: bool = True
    min_size: int | None = None
    """Break-even: compress payloads from this many bytes (the lower edge of the smallest size
    bucket from which compressing pays in every larger bucket); ``None`` when it never pays."""
    workflow_failures: list[str] = field(default_factory=list)
    """Client-layer workflows that failed on the chosen route (a payload over a limit): such a
    codec cannot carry the user's payloads and is never recommended."""

    @property
    def deployed(self) -> str:
        """The codec with its route, as the user deploys it."""
        if self.threshold is None:
            return self.codec
        return f"{self.codec} + external storage from {size_text(self.threshold)}"


def _weighted(values: Mapping[str, float], weights: Mapping[str, float]) -> float:
    total = sum(weights[c] for c in values)
    return sum(values[c] * weights[c] for c in values) / total


def noise_floor(results: Results, layer: Layer) -> float:
    """The smallest relative difference between two codecs' medians that this run's noise lets
    it tell apart in ``layer``: 1.96 standard errors of a difference of two medians of its
    rounds, the rounds' log spread pooled over every case of the layer (every codec's
    dispersion, not one pair's); at least ``MIN_NOISE``."""
    variances, rounds = [], []
    for case in results.cases:
        if case.layer is not layer:
            continue
        for metric in FLOOR_METRICS[layer]:
            values = np.asarray(series_of(case, ALL, metric), dtype=float)
            values = values[values > 0]
            if values.size > 1:
                variances.append(float(np.var(np.log(values), ddof=1)))
                rounds.append(values.size)
    if not variances:
        return MIN_NOISE
    error = MEDIAN_EFFICIENCY * math.sqrt(float(np.mean(variances)) * 2 / min(rounds))
    return max(MIN_NOISE, math.exp(Z_95 * error) - 1)


def _worst_bucket(case: CaseResult, metric: str) -> float:
    values = [case.value(b.name, metric, "p99") for b in BUCKETS]
    return max([v for v in values if v is not None], default=0.0)


MIN_WORTH = 0.01
"""Without prices, compressing pays in a size bucket when it saves at least 1 % of its bytes."""


def _compressing_pays(
    case: CaseResult, bucket: str, costs: Costs, against: CaseResult | None
) -> bool:
    """Whether compressing a bucket's payloads saves more than it costs: at the prices given,
    the storage and transfer of the bytes saved against the CPU spent; without prices, at
    least :data:`MIN_WORTH` of the bytes. ``against``: the same chain without compression
    (encryption alone), whose overhead compressing cannot avoid."""
    saved = saved_share(case, bucket)
    if against is not None and (base := against.value(bucket, "encoded_bytes")):
        saved = 1 - (case.value(bucket, "encoded_bytes") or 0.0) / base
    if not costs.given:
        return saved >= MIN_WORTH
    cpu = cpu_us_per_kib(case, bucket)
    if cpu is None:
        return False
    per_gb = costs.storage_per_gb_month * costs.retention_days / 30 + 2 * costs.transfer_per_gb
    value = saved * costs.copies * per_gb / (1 << 20)  # per KiB of payload
    return value >= cpu / 3.6e9 * costs.cpu_per_hour


def break_even(
    cases: Mapping[str, CaseResult],
    costs: Costs,
    against: Mapping[str, CaseResult | None] | None = None,
) -> int | None:
    """The payload size from which compressing pays in every bucket of every corpus (the lower
    edge of that bucket; 0: it pays from the smallest); ``None``: it never pays. ``against``
    by corpus: the chain without its compression, for chains that also encrypt."""
    verdicts: dict[int, bool] = {}
    for corpus, case in cases.items():
        base = (against or {}).get(corpus)
        for bucket in BUCKETS:
            if case.value(bucket.name, "original_bytes"):
                pays = _compressing_pays(case, bucket.name, costs, base)
                verdicts[bucket.low] = verdicts.get(bucket.low, True) and pays
    edge: int | None = None
    for low in sorted(verdicts, reverse=True):
        if not verdicts[low]:
            break
        edge = low
    # Paying in the smallest bucket measured says nothing against smaller payloads.
    return 0 if verdicts and edge == min(verdicts) else edge


def _encryption_alone(
    results: Results, facts: CodecFacts, cases: Mapping[str, CaseResult]
) -> dict[str, CaseResult | None] | None:
    """For a chain that compresses and encrypts: the encryption-only case of each corpus."""
    if not facts.encrypts:
        return None
    return {
        corpus: next(
            (
                c
                for c in results.cases_of(Layer.CODEC, corpus)
                if c.facts.encrypts and not c.facts.compresses
            ),
            None,
        )
        for corpus in cases
    }


def _on_route(case: CaseResult, threshold: int | None) -> bool:
    """Whether a client case ran on the SDK's default transport with this storage route."""
    return case.route == Route(threshold=threshold)


def client_case(
    results: Results, codec: str, corpus: str, threshold: int | None = None
) -> CaseResult | None:
    """The client-layer case of the codec a codec-layer row measured, on a storage route
    (inline by default): matched by spec, since a layer may measure it as a noise-floor pair
    (replica A counts) where the other did not."""
    spec = next(
        (c.facts.spec for c in results.cases_of(Layer.CODEC, corpus) if c.codec == codec), codec
    )
    return next(
        (
            c
            for c in results.cases_of(Layer.CLIENT, corpus)
            if c.facts.spec == spec and c.facts.replica in (None, "A") and _on_route(c, threshold)
        ),
        None,
    )


def _route_failures(
    results: Results, codec: str, corpora: Mapping[str, float], threshold: int | None
) -> list[str]:
    failures = []
    for corpus in corpora:
        case = client_case(results, codec, corpus, threshold)
        if case is not None and (failed := case.raw(ALL, "failed_workflows")):
            error = case.raw(ALL, "first_error")
            failures.append(f"{failed} workflow(s) failed on {corpus} ({error})")
    return failures


def choose_route(
    results: Results, codec: str, corpora: Mapping[str, float], allow_storage: bool
) -> tuple[int | None, list[str]]:
    """The route to deploy ``codec`` on and the client-layer failures left on it: inline when
    every workflow passed there; else, when external storage is allowed, the highest measured
    threshold on which every workflow passed (the fewest payloads offloaded); else inline with
    its failures."""
    inline = _route_failures(results, codec, corpora, None)
    if not inline or not allow_storage:
        return None, inline
    thresholds = sorted(
        {
            t
            for corpus in corpora
            for c in results.cases_of(Layer.CLIENT, corpus)
            if c.route is not None and (t := c.route.threshold) is not None
        },
        reverse=True,
    )
    for threshold in thresholds:
        if not _route_failures(results, codec, corpora, threshold):
            return threshold, []
    return None, inline


def _latencies(
    results: Results, codec: str, corpora: Mapping[str, float], threshold: int | None = None
) -> tuple[dict[str, float], float | None]:
    """Per corpus, the round trip of ``codec`` (ms) on its route and, over corpora, its
    geometric mean relative to the baseline's on the same route; ``None`` without client rows
    on every weighted corpus."""
    absolute, relative = {}, []
    for corpus in corpora:
        case = client_case(results, codec, corpus, threshold)
        base = next(
            (
                c
                for c in results.cases_of(Layer.CLIENT, corpus)
                if c.facts.baseline and _on_route(c, threshold)
            ),
            None,
        )
        mine = case.value(ALL, "latency_ms") if case else None
        theirs = base.value(ALL, "latency_ms") if base else None
        if mine is not None:
            absolute[corpus] = mine
        if mine is not None and theirs:
            relative.append(math.log(mine / theirs))
    if not absolute or len(absolute) < len(
        [c for c in corpora if results.cases_of(Layer.CLIENT, c)]
    ):
        return absolute, None
    return absolute, math.exp(sum(relative) / len(relative)) if relative else None


def _readings(results: Results, spec: str, metric: str) -> dict[str, float]:
    """p50 of a reading-layer metric by history, for the codec with ``spec``."""
    found = {}
    for case in results.cases:
        if case.layer is Layer.READING and case.facts.spec == spec:
            value = case.value(ALL, metric, "p50")
            if value is not None:
                found[case.variant] = value
    return found


def _candidate(
    results: Results,
    codec: str,
    corpora: Mapping[str, float],
    allow_storage: bool,
    costs: Costs,
    *,
    floors: tuple[float, float],
) -> Candidate | None:
    """One codec's figures; ``floors``: the run's noise floors in the codec and client layers
    (``noise_floor``), the same for every candidate."""
    cases = {c: results.case(Layer.CODEC, codec, c) for c in corpora}
    found = {
        c: case for c, case in cases.items() if case is not None and case.has(ALL, "encode_mbps")
    }
    if not found:
        return None
    weights = {c: corpora[c] for c in found}
    cpu = {c: cpu_us_per_kib(case) or 0.0 for c, case in found.items()}
    original = {c: case.value(ALL, "original_bytes") or 1.0 for c, case in found.items()}
    stored = {c: case.value(ALL, "encoded_bytes") or 1.0 for c, case in found.items()}
    saved = _weighted({c: 1 - stored[c] / original[c] for c in found}, weights)
    facts = next(iter(found.values())).facts
    threshold, workflow_failures = choose_route(results, codec, corpora, allow_storage)
    latency_ms, relative = _latencies(results, codec, corpora, threshold)
    return Candidate(
        codec=facts.spec if facts.replica else codec,
        encrypts=facts.encrypts,
        ratio=1 / (1 - saved),
        saved=saved,
        cpu_us_per_kib=_weighted(cpu, weights),
        cpu_noise=floors[0],
        encode_us_per_kib_p99=max(
            _worst_bucket(case, "encode_us_per_kib") for case in found.values()
        ),
        decode_us_per_kib_p99=max(
            _worst_bucket(case, "decode_us_per_kib") for case in found.values()
        ),
        largest_stored=int(
            max(case.value(ALL, "max_encoded_bytes") or 0 for case in found.values())
        ),
        corpora=tuple(found),
        latency_vs_baseline=relative,
        latency_ms=latency_ms,
        latency_noise=floors[1],
        show_ms=_readings(results, facts.spec, "show_ms"),
        ui_ms=_readings(results, facts.spec, "ui_ms"),
        threshold=threshold,
        workflow_failures=workflow_failures,
        compresses=facts.compresses,
        min_size=break_even(found, costs, _encryption_alone(results, facts, found))
        if facts.compresses
        else None,
    )


@dataclass(frozen=True)
class Objective:
    """How an objective ranks: ``score`` (higher is better), the figure ties are judged on,
    how close two figures may be and still tie, and what breaks a tie."""

    score: Callable[[Candidate], float]
    figure: Callable[[Candidate], float]
    tolerance: Callable[[Candidate, Candidate], float]
    tie_break: str
    tie_key: Callable[[Candidate], float]
    describe: Callable[[Candidate], str]
    tie_tolerance: Callable[[Candidate, Candidate], float] = lambda a, b: SIZE_TIE
    """How close two tie-break figures may be and still not decide (bytes saved: exact, so
    ``SIZE_TIE``; CPU: the noise floor)."""


def _cpu_tolerance(a: Candidate, b: Candidate) -> float:
    return max(a.cpu_noise, b.cpu_noise)


def _latency_tolerance(a: Candidate, b: Candidate) -> float:
    return max(a.latency_noise, b.latency_noise)


def saving(saved: float) -> str:
    """``saves 12.3%``, or ``stores 13.9% more`` for a codec that adds bytes."""
    return f"saves {saved:.1%}" if saved >= 0 else f"stores {-saved:.1%} more"


def _cost(c: Candidate) -> float:
    return c.cost.total if c.cost else 0.0


def _cost_tolerance(a: Candidate, b: Candidate) -> float:
    """The same rule as the other objectives: a cost is as uncertain as what it is made of,
    its CPU share within the CPU noise floor and the rest (bytes, exact) within ``SIZE_TIE``."""

    def tolerance(c: Candidate) -> float:
        if c.cost is None or c.cost.total <= 0:
            return SIZE_TIE
        cpu = c.cost.cpu / c.cost.total
        return cpu * c.cpu_noise + (1 - cpu) * SIZE_TIE

    return max(tolerance(a), tolerance(b))


OBJECTIVE: dict[str, Objective] = {
    "storage": Objective(
        score=lambda c: c.saved,
        figure=lambda c: 1 - c.saved,
        tolerance=lambda a, b: SIZE_TIE,
        tie_break="less CPU",
        tie_key=lambda c: c.cpu_us_per_kib,
        describe=lambda c: f"{saving(c.saved)} of the bytes stored",
        tie_tolerance=_cpu_tolerance,
    ),
    "latency": Objective(
        score=lambda c: -(c.latency_vs_baseline or math.inf),
        figure=lambda c: c.latency_vs_baseline or math.inf,
        tolerance=_latency_tolerance,
        tie_break="more bytes saved",
        tie_key=lambda c: -c.saved,
        describe=lambda c: f"round trip {(c.latency_vs_baseline or 1) - 1:+.1%} against no codec",
    ),
    "cpu": Objective(
        score=lambda c: -c.cpu_us_per_kib,
        figure=lambda c: c.cpu_us_per_kib,
        tolerance=_cpu_tolerance,
        tie_break="more bytes saved",
        tie_key=lambda c: -c.saved,
        describe=lambda c: f"{c.cpu_us_per_kib:,.2f} µs of CPU per KiB encoded and decoded",
    ),
    "balanced": Objective(
        score=lambda c: c.saved / c.cpu_us_per_kib if c.cpu_us_per_kib > 0 else 0.0,
        figure=lambda c: c.saved / c.cpu_us_per_kib if c.cpu_us_per_kib > 0 else 0.0,
        tolerance=_cpu_tolerance,
        tie_break="more bytes saved",
        tie_key=lambda c: -c.saved,
        describe=lambda c: f"{saving(c.saved)} for {c.cpu_us_per_kib:,.2f} µs of CPU per KiB",
    ),
    "cost": Objective(
        score=lambda c: -_cost(c),
        figure=_cost,
        tolerance=_cost_tolerance,
        tie_break="less CPU",
        tie_key=lambda c: c.cpu_us_per_kib,
        tie_tolerance=_cpu_tolerance,
        describe=lambda c: f"{_cost(c):,.2f} a month",
    ),
}


NOISY_TIE_BREAK = "the better figure, then the name (their {} is within the noise too)"


def _break_tie(tied: list[Candidate], rule: Objective) -> tuple[list[Candidate], str]:
    """The tied candidates in the tie-break's order, and what decided. Where the tie-break's
    own figure is also within its noise (gzip:6 and zlib:6 tie on storage and spend the same
    CPU: one library), the noise would pick; the better score, then the name, decide instead,
    so identical runs name one winner (gzip once, then zlib five times, in six identical
    runs before)."""
    tied = sorted(tied, key=rule.tie_key)
    if len(tied) < 2:
        return tied, rule.tie_break
    lead = tied[0]
    still = [
        c for c in tied if _close(rule.tie_key(c), rule.tie_key(lead), rule.tie_tolerance(c, lead))
    ]
    if len(still) < 2:
        return tied, rule.tie_break
    first = min(still, key=lambda c: (-rule.score(c), c.codec))
    figure = rule.tie_break.removeprefix("less ").removeprefix("more ")
    return [first, *(c for c in tied if c is not first)], NOISY_TIE_BREAK.format(figure)


def _close(x: float, y: float, tolerance: float) -> bool:
    if x == y:
        return True
    if not (math.isfinite(x) and math.isfinite(y)) or y == 0:
        return False
    return abs(x / y - 1) <= tolerance


def _within_noise(a: Candidate, b: Candidate, objective: Objective) -> bool:
    """Whether two candidates' figures on the objective differ by no more than this machine's
    noise floor (a tie, broken by the objective's stated rule)."""
    return _close(objective.figure(a), objective.figure(b), objective.tolerance(a, b))


NOTHING_GAINED = "saves no bytes and does not encrypt: nothing to deploy it for"
"""Why no codec (the identity baseline) and a compressor that grows the payloads never win,
whatever the objective: the least CPU or the fastest round trip of doing nothing is not a
choice of codec."""


def _failures(c: Candidate, limits: Constraints) -> list[str]:
    failed = list(c.workflow_failures)
    if c.saved <= 0 and not c.encrypts:
        failed.append(NOTHING_GAINED)
    if limits.must_encrypt and not c.encrypts:
        failed.append("does not encrypt")
    for side, limit, value in (
        ("encode", limits.max_encode_us_per_kib, c.encode_us_per_kib_p99),
        ("decode", limits.max_decode_us_per_kib, c.decode_us_per_kib_p99),
    ):
        if limit is not None and value > limit:
            failed.append(f"{side} p99 {value:,.2f} µs/KiB (worst size bucket) > {limit:,.2f}")
    if limits.max_latency_ms is not None:
        slow = {k: v for k, v in c.latency_ms.items() if v > limits.max_latency_ms}
        if not c.latency_ms:
            failed.append("no round trip measured (client layer)")
        elif slow:
            worst = max(slow, key=lambda k: slow[k])
            failed.append(
                f"round trip {slow[worst]:,.1f} ms on {worst} > {limits.max_latency_ms:,.1f}"
            )
    for what, limit, by_history in (
        ("workflow show", limits.max_show_ms, c.show_ms),
        ("Web UI page", limits.max_ui_ms, c.ui_ms),
    ):
        if limit is None:
            continue
        if not by_history:
            failed.append(f"no {what} measured (reading layer)")
        elif (worst := max(by_history, key=lambda k: by_history[k])) and by_history[worst] > limit:
            failed.append(f"{what} {by_history[worst]:,.0f} ms ({worst}) > {limit:,.0f}")
    if limits.min_ratio is not None and c.ratio < limits.min_ratio:
        failed.append(f"ratio {c.ratio:.2f} < {limits.min_ratio:.2f}")
    if limits.min_saved is not None and c.saved < limits.min_saved:
        failed.append(f"saves {c.saved:.1%} < {limits.min_saved:.0%}")
    if limits.headroom is not None and c.largest_stored > LIMIT_BYTES * (1 - limits.headroom):
        failed.append(
            f"largest stored payload {c.largest_stored:,} B leaves under "
            f"{limits.headroom:.0%} of the 2 MiB limit free"
        )
    return failed


def _with_costs(c: Candidate, costs: Costs) -> Candidate:
    """The candidate with its monthly cost breakdown at the given prices and volume."""
    if not costs.given:
        return c
    stored_gb = costs.volume_gb * (1 - c.saved) * costs.copies
    cpu_hours = costs.volume_gb * (1 << 30) / 1024 * c.cpu_us_per_kib / 1e6 / 3600
    return replace(
        c,
        cost=Breakdown(
            storage=stored_gb * costs.retention_days / 30 * costs.storage_per_gb_month,
            transfer=2 * stored_gb * costs.transfer_per_gb,
            cpu=cpu_hours * costs.cpu_per_hour,
        ),
    )


@dataclass(frozen=True)
class Recommendation:
    corpora: dict[str, float]
    """The corpora judged by and their weights."""
    objective: str
    ranked: list[Candidate]
    excluded: list[Candidate]
    missing: list[str]
    """Codecs left out for want of figures the objective needs, and how to get them."""
    tied: list[str]
    """Codecs within this machine's noise of the winner on the objective's figure."""
    tie_break: str
    reason: str
    costs: Costs | None = None

    @property
    def winner(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None


BUILT_IN = ("synthetic", "histories", "sizes", "classic", "large")
"""Names of the built-in corpora, for results written before corpora said so themselves."""


GENERATED = ("synthetic", "sizes", "large")
"""Built-in corpora that a generator made, for results written before corpora said their kind."""
RECORDED_WEIGHT = 2.0
OWN_WEIGHT = 2.0


def corpus_weight(corpus: CorpusInfo) -> float:
    """How much a corpus counts by default: payloads recorded from real workflows (imported,
    fetched or recorded) twice what generated ones count, and a corpus of the user's own (not
    built in) twice again: the user's own recorded payloads 4, real built-in histories 2,
    generated ones 1. A generator's mix is a guess at someone's traffic; a recording is
    traffic."""
    kind = corpus.provenance.get("kind")
    generated = kind == "synthetic" if kind else corpus.name in GENERATED
    own = not corpus.provenance.get("builtin", corpus.name in BUILT_IN)
    return (1.0 if generated else RECORDED_WEIGHT) * (OWN_WEIGHT if own else 1.0)


def default_corpora(results: Results) -> dict[str, float]:
    """Every corpus of the run by :func:`corpus_weight`, the heaviest (the user's own) first."""
    weights = {c.name: corpus_weight(c) for c in results.corpora}
    return dict(sorted(weights.items(), key=lambda item: -item[1]))


def recommend(
    results: Results,
    *,
    corpora: Mapping[str, float] | None = None,
    objective: str = "balanced",
    limits: Constraints = Constraints(),
    costs: Costs = Costs(),
    allow_external_storage: bool = False,
) -> Recommendation:
    """Rank the measured codecs; ``ValueError`` for an unknown corpus or objective, or nothing
    to rank. With ``allow_external_storage`` a codec whose payloads failed inline may be
    recommended with the external-storage threshold on which they all passed."""
    weights = dict(corpora or default_corpora(results))
    unknown = [c for c in weights if c not in results.corpus_names]
    if unknown:
        raise ValueError(
            f"no corpus {unknown[0]!r} in these results; they hold: "
            f"{', '.join(results.corpus_names)}"
        )
    if objective == "cost" and not costs.given:
        raise ValueError(
            "objective cost needs a price: --storage-price, --transfer-price or --cpu-price"
        )
    pool, missing = _measured_candidates(results, weights, objective, allow_external_storage, costs)
    if not pool:
        raise ValueError(
            "no timed codec-layer rows for these corpora; was the run interrupted early?"
        )
    pool = [_with_costs(c, costs) for c in pool]
    rule = OBJECTIVE[objective]
    frontier = _frontier(pool)
    scored = [
        replace(c, score=rule.score(c), pareto=c.codec in frontier, failed=_failures(c, limits))
        for c in pool
    ]
    ranked = sorted((c for c in scored if not c.failed), key=lambda c: -c.score)
    tied, decided = _break_tie([c for c in ranked if _within_noise(c, ranked[0], rule)], rule)
    ranked = tied + [c for c in ranked if c not in tied]
    return Recommendation(
        weights,
        objective,
        ranked,
        [c for c in scored if c.failed],
        missing,
        [c.codec for c in tied[1:]] if ranked else [],
        decided,
        _reason(ranked, tied, rule, objective, decided),
        costs if costs.given else None,
    )


def _measured_candidates(
    results: Results,
    weights: Mapping[str, float],
    objective: str,
    allow_storage: bool,
    costs: Costs,
) -> tuple[list[Candidate], list[str]]:
    """The candidates, one per codec (a noise-floor pair counts once), and what was left out
    because the objective needs figures it lacks."""
    labels = [
        case.codec
        for case in results.cases
        if case.layer is Layer.CODEC
        and case.corpus in weights
        and case.facts.replica in (None, "A")
    ]
    labels = list(dict.fromkeys(labels))
    floors = (noise_floor(results, Layer.CODEC), noise_floor(results, Layer.CLIENT))
    found = [
        c
        for label in labels
        if (c := _candidate(results, label, weights, allow_storage, costs, floors=floors))
    ]
    if objective != "latency":
        return found, []
    measured = [c for c in found if c.latency_vs_baseline is not None]
    lacking = [c.codec for c in found if c.latency_vs_baseline is None]
    missing = (
        [
            f"{', '.join(lacking)}: no round trip measured in the client layer; measure them "
            f"with codec-bench run {' '.join(f'--codec {c}' for c in lacking)}"
        ]
        if lacking
        else []
    )
    return measured, missing


def _frontier(pool: list[Candidate]) -> set[str]:
    return set(saving_front({c.codec: (c.cpu_us_per_kib, c.saved) for c in pool}))


def _reason(
    ranked: list[Candidate], tied: list[Candidate], rule: Objective, objective: str, decided: str
) -> str:
    if not ranked:
        return "No measured codec meets every constraint; relax one (see the excluded codecs)."
    win = ranked[0]
    text = f"{win.deployed} wins on {objective}: {rule.describe(win)}"
    if win.min_size:
        text += (
            f" (compress from {size_text(win.min_size)} up: below that size, compressing "
            "did not pay in the buckets measured)"
        )
    if len(tied) > 1:
        others = ", ".join(f"{c.codec} ({rule.describe(c)})" for c in tied[1:])
        text += f"; tied within this machine's noise with {others}, and chosen for {decided}"
    elif len(ranked) > 1:
        text += f", against {rule.describe(ranked[1])} for the runner-up {ranked[1].codec}"
    return text + "."
