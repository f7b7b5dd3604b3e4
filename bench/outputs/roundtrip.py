"""The client path's round trip against the baseline, tested on pairs, and where its time goes.

The client layer runs each payload through every codec of a route in turn, in a new random
order (``bench.layers.client``), so workflow ``[round][payload]`` of a codec and of ``none`` are
a pair measured side by side. A codec's change is the Hodges-Lehmann estimate over those pairs
with its interval and the Wilcoxon signed-rank test (``bench.results.stats.paired_change``);
``none (B)`` against ``none (A)`` is the same test where nothing differs, the run's own check.
"""

from __future__ import annotations

from bench.outputs.render import Table
from bench.results import ALL, CaseResult, Layer, Results
from bench.results.buckets import BUCKETS
from bench.results.metrics import bucket_indices
from bench.results.samples import FAILED, ClientSamples
from bench.results.stages import STAGES
from bench.results.stats import MIN_PAIRS, PairedChange, paired_change


def pairs(base: CaseResult, case: CaseResult, bucket: str = ALL) -> tuple[list[float], list[float]]:
    """The round trips (ms) of ``base`` and ``case`` measured side by side in ``bucket``, failed
    workflows left out (they are counted in the failures); empty where the cases were not
    measured in pairs (another route or corpus, or results from before schema 6)."""
    a, b = base.samples, case.samples
    if not (
        isinstance(a, ClientSamples)
        and isinstance(b, ClientSamples)
        and a.paired
        and b.paired
        and base.route == case.route
        and a.original_bytes == b.original_bytes
    ):
        return [], []
    indices = bucket_indices(a.original_bytes).get(bucket, [])
    kept: tuple[list[float], list[float]] = ([], [])
    for row_a, row_b in zip(a.latency_ns, b.latency_ns, strict=False):
        for i in indices:
            if row_a[i] != FAILED and row_b[i] != FAILED:
                kept[0].append(row_a[i] / 1e6)
                kept[1].append(row_b[i] / 1e6)
    return kept


def change_text(found: PairedChange | None, pairs_found: int) -> str:
    """``-35 % [-52 % .. -12 %]`` for a called change, with ``tied`` when the interval holds no
    change; an untested difference is never shown as a number."""
    if found is None and not pairs_found:
        return "not tested (no workflows measured side by side: results before schema 6)"
    if found is None:
        return f"not tested ({pairs_found} pairs; {MIN_PAIRS} are needed)"
    interval = f"{found.change:+.0%} [{found.low:+.0%} .. {found.high:+.0%}]"
    return interval if found.called else f"{interval} tied"


def paired_table(results: Results, corpus: str) -> Table | None:
    """Every codec against its route's baseline, all payloads and per size bucket."""
    cases = [c for c in results.cases_of(Layer.CLIENT, corpus) if not c.facts.baseline]
    cases += [c for c in results.cases_of(Layer.CLIENT, corpus) if c.facts.replica == "B"]
    buckets = [ALL, *(b.name for b in BUCKETS)]
    rows = []
    for case in cases:
        base = results.baseline(Layer.CLIENT, corpus, case.variant)
        if base is None:
            continue
        cells = [case.row]
        for bucket in buckets:
            measured = pairs(base, case, bucket)
            count = len(measured[0])
            cells.append("-" if not count else change_text(paired_change(*measured), count))
        rows.append(cells)
    if not rows:
        return None
    used = [i for i in range(len(buckets)) if any(row[i + 1] != "-" for row in rows)]
    return Table(
        ["codec", *(buckets[i] for i in used)],
        [[row[0], *(row[i + 1] for i in used)] for row in rows],
    )


def aa_agreement(results: Results, corpus: str) -> list[tuple[str, float, float]]:
    """Per route, the p50 round trips of ``none (A)`` and ``none (B)``: what the run's own
    noise makes of one codec measured twice."""
    found = []
    for key, (a, b) in results.replicas(Layer.CLIENT, corpus).items():
        p50a, p50b = a.value(ALL, "latency_ms"), b.value(ALL, "latency_ms")
        if p50a and p50b:
            found.append((key, p50a, p50b))
    return found


def stage_table(results: Results, corpus: str) -> Table | None:
    """Median milliseconds of each stage per codec and size bucket, on the SDK's default route
    (gRPC gzip, every payload inline)."""
    rows = []
    for case in results.cases_of(Layer.CLIENT, corpus):
        if case.route is None or not case.route.default:
            continue
        for bucket in [b.name for b in BUCKETS if case.has(b.name, "stage_ms")]:
            stages = case.raw(bucket, "stage_ms")
            total = case.value(bucket, "latency_ms")
            rows.append(
                [
                    case.row,
                    bucket,
                    "-" if total is None else f"{total:,.1f}",
                    *(f"{stages[s.name]:,.1f}" for s in STAGES),
                ]
            )
    if not rows:
        return None
    header = [f"{s.name}{' (codec)' if s.codec else ''}" for s in STAGES]
    return Table(["codec", "size", "round trip", *header], rows)
