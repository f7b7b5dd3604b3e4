"""``codec-bench recommend RESULTS.json``: the codec to deploy under the user's constraints, with
the figures behind the ranking, the Pareto frontier, the reason, and the snippet to deploy it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.outputs.ranking import pareto_front
from bench.outputs.render import Code, Section, Table
from bench.results import ALL, CaseResult, CodecFacts, Layer, Results
from bench.results.buckets import LIMIT_BYTES

OBJECTIVES = ("storage", "latency", "cpu", "balanced", "cost")


@dataclass(frozen=True)
class Constraints:
    must_encrypt: bool = False
    max_encode_us: float | None = None
    """Per-payload encode time, p99, codec layer."""
    max_decode_us: float | None = None
    max_latency_ms: float | None = None
    """Workflow round trip p50, client layer (codecs without client rows cannot meet it)."""
    min_ratio: float | None = None
    headroom: float | None = None
    """Share of Temporal's 2 MiB payload limit to keep free for the largest stored payload."""


@dataclass(frozen=True)
class Costs:
    """Monthly cost model; prices in any one currency."""

    volume_gb: float = 100.0
    """Original (unencoded) payload data per month, GB."""
    storage_per_gb: float = 0.0
    transfer_per_gb: float = 0.0
    cpu_per_hour: float = 0.0

    @property
    def given(self) -> bool:
        return any((self.storage_per_gb, self.transfer_per_gb, self.cpu_per_hour))


@dataclass(frozen=True)
class Candidate:
    codec: str
    ratio: float
    encode_mbps: float
    decode_mbps: float
    encode_p99_us: float
    decode_p99_us: float
    cpu_s_per_gb: float
    """CPU seconds to encode and decode one GB of original payloads once."""
    largest_stored: int
    encrypts: bool
    latency_ms: float | None
    history_bytes: float | None
    monthly_cost: float | None = None
    score: float = 0.0
    pareto: bool = False
    failed: list[str] = field(default_factory=list)


def _candidate(results: Results, case: CaseResult, costs: Costs) -> Candidate:
    client = results.case(Layer.CLIENT, case.codec, case.corpus)
    encode = case.value(ALL, "encode_mbps") or 0.0
    decode = case.value(ALL, "decode_mbps") or 0.0
    cpu = (1e3 / encode * (case.value(ALL, "encode_cpu_per_wall") or 1.0)) + (
        1e3 / decode * (case.value(ALL, "decode_cpu_per_wall") or 1.0)
    )
    ratio = case.value(ALL, "ratio") or 1.0
    cost = None
    if costs.given:
        stored_gb = costs.volume_gb / ratio
        cost = (
            stored_gb * (costs.storage_per_gb + costs.transfer_per_gb)
            + costs.volume_gb * cpu / 3600 * costs.cpu_per_hour
        )
    return Candidate(
        codec=case.facts.spec if case.facts.replica else case.codec,
        ratio=ratio,
        encode_mbps=encode,
        decode_mbps=decode,
        encode_p99_us=case.value(ALL, "encode_latency_us", "p99") or 0.0,
        decode_p99_us=case.value(ALL, "decode_latency_us", "p99") or 0.0,
        cpu_s_per_gb=cpu,
        largest_stored=int(case.value(ALL, "max_encoded_bytes") or 0),
        encrypts=case.facts.encrypts,
        latency_ms=client.value(ALL, "latency_ms") if client else None,
        history_bytes=client.value(ALL, "history_bytes_per_workflow") if client else None,
        monthly_cost=cost,
    )


def _candidates(results: Results, corpus: str, costs: Costs) -> list[Candidate]:
    """One candidate per codec measured in the codec layer: a noise-floor pair counts once."""
    return [
        _candidate(results, case, costs)
        for case in results.cases_of(Layer.CODEC, corpus)
        if case.facts.replica in (None, "A") and case.has(ALL, "encode_mbps")
    ]


