"""report.md and a self-contained report.html (plots embedded), built from a results file alone.

Both renderings come from one list of sections, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.outputs import plots, render, roundtrip
from bench.outputs.kms_report import kms_section
from bench.outputs.large_report import large_section
from bench.outputs.ranking import cpu_us_per_kib, front, saved_share
from bench.outputs.reading_report import reading_section
from bench.outputs.render import Block, Contents, Image, Section, Table
from bench.outputs.verdict import verdict_blocks
from bench.results import ALL, CaseResult, Layer, Results, Route
from bench.results.buckets import BUCKETS, amount_of_bytes
from bench.results.compact import RELATIVE_ACCURACY, RESULTS_NUMBERS, SIDES, quantile
from bench.results.samples import CompactSamples, InProcessSamples
from bench.results.stats import Estimate, stratified_mean


def _mbps(estimate: Estimate | None) -> str:
    if estimate is None:
        return "-"
    return f"{estimate.median:,.0f} [{estimate.low:,.0f}-{estimate.high:,.0f}]"


def _number(case: CaseResult, metric: str) -> float:
    return case.value(ALL, metric) or 0.0


def _speed(case: CaseResult, side: str) -> str:
    if case.facts.baseline:
        return "baseline"
    return _mbps(case.estimate(ALL, f"{side}_mbps"))


def _per_payload(case: CaseResult) -> str:
    encode = case.value(ALL, "encode_us_per_payload")
    decode = case.value(ALL, "decode_us_per_payload")
    return "-" if encode is None or decode is None else f"{encode:,.1f} / {decode:,.1f}"


def _detail(results: Results, corpus: str) -> Table:
    cases = results.cases_of(Layer.CODEC, corpus)
    on_front = set(front(cases))
    rows = []
    for case in cases:
        ratio, cpu = case.value(ALL, "ratio"), cpu_us_per_kib(case)
        rows.append(
            [
                case.codec,
                f"{saved_share(case):.1%}",
                f"{ratio:.2f}" if ratio else "-",
                "baseline" if case.facts.baseline else f"{cpu:,.2f}" if cpu else "-",
                _speed(case, "encode"),
                _speed(case, "decode"),
                _per_payload(case),
                amount_of_bytes(case.value(ALL, "peak_memory_bytes")),
                "yes" if case.codec in on_front else "",
            ]
        )
    return Table(
        [
            "codec",
            "bytes saved",
            "ratio",
            "CPU µs/KiB (encode + decode)",
            "encode MB/s [95% CI], byte-weighted",
            "decode MB/s [95% CI], byte-weighted",
            "µs per payload encode / decode, count-weighted",
            "peak memory",
            "on the front",
        ],
        rows,
    )


def _headroom(results: Results, corpus: str) -> Table:
    rows = []
    for case in results.cases_of(Layer.CODEC, corpus):
        largest = _number(case, "max_encoded_bytes")
        rows.append(
            [
                case.codec,
                f"{case.raw(ALL, 'over_warning_before')} → {case.raw(ALL, 'over_warning_after')}",
                f"{case.raw(ALL, 'over_limit_before')} → {case.raw(ALL, 'over_limit_after')}",
                amount_of_bytes(largest),
                f"{100 * largest / (2 << 20):.0f} %",
            ]
        )
    return Table(
        [
            "codec",
            "over 512 KiB (warning)",
            "over 2 MiB (rejected)",
            "largest stored",
            "of the 2 MiB limit",
        ],
        rows,
    )


def _overhead(results: Results, corpus: str) -> Table | None:
    """Codec-layer throughput as a share of the raw layer's for single-stage codecs."""
    buckets = [ALL, *(b.name for b in BUCKETS)]
    rows = []
    for case in results.cases_of(Layer.CODEC, corpus):
        raw = results.case(Layer.RAW, case.codec, corpus)
        if raw is None:
            continue
        cells = [case.codec]
        for bucket in buckets:
            shares = []
            for side in ("encode", "decode"):
                codec_mbps = case.value(bucket, f"{side}_mbps")
                raw_mbps = raw.value(bucket, f"{side}_mbps")
                shares.append(f"{codec_mbps / raw_mbps:.0%}" if codec_mbps and raw_mbps else "-")
            cells.append(" / ".join(shares))
        rows.append(cells)
    if not rows:
        return None
    return Table(["codec (encode / decode share)", *buckets], rows)


