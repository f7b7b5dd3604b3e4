"""report.md and a self-contained report.html (plots embedded), built from a results file alone.

Both renderings come from one list of sections, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.outputs import plots, render
from bench.outputs.render import Block, Image, Section, Table
from bench.plan import BASELINE
from bench.results.buckets import BUCKETS
from bench.results.schema import ALL, Results


def _mbps(estimate: dict[str, Any] | None) -> str:
    if not estimate:
        return "-"
    return f"{estimate['median']:,.0f} [{estimate['low']:,.0f}-{estimate['high']:,.0f}]"


def _size(count: float | None) -> str:
    if count is None:
        return "-"
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(count) >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count:,.0f} B"


def _latency(metrics: dict[str, Any], side: str) -> str:
    value = metrics.get(f"{side}_latency_us")
    return f"{value['p50']:,.1f} / {value['p99']:,.1f}" if value else "-"


def _corpora(results: Results) -> list[str]:
    return [c["name"] for c in results.corpora]


def _ranking(results: Results, corpus: str) -> Table:
    cases = results.cases_of("codec", corpus)
    timed = [c for c in cases if "encode_mbps" in c.summary[ALL]]
    points = [
        (c.summary[ALL]["encode_mbps"]["median"], c.summary[ALL]["ratio"] or 0) for c in timed
    ]
    frontier = {timed[i].codec for i in plots.pareto_front(points)}
    ranked = sorted(cases, key=lambda c: -(c.summary[ALL]["ratio"] or 0))
    rows = []
    for rank, case in enumerate(ranked, start=1):
        m = case.summary[ALL]
        saved = 100 * m["bytes_saved"] / m["original_bytes"] if m["original_bytes"] else 0
        rows.append(
            [
                str(rank),
                case.codec,
                f"{m['ratio']:.2f}" if m["ratio"] else "-",
                f"{saved:.1f} %",
                _mbps(m.get("encode_mbps")),
                _mbps(m.get("decode_mbps")),
                _latency(m, "encode"),
                _latency(m, "decode"),
                f"{m.get('encode_cpu_per_wall', 0):.2f}",
                _size(m.get("peak_memory_bytes")),
                "yes" if case.codec in frontier else "",
            ]
        )
    return Table(
        [
            "rank",
            "codec",
            "ratio",
            "saved",
            "encode MB/s [95% CI]",
            "decode MB/s [95% CI]",
            "encode µs p50 / p99",
            "decode µs p50 / p99",
            "encode CPU/wall",
            "peak memory",
            "Pareto",
        ],
        rows,
    )


def _headroom(results: Results, corpus: str) -> Table:
    rows = []
    for case in results.cases_of("codec", corpus):
        m = case.summary[ALL]
        rows.append(
            [
                case.codec,
                f"{m['over_warning_before']} → {m['over_warning_after']}",
                f"{m['over_limit_before']} → {m['over_limit_after']}",
                _size(m["max_encoded_bytes"]),
                f"{100 * m['max_encoded_bytes'] / (2 << 20):.0f} %",
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
    for case in results.cases_of("codec", corpus):
        raw = results.case("raw", case.codec, corpus)
        if raw is None:
            continue
        cells = [case.codec]
        for bucket in buckets:
            shares = []
            for side in ("encode", "decode"):
                codec_m = case.summary.get(bucket, {}).get(f"{side}_mbps")
                raw_m = raw.summary.get(bucket, {}).get(f"{side}_mbps")
                shares.append(
                    f"{codec_m['median'] / raw_m['median']:.0%}" if codec_m and raw_m else "-"
                )
            cells.append(" / ".join(shares))
        rows.append(cells)
    if not rows:
        return None
    return Table(["codec (encode / decode share)", *buckets], rows)


def _noise_floor(results: Results, corpus: str) -> list[Block]:
    a = results.case("codec", f"{BASELINE} (A)", corpus)
    b = results.case("codec", f"{BASELINE} (B)", corpus)
    if a is None or b is None or "encode_mbps" not in a.summary[ALL]:
        return ["The A/A pair was not measured for this corpus."]
    rows = []
    spreads = []
    for side in ("encode", "decode"):
        ma, mb = a.summary[ALL][f"{side}_mbps"], b.summary[ALL][f"{side}_mbps"]
        spread = abs(ma["median"] / mb["median"] - 1)
        spreads.append(spread)
        rows.append([side, _mbps(ma), _mbps(mb), f"{spread:.1%}"])
    return [
        Table(["", f"{BASELINE} (A) MB/s", f"{BASELINE} (B) MB/s", "A/B difference"], rows),
        f"The same codec measured twice differs by up to {max(spreads):.1%} here: smaller "
        "differences between codecs on this corpus are within this machine's noise.",
    ]


def _client_table(results: Results, corpus: str) -> Table:
    cases = results.cases_of("client", corpus)
    base = results.case("client", f"{BASELINE} (A)", corpus)
    base_m = base.summary[ALL] if base else {}
    base_p50 = base_m.get("latency_ms", {}).get("p50", {}).get("median")
    base_history = base_m.get("history_bytes_per_workflow")
    rows = []
    for case in cases:
        m = case.summary[ALL]
        latency = m.get("latency_ms")
        if latency is None:
            rows.append([case.codec, *["-"] * 8, str(m.get("errors", 0))])
            continue
        p50 = latency["p50"]
        in_codec = m["client_codec_us_per_workflow"] + m["worker_codec_us_per_workflow"]
        delta = f"{p50['median'] - base_p50:+,.1f}" if base_p50 is not None else "-"
        history = m["history_bytes_per_workflow"]
        versus = f"{history / base_history:.2f}x" if base_history else "-"
        throughput = m.get("throughput_wps")
        rows.append(
            [
                case.codec,
                f"{p50['median']:,.1f} [{p50['low']:,.1f}-{p50['high']:,.1f}]",
                f"{latency['p90']['median']:,.1f} / {latency['p99']['median']:,.1f}",
                delta,
                f"{in_codec / 1e3:,.2f}",
                f"{_size(history)} ({versus})",
                f"{throughput['median']:,.1f} [{throughput['low']:,.1f}-{throughput['high']:,.1f}]"
                if throughput
                else "-",
                f"{m['worker_max_stall_ms']:,.1f}",
                str(m.get("errors", 0)),
            ]
        )
    concurrency = cases[0].summary[ALL].get("concurrency", "?") if cases else "?"
    return Table(
        [
            "codec",
            "p50 ms [95% CI]",
            "p90 / p99 ms",
            "p50 vs none (A), ms",
            "in codec, ms per workflow (client + worker)",
            "history stored per workflow (vs none)",
            f"workflows/s at {concurrency} in flight",
            "worker max stall, ms",
            "errors",
        ],
        rows,
    )


def _client_buckets(results: Results, corpus: str) -> Table:
    cases = results.cases_of("client", corpus)
    buckets = [b.name for b in BUCKETS if any(b.name in c.summary for c in cases)]
    rows = []
    for case in cases:
        cells = [case.codec]
        for bucket in buckets:
            m = case.summary.get(bucket, {})
            if "latency_ms" in m:
                cells.append(
                    f"{m['latency_ms']['p50']['median']:,.1f} ms / "
                    f"{_size(m['history_bytes_per_workflow'])}"
                )
            else:
                cells.append("-")
        rows.append(cells)
    return Table(["codec (p50 latency / history per workflow)", *buckets], rows)


def _client_section(results: Results, corpus: str, folder: Path) -> list[Block]:
    if not results.cases_of("client", corpus):
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
    image = plots.client_path(results, corpus, folder / f"client-{corpus}.png")
    if image is not None:
        blocks.append(Image(image, f"Client path latency and stored history, corpus {corpus}"))
    return blocks


def _environment(results: Results) -> Table:
    env = results.environment
    cores = f"{env.get('cpu_count')} cores, {env.get('cpu_affinity')} usable"
    python = env["python"]
    rows = [
        [
            "CPU",
            f"{env.get('cpu_model')} ({cores})",
        ],
        ["load average at start", ", ".join(f"{x:.2f}" for x in env.get("load_average") or [])],
        ["platform", str(env.get("platform"))],
        [
            "Python",
            f"{python['implementation']} {python['version']} ({python['build']})",
        ],
        *[[f"package {k}", str(v)] for k, v in env.get("packages", {}).items()],
        *[[f"native {k}", str(v)] for k, v in env.get("native", {}).items()],
        [
            "malloc variables",
            ", ".join(f"{k}={v}" for k, v in env.get("malloc", {}).items()) or "none set",
        ],
        ["git commit", str(env.get("git_commit"))],
    ]
    return Table(["what", "value"], rows)


def _corpus_table(results: Results) -> Table:
    rows = [
        [
            c["name"],
            str(c["payload_count"]),
            _size(c["total_bytes"]),
            str(c["provenance"].get("kind")),
            ", ".join(f"{k}: {v}" for k, v in c.get("skipped", {}).items()) or "-",
            c["digest"][:16],
        ]
        for c in results.corpora
    ]
    return Table(["corpus", "payloads", "bytes", "source", "skipped", "sha256 (first 16)"], rows)


def build_sections(results: Results, folder: Path) -> list[Section]:
    """Every section of the report; figures are written into ``folder``."""
    head = Section("Run")
    head.blocks.append(
        f"Run `{results.run_id}`, profile `{results.profile}`, {results.rounds_completed} of "
        f"{results.rounds_planned} measured rounds, started {results.started}, finished "
        f"{results.finished}. Command: `{' '.join(results.command)}`. Data: `results.json` "
        "(raw samples, schema documented in `bench/results.py`) and `results.csv` (long format). "
        "Compare runs with `codec-bench compare A.json B.json`; choose a codec with "
        "`codec-bench recommend results.json`."
    )
    client = results.extra.get("client", {})
    if client:
        head.blocks.append(
            "Client layer: " + ", ".join(f"{k} {v}" for k, v in client.items()) + "."
        )
    if results.interrupted:
        head.blocks.append(
            "**This run was interrupted.** The figures use only the rounds measured before "
            "the interruption."
        )
    sections = [head]
    for corpus in _corpora(results):
        part = Section(f"Corpus {corpus}")
        part.blocks += [
            "Codec layer (the PayloadCodec as the SDK calls it), all payloads. Ranked by ratio; "
            "throughput is the median over rounds with its 95 % bootstrap confidence interval; "
            "latency is per payload. Pareto: no other codec is both faster to encode and smaller.",
            _ranking(results, corpus),
        ]
        figures: list[tuple[Callable[[Results, str, Path], Path | None], str, str]] = [
            (plots.ratio_vs_speed, "ratio", "Compression ratio against encode throughput"),
            (plots.throughput_by_bucket, "buckets", "Throughput by payload size bucket"),
            (plots.latency_distribution, "latency", "Per-payload latency distributions"),
        ]
        for draw, stem, alt in figures:
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
                "(protobuf work, copies, a thread hand-off from the offload threshold on). Above "
                "100 %: the codec kept payloads that compression does not shrink and skipped "
                "the library call when decoding.",
                overhead,
            ]
        part.blocks += ["A/A noise floor:", *_noise_floor(results, corpus)]
        part.blocks += _client_section(results, corpus, folder)
        sections.append(part)
    sections.append(Section("Corpora", [_corpus_table(results)]))
    sections.append(Section("Environment", [_environment(results)]))
    sections.append(
        Section(
            "Method",
            [
                "Each payload is encoded and decoded on its own; calls under 20 µs are repeated "
                "in a timed block. Every round runs every case in a new random order, so drift "
                "hits all codecs alike, and every round trip is checked byte for byte. Sizes are "
                "serialized Payloads with metadata, as the server stores them. MB = 10^6 bytes. "
                "CPU/wall above 1 means the codec used executor threads. Peak memory is Python "
                "heap growth; native scratch buffers are not counted.",
            ],
        )
    )
    return sections


def write_report(results: Results, folder: Path) -> tuple[Path, Path]:
    """Write report.md, report.html and the figures into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = build_sections(results, folder)
    return render.write(
        folder, "report", sections, f"Temporal payload codec benchmark: {results.run_id}"
    )