def _failures(c: Candidate, limits: Constraints) -> list[str]:
    failed = []
    if limits.must_encrypt and not c.encrypts:
        failed.append("does not encrypt")
    if limits.max_encode_us is not None and c.encode_p99_us > limits.max_encode_us:
        failed.append(f"encode p99 {c.encode_p99_us:,.1f} µs > {limits.max_encode_us:,.1f}")
    if limits.max_decode_us is not None and c.decode_p99_us > limits.max_decode_us:
        failed.append(f"decode p99 {c.decode_p99_us:,.1f} µs > {limits.max_decode_us:,.1f}")
    if limits.max_latency_ms is not None:
        if c.latency_ms is None:
            failed.append("no client-path latency measured")
        elif c.latency_ms > limits.max_latency_ms:
            failed.append(f"round trip p50 {c.latency_ms:,.1f} ms > {limits.max_latency_ms:,.1f}")
    if limits.min_ratio is not None and c.ratio < limits.min_ratio:
        failed.append(f"ratio {c.ratio:.2f} < {limits.min_ratio:.2f}")
    if limits.headroom is not None and c.largest_stored > LIMIT_BYTES * (1 - limits.headroom):
        failed.append(
            f"largest stored payload {c.largest_stored:,} B leaves under "
            f"{limits.headroom:.0%} of the 2 MiB limit free"
        )
    return failed


def _speed(c: Candidate) -> float:
    # One encode and one decode per payload: the harmonic combination is the rate of both.
    return 1 / (1 / c.encode_mbps + 1 / c.decode_mbps)


def _score(c: Candidate, objective: str) -> float:
    """Higher is better. ``balanced`` is the share of bytes saved per CPU second spent encoding
    and decoding a GB: it rewards compression and punishes its cost alike, and a codec that
    saves nothing scores nothing however fast it is."""
    if objective == "storage":
        return c.ratio
    if objective == "latency":
        return -(c.latency_ms if c.latency_ms is not None else 1e3 / _speed(c))
    if objective == "cpu":
        return -c.cpu_s_per_gb
    if objective == "cost":
        return -(c.monthly_cost or 0.0)
    return _saved(c) / c.cpu_s_per_gb if c.cpu_s_per_gb > 0 else 0.0


def _saved(c: Candidate) -> float:
    """Share of the original bytes that the codec saves."""
    return 1 - 1 / c.ratio