def _noise_floor(results: Results, corpus: str) -> list[Block]:
    pairs = [
        pair
        for pair in results.replicas(Layer.CODEC, corpus).values()
        if pair[0].has(ALL, "encode_mbps") and pair[1].has(ALL, "encode_mbps")
    ]
    if not pairs:
        return ["The A/A pair was not measured for this corpus."]
    a, b = pairs[0]
    rows = []
    spreads = []
    for side in ("encode", "decode"):
        ma, mb = a.estimate(ALL, f"{side}_mbps"), b.estimate(ALL, f"{side}_mbps")
        assert ma is not None
        assert mb is not None
        spread = abs(ma.median / mb.median - 1)
        spreads.append(spread)
        rows.append([side, _mbps(ma), _mbps(mb), f"{spread:.1%}"])
    return [
        Table(["", f"{a.codec} MB/s", f"{b.codec} MB/s", "A/B difference"], rows),
        f"The same codec measured twice, as replicas A and B in the same rounds, differs by up "
        f"to {max(spreads):.1%} here: one draw of how far identical work drifts apart on this "
        "machine. The verdict's ties come from every codec's round-to-round spread instead "
        "(`recommend`'s noise floor), which one pair cannot settle.",
    ]


def _stored(case: CaseResult) -> float:
    """Bytes stored per workflow: the history, plus what went to external storage."""
    return _number(case, "history_bytes_per_workflow") + _number(case, "s3_bytes_per_workflow")


def _stored_text(case: CaseResult, stored: float, base: float | None) -> str:
    ratio = f"{stored / base:.2f}x" if base else "-"
    if case.route is None or not case.route.offloads:
        return f"{amount_of_bytes(stored)} ({ratio})"
    history = _number(case, "history_bytes_per_workflow")
    return f"{amount_of_bytes(history)} + {amount_of_bytes(stored - history)} in S3 ({ratio})"


def _client_row(case: CaseResult, base: CaseResult | None) -> list[str]:
    p50 = case.estimate(ALL, "latency_ms")
    errors = str(case.raw(ALL, "failed_workflows") or 0)
    if p50 is None:
        return [case.row, *["-"] * 8, errors]
    base_p50 = base.value(ALL, "latency_ms") if base else None
    base_stored = _stored(base) if base else None
    in_codec = _number(case, "client_codec_us_per_workflow") + _number(
        case, "worker_codec_us_per_workflow"
    )
    stored = _stored(case)
    throughput = case.estimate(ALL, "throughput_wps")
    return [
        case.row,
        f"{p50.median:,.1f} [{p50.low:,.1f}-{p50.high:,.1f}]",
        f"{case.value(ALL, 'slowest_ms') or 0:,.1f}",
        f"{p50.median - base_p50:+,.1f}" if base_p50 is not None else "-",
        f"{in_codec / 1e3:,.2f}",
        _stored_text(case, stored, base_stored),
        f"{throughput.median:,.1f} [{throughput.low:,.1f}-{throughput.high:,.1f}]"
        if throughput
        else "-",
        f"{_number(case, 'worker_max_stall_ms'):,.1f}",
        errors,
    ]


def _client_table(results: Results, corpus: str) -> Table:
    cases = results.cases_of(Layer.CLIENT, corpus)
    base = results.baseline(Layer.CLIENT, corpus)
    concurrency = cases[0].raw(ALL, "concurrency") if cases else None
    return Table(
        [
            "codec",
            "round trip ms, median [95% CI] (geometric mean over size buckets)",
            "slowest workflow ms",
            f"vs {base.codec if base else 'none'}, ms",
            "in codec, ms per workflow (client + worker)",
            "stored per workflow: history (+ S3) (vs none)",
            f"workflows/s at {concurrency or '?'} in flight",
            "worker max stall, ms",
            "failed workflows",
        ],
        [_client_row(case, results.baseline(Layer.CLIENT, corpus, case.variant)) for case in cases],
    )