@dataclass(frozen=True)
class Recommendation:
    corpus: str
    objective: str
    ranked: list[Candidate]
    excluded: list[Candidate]
    reason: str
    snippet: str

    @property
    def winner(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None

    def to_json(self) -> dict[str, Any]:
        return {
            "corpus": self.corpus,
            "objective": self.objective,
            "winner": self.winner.codec if self.winner else None,
            "reason": self.reason,
            "snippet": self.snippet,
            "ranked": [asdict(c) for c in self.ranked],
            "excluded": [asdict(c) for c in self.excluded],
            "pareto": [c.codec for c in self.ranked + self.excluded if c.pareto],
        }


def snippet(codec: str) -> str:
    """The code that deploys ``codec`` in a client, a worker and a codec server."""
    encrypts = CodecFacts.of_spec(codec).encrypts
    keys = "Keyring.from_env()" if encrypts else "None"
    lines = [
        "from payload_codecs import Keyring, data_converter, from_spec",
        "",
        f'SPEC = "{codec}"',
        f"converter = data_converter(SPEC, keyring={keys})",
        'client = await Client.connect("HOST:7233", data_converter=converter)',
        "# workers built on this client encode and decode with it; a codec server uses",
        f"# from_spec(SPEC, keyring={keys}).encode / .decode",
    ]
    if encrypts:
        lines += [
            "",
            "# keys: on every client, worker and codec server",
            '#   export PAYLOAD_CODEC_KEYS="key-2026-11=$(openssl rand -base64 32)"',
            "# to rotate: add the new key first, then make it active with",
            "#   PAYLOAD_CODEC_ACTIVE_KEY=key-2027-01 (old keys keep decoding old histories)",
        ]
    return "\n".join(lines)


def recommend(
    results: Results,
    *,
    corpus: str | None = None,
    objective: str = "balanced",
    limits: Constraints = Constraints(),
    costs: Costs = Costs(),
) -> Recommendation:
    """Rank the measured codecs; ``ValueError`` for an unknown corpus or an empty results file."""
    corpora = results.corpus_names
    chosen = corpus or (corpora[0] if corpora else "")
    if chosen not in corpora:
        raise ValueError(f"no corpus {chosen!r} in these results; they hold: {', '.join(corpora)}")
    if objective == "cost" and not costs.given:
        raise ValueError(
            "objective cost needs a price: --storage-price, --transfer-price or --cpu-price"
        )
    pool = _candidates(results, chosen, costs)
    if not pool:
        raise ValueError(
            f"no timed codec-layer rows for corpus {chosen!r}; was the run interrupted early?"
        )
    frontier = {pool[i].codec for i in pareto_front([(_speed(c), c.ratio) for c in pool])}
    scored = []
    for c in pool:
        failed = _failures(c, limits)
        scored.append(
            Candidate(
                **{
                    **asdict(c),
                    "score": _score(c, objective),
                    "pareto": c.codec in frontier,
                    "failed": failed,
                }
            )
        )
    ranked = sorted((c for c in scored if not c.failed), key=lambda c: -c.score)
    excluded = [c for c in scored if c.failed]
    return Recommendation(
        chosen,
        objective,
        ranked,
        excluded,
        _reason(ranked, objective),
        snippet(ranked[0].codec) if ranked else "",
    )


def _reason(ranked: list[Candidate], objective: str) -> str:
    if not ranked:
        return "No measured codec meets every constraint; relax one (see the excluded codecs)."
    win = ranked[0]
    runner = ranked[1] if len(ranked) > 1 else None
    figures: Callable[[Candidate], str] = {
        "storage": lambda c: f"ratio {c.ratio:.2f}",
        "latency": lambda c: (
            f"round trip p50 {c.latency_ms:,.1f} ms"
            if c.latency_ms is not None
            else f"{_speed(c):,.0f} MB/s encode+decode"
        ),
        "cpu": lambda c: f"{c.cpu_s_per_gb:,.1f} CPU s per GB",
        "cost": lambda c: f"{c.monthly_cost:,.2f} per month",
        "balanced": lambda c: (
            f"{_saved(c):.1%} of bytes saved for {c.cpu_s_per_gb:,.1f} CPU s per GB"
        ),
    }[objective]
    text = f"{win.codec} wins on {objective}: {figures(win)}"
    if runner is not None:
        text += f", against {figures(runner)} for the runner-up {runner.codec}"
    text += "." + (" It is on the Pareto frontier of ratio and speed." if win.pareto else "")
    return text


def sections(rec: Recommendation) -> list[Section]:
    def row(c: Candidate) -> list[str]:
        return [
            c.codec,
            f"{c.ratio:.2f}",
            f"{c.encode_mbps:,.0f}",
            f"{c.decode_mbps:,.0f}",
            f"{c.encode_p99_us:,.1f}",
            f"{c.decode_p99_us:,.1f}",
            f"{c.cpu_s_per_gb:,.1f}",
            "-" if c.latency_ms is None else f"{c.latency_ms:,.1f}",
            "-" if c.monthly_cost is None else f"{c.monthly_cost:,.2f}",
            "yes" if c.pareto else "",
            "yes" if c.encrypts else "",
        ]

    header = [
        "codec",
        "ratio",
        "encode MB/s",
        "decode MB/s",
        "encode p99 µs",
        "decode p99 µs",
        "CPU s/GB",
        "round trip p50 ms",
        "cost/month",
        "Pareto",
        "encrypts",
    ]
    out = [
        Section(
            "Recommendation", [rec.reason, f"Corpus `{rec.corpus}`, objective `{rec.objective}`."]
        ),
        Section(
            "Ranked",
            [Table(["rank", *header], [[str(i), *row(c)] for i, c in enumerate(rec.ranked, 1)])],
        ),
    ]
    if rec.excluded:
        out.append(
            Section(
                "Excluded by the constraints",
                [Table(["codec", "why"], [[c.codec, "; ".join(c.failed)] for c in rec.excluded])],
            )
        )
    if rec.snippet:
        out.append(Section("Deploy it", [Code(rec.snippet, "python")]))
    return out