def _client_buckets(results: Results, corpus: str) -> Table:
    cases = results.cases_of(Layer.CLIENT, corpus)
    buckets = [b.name for b in BUCKETS if any(b.name in c.buckets for c in cases)]
    rows = []
    for case in cases:
        cells = [case.row]
        for bucket in buckets:
            p50 = case.value(bucket, "latency_ms")
            history = case.value(bucket, "history_bytes_per_workflow")
            cells.append("-" if p50 is None else f"{p50:,.1f} ms / {amount_of_bytes(history)}")
        rows.append(cells)
    return Table(["codec (p50 latency / history per workflow)", *buckets], rows)


def _transport_table(results: Results, corpus: str) -> Table | None:
    """Each codec's round trip with gRPC's own gzip and without it, when both were measured:
    what the codec adds over transport compression."""
    inline = [(c, r) for c in results.cases_of(Layer.CLIENT, corpus) if (r := c.route) is not None]
    plain = {c.codec: c for c, route in inline if route.default}
    bare = {c.codec: c for c, route in inline if route == Route(transport="none")}
    if not bare:
        return None
    rows = []
    for codec, case in plain.items():
        other = bare.get(codec)
        gz, no = case.value(ALL, "latency_ms"), other.value(ALL, "latency_ms") if other else None
        rows.append(
            [
                codec,
                "-" if gz is None else f"{gz:,.1f}",
                "-" if no is None else f"{no:,.1f}",
                f"{gz / no:.2f}x" if gz and no else "-",
                amount_of_bytes(case.value(ALL, "history_bytes_per_workflow")),
            ]
        )
    return Table(
        [
            "codec",
            "round trip ms, gRPC gzip (SDK default)",
            "round trip ms, gRPC uncompressed",
            "gzip / uncompressed",
            "history stored per workflow",
        ],
        rows,
    )


def _client_section(results: Results, corpus: str, folder: Path) -> list[Block]:
    if not results.cases_of(Layer.CLIENT, corpus):
        return []
    blocks: list[Block] = [
        "Client path: each sampled payload as the input of a workflow that passes it through an "
        "activity and returns it, through a real client, server and worker (its own process). "
        "Latency is per workflow over sequential runs; the in-codec time (client and worker) is "
        "set against the difference to the baseline: where the difference is much larger, it "
        "comes from moving and storing bytes, not from the codec; where it is negative, smaller "
        "payloads made the round trip faster than no codec at all.",
        _client_table(results, corpus),
        "By payload size bucket:",
        _client_buckets(results, corpus),
    ]
    failed = [c for c in results.cases_of(Layer.CLIENT, corpus) if c.raw(ALL, "failed_workflows")]
    if failed:
        blocks += [
            "Failed workflows, with the first error as the SDK or the server said it (a payload "
            "over a limit fails here rather than stopping the run):",
            Table(
                ["codec", "failed workflows", "first error"],
                [
                    [
                        c.row,
                        str(c.raw(ALL, "failed_workflows") or 0),
                        str(c.raw(ALL, "first_error")),
                    ]
                    for c in failed
                ],
            ),
        ]
    transport = _transport_table(results, corpus)
    if transport is not None:
        blocks += [
            "Transport: every codec with the SDK's gRPC gzip and without it (`--grpc-compression "
            "both`), p50 round trip (geometric mean over size buckets). The history stored is "
            "the same either way; what a compressing codec still buys over gzip on the wire is "
            "the difference between its rows and `none`'s in each column.",
            transport,
        ]
    image = plots.client_path(results, corpus, folder / f"client-{corpus}.png")
    if image is not None:
        blocks.append(Image(image, f"Client path latency and stored history, corpus {corpus}"))
    return blocks + _round_trip_tested(results, corpus, folder)


def _round_trip_tested(results: Results, corpus: str, folder: Path) -> list[Block]:
    """The paired comparison against the baseline, the run's A/A check, and the stages."""
    blocks: list[Block] = []
    paired = roundtrip.paired_table(results, corpus)
    if paired is not None:
        agreement = "; ".join(
            f"{route}: {a:,.1f} against {b:,.1f} ms ({b / a - 1:+.1%})"
            for route, a, b in roundtrip.aa_agreement(results, corpus)
        )
        blocks += [
            "Round trip against the baseline, tested: each payload went through every codec of "
            "a route in turn, in a new random order, so each workflow has the baseline's of the "
            "same payload and moment beside it. Change: the Hodges-Lehmann estimate over the "
            "pairs' ratios, [its 95 % interval], Wilcoxon signed-rank; tied where the interval "
            "holds no change; none (B) against none (A) is the same test where nothing differs. "
            "Each cell is its own 95 % interval, not corrected for the many cells: about one in "
            "twenty may be called where nothing differs; the verdict uses the all-payloads "
            f"column. p50 of the baseline measured twice (A against B): "
            f"{agreement or 'not measured'}.",
            paired,
        ]
    stages = roundtrip.stage_table(results, corpus)
    if stages is not None:
        blocks += [
            "Where the time goes (SDK's default route): each stage's median in ms, from the "
            "client's clock and the history's own event times (the medians need not add up to "
            "the round trip's). A codec works in the stages marked codec; the waits are the "
            "server's and the worker's pollers', the same for every codec unless the payload's "
            "size changes them.",
            stages,
        ]
    image = plots.round_trip_stages(results, corpus, folder / f"stages-{corpus}.png")
    if image is not None:
        blocks.append(Image(image, f"Round trip by stage, corpus {corpus}"))
    return blocks


def _environment(results: Results) -> Table:
    env = results.environment
    cores = f"{env.cpu_count} cores, {env.cpu_affinity} usable"
    python = env.python
    rows = [
        [
            "CPU",
            f"{env.cpu_model} ({cores})",
        ],
        ["load average at start", ", ".join(f"{x:.2f}" for x in env.load_average)],
        ["platform", str(env.platform)],
        [
            "Python",
            f"{python.get('implementation')} {python.get('version')} ({python.get('build')})",
        ],
        *[[f"package {k}", str(v)] for k, v in env.packages.items()],
        *[[f"native {k}", str(v)] for k, v in env.native.items()],
        [
            "malloc variables",
            ", ".join(f"{k}={v}" for k, v in env.malloc.items()) or "none set",
        ],
        ["git commit", str(env.git_commit)],
    ]
    return Table(["what", "value"], rows)


def _codec_table(results: Results) -> Table:
    """Each codec of the run once: its library, and what detects a corrupted payload."""
    seen: dict[str, CaseResult] = {}
    for case in results.cases:
        if case.layer is not Layer.REFERENCE:
            seen.setdefault(case.facts.spec, case)
    rows = [
        [
            spec,
            case.library,
            "nothing: a flipped bit decodes to other bytes"
            if case.facts.integrity is None
            else case.facts.integrity,
        ]
        for spec, case in seen.items()
    ]
    return Table(["codec", "library", "what detects a corrupted payload"], rows)


def _sample(results: Results, corpus: str) -> list[Block]:
    """For a corpus timed on a sample: what the sample is, per stratum, and the sizes over
    every payload of the corpus."""
    info = results.corpus(corpus)
    if info is None or info.sample is None:
        return []
    sample = info.sample
    blocks: list[Block] = [
        f"Timed on a sample: {sample['size']:,} of the corpus's {sample['population']:,} "
        f"payloads ({amount_of_bytes(info.total_bytes)} of "
        f"{amount_of_bytes(sample['population_bytes'])}), seed {sample['seed']}, drawn in "
        f"{sample['method']}. The timing figures above are the sample's: all payloads together "
        "they over-weight the strata topped up to their minimum, and their intervals are the "
        "rounds' noise, not the sampling error; the corpus's own estimate follows the strata. "
        "Sizes are over every payload. Per stratum:",
        Table(
            ["stratum", "payloads in the corpus", "bytes", "sampled"],
            [
                [
                    name,
                    f"{s['population']:,}",
                    amount_of_bytes(s["population_bytes"]),
                    f"{s['sampled']:,}",
                ]
                for name, s in sample["strata"].items()
            ],
        ),
    ]
    blocks += _corpus_estimates(results, corpus, sample)
    whole = info.whole
    if whole:
        rows = [
            [
                codec,
                amount_of_bytes(encoded),
                f"{whole['bytes'] / encoded:.3f}" if encoded else "-",
                f"{100 * (1 - encoded / whole['bytes']):.1f} %" if whole["bytes"] else "-",
            ]
            for codec, encoded in whole["encoded"].items()
        ]
        blocks += [
            f"Sizes over every payload of the corpus ({whole['payloads']:,} payloads, "
            f"{amount_of_bytes(whole['bytes'])}), exact, one streaming pass:",
            Table(["codec", "encoded", "ratio", "saved"], rows),
        ]
    return blocks


def _compacted(results: Results, corpus: str) -> list[Block]:
    """The cases kept as summaries past the results file's bound: their per-payload time
    distribution, read from the sketches (the tables above are exact)."""
    rows = []
    for case in results.cases:
        samples = case.samples
        if case.corpus != corpus or not isinstance(samples, CompactSamples):
            continue
        for side in SIDES:
            cells = [quantile(samples, ALL, side, q) for q in QUANTILES]
            if None not in cells:
                rows.append([case.layer.value, case.row, side, *(f"{c:,.2f}" for c in cells)])
    if not rows:
        return []
    return [
        "Per-payload figures of these cases were kept as summaries, the results file being past "
        f"its bound of {RESULTS_NUMBERS:,} figures: every table above was computed from every "
        "payload before that; what remains per payload is a quantile sketch (DDSketch, within "
        f"{RELATIVE_ACCURACY:.0%} of the true value) of each payload's median time per call, µs:",
        Table(["layer", "codec", "side", *(f"p{100 * q:g}" for q in QUANTILES)], rows),
    ]


QUANTILES = (0.5, 0.9, 0.99, 0.999)


def _corpus_estimates(results: Results, corpus: str, sample: dict[str, Any]) -> list[Block]:
    """Time per payload over the whole corpus, estimated from the sample stratum by stratum,
    with the sampling error: what the sample's own figures cannot say."""
    strata = sample.get("stratum_of_each") or []
    populations = [s["population"] for s in sample["strata"].values()]
    rows = []
    for case in results.cases_of(Layer.CODEC, corpus):
        samples = case.samples
        if not isinstance(samples, InProcessSamples) or len(strata) != len(samples.encode_repeats):
            continue
        cells = [case.codec]
        for times, repeats in (
            (samples.encode_ns, samples.encode_repeats),
            (samples.decode_ns, samples.decode_repeats),
        ):
            per_payload = [
                float(np.median([row[i] for row in times])) / repeats[i] / 1e3
                for i in range(len(repeats))
            ]
            mean, half = stratified_mean(per_payload, strata, populations)
            cells.append(f"{mean:,.2f} ± {half:,.2f}")
        rows.append(cells)
    if not rows:
        return []
    return [
        "Time per payload over the whole corpus, estimated from the sample stratum by stratum "
        "(each stratum's mean weighed by its share of the corpus), ± the half-width of its "
        "95 % interval from sampling alone (the rounds' noise is in the tables above):",
        Table(["codec", "encode µs per payload", "decode µs per payload"], rows),
    ]


def _corpus_table(results: Results) -> Table:
    rows = [
        [
            c.name,
            f"{c.payload_count:,}"
            + (f" of {c.sample['population']:,} (sample)" if c.sample else ""),
            amount_of_bytes(c.total_bytes),
            str(c.provenance.get("kind")),
            ", ".join(f"{k}: {v}" for k, v in c.skipped.items()) or "-",
            c.digest[:16],
        ]
        for c in results.corpora
    ]
    return Table(["corpus", "payloads", "bytes", "source", "skipped", "sha256 (first 16)"], rows)


def _run_section(results: Results) -> Section:
    head = Section("Run")
    head.blocks.append(
        f"Run `{results.run_id}`, profile `{results.profile}`, {results.rounds_completed} of "
        f"{results.rounds_planned} measured rounds, started {results.started}, finished "
        f"{results.finished}. Command: `{' '.join(results.command)}`. Data: `results.json` "
        "(raw samples, schema documented in `bench/results/schema.py`) and `results.csv` (long "
        "format). Compare runs with `codec-bench compare A.json B.json`; choose a codec with "
        "`codec-bench recommend results.json`."
    )
    client = results.layers.get(Layer.CLIENT, {})
    if client:
        head.blocks.append(
            "Client layer: " + ", ".join(f"{k} {v}" for k, v in client.items()) + "."
        )
    if results.interrupted:
        head.blocks.append(
            "**This run was interrupted.** The figures use only the rounds measured before "
            "the interruption."
        )
    return head


_FIGURES: list[tuple[Callable[[Results, str, Path], Path | None], str, str]] = [
    (plots.saving_vs_cpu, "saving", "Bytes saved against CPU per KiB, with the front"),
    (plots.throughput_by_bucket, "buckets", "Throughput by payload size bucket"),
]


def _corpus_section(results: Results, corpus: str, folder: Path) -> Section:
    part = Section(f"Corpus {corpus}")
    part.blocks += [
        "Codec layer (the PayloadCodec as the SDK calls it), all payloads, in the order they "
        "were measured. Throughput is byte-weighted (all bytes over all time), the median over "
        "rounds with its 95 % interval; time per payload is count-weighted (every payload "
        "counts once). On the front: no other codec saves more bytes for less CPU.",
        _detail(results, corpus),
        *_sample(results, corpus),
        *_compacted(results, corpus),
    ]
    for draw, stem, alt in _FIGURES:
        image = draw(results, corpus, folder / f"{stem}-{corpus}.png")
        if image is not None:
            part.blocks.append(Image(image, f"{alt}, corpus {corpus}"))
    part.blocks += [
        "Headroom under Temporal's payload limits (before → after encoding):",
        _headroom(results, corpus),
    ]
    overhead = _overhead(results, corpus)
    if overhead is not None:
        part.blocks += [
            "Codec layer throughput as a share of the bare library call (raw layer) on the "
            "same serialized payloads, by size bucket. Below 100 %: what the codec adds "
            "(protobuf work, copies, a thread hand-off for work expected to take 1 ms or "
            "more) and, from a few hundred KiB, page faults: the codec path holds more "
            "buffers than the bare call, and glibc may give them back to the kernel when freed, "
            "so that each call faults them in again (README: Large payloads and glibc). Above "
            "100 %: the codec kept payloads that compression does not shrink and skipped "
            "the library call when decoding.",
            overhead,
        ]
    part.blocks += ["Noise floor:", *_noise_floor(results, corpus)]
    part.blocks += _client_section(results, corpus, folder)
    return part


METHOD = (
    "Each payload is encoded and decoded on its own; calls under 20 µs are repeated "
    "in a timed block. Every round runs every case in a new random order, so drift "
    "hits all codecs alike, and every round trip is checked byte for byte. Sizes are "
    "serialized Payloads with metadata, as the server stores them. MB = 10^6 bytes. "
    "CPU µs/KiB is process CPU time (every thread's), so a codec that used executor "
    "threads shows more CPU than wall time. Peak memory is Python heap growth; native "
    "scratch buffers are not counted."
)


def _reference(results: Results) -> list[Block]:
    cases = [c for c in results.cases if c.layer is Layer.REFERENCE]
    if not cases:
        return []
    rows = [
        [c.codec, _mbps(c.estimate(ALL, "encode_mbps")), _mbps(c.estimate(ALL, "decode_mbps"))]
        for c in cases
    ]
    return [
        "Reference workloads, timed in the same rounds as the codecs (how fast this machine ran; "
        "`compare --normalize` divides them out):",
        Table(["workload", "forward MB/s [95% CI]", "back MB/s [95% CI]"], rows),
    ]


def build_sections(results: Results, folder: Path) -> list[Section]:
    """Every section of the report, the verdict first; figures are written into ``folder``."""
    reading = reading_section(results, folder)
    large = large_section(results, folder)
    kms = kms_section(results)
    rest = [
        _run_section(results),
        *(_corpus_section(results, corpus, folder) for corpus in results.corpus_names),
        *([large] if large is not None else []),
        *([kms] if kms is not None else []),
        *([reading] if reading is not None else []),
        Section("Codecs", [_codec_table(results)]),
        Section("Corpora", [_corpus_table(results)]),
        Section("Environment", [_environment(results), *_reference(results)]),
        Section("Method", [METHOD]),
    ]
    return [
        Section("Verdict", verdict_blocks(results)),
        Section("Contents", [Contents([section.title for section in rest])]),
        *rest,
    ]


def write_report(results: Results, folder: Path) -> tuple[Path, Path]:
    """Write report.md, report.html and the figures into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = build_sections(results, folder)
    return render.write(
        folder, "report", sections, f"Temporal payload codec benchmark: {results.run_id}"
    )
