"""The report's "Reading histories" section and its line in the verdict: what each codec costs
the operators who read histories through the codec server, with the CLI and the Web UI."""

from __future__ import annotations

from pathlib import Path

from bench.outputs import plots
from bench.outputs.render import Block, Image, Section, Table
from bench.results import ALL, CaseResult, Layer, Results
from bench.results.samples import DecodeSamples, ReadingSamples
from bench.results.stats import Estimate

INTRO = (
    "Each codec wrote histories of N payloads from corpus {corpus} (the workflow's input, "
    "N - 3 signals of one corpus payload each, its result). Every round, in a new random "
    "order, `temporal workflow show --output json` read each one through the library's codec "
    "server (the baseline without a codec server), and the Web UI, in headless Chromium, "
    "followed an in-app link to the workflow's page: timed from the click to the page showing "
    "the decoded input and result with every codec request answered. The CLI asks the codec "
    "server once per event that holds payloads, one request after another; the UI decodes the "
    "input and result when the page opens and each event's payloads only when an operator "
    "opens that event, so its time hardly grows with N. Times are p50 over rounds with the "
    "95 % interval (the range, with the coverage it reaches, when there are few rounds)."
)


def reading_cases(results: Results) -> list[CaseResult]:
    """The reading layer's histories, by size, then codec."""
    cases = [
        c
        for c in results.cases
        if c.layer is Layer.READING and isinstance(c.samples, ReadingSamples)
    ]
    return sorted(cases, key=lambda c: c.value(ALL, "payloads_in_history") or 0)


def load_cases(results: Results) -> list[CaseResult]:
    """The reading layer's /decode loads, as measured (codec, size, concurrency)."""
    return [c for c in results.cases if isinstance(c.samples, DecodeSamples)]


LOADS = (
    "`/decode` over HTTP straight to each codec's server, one JSON payload of the size per "
    "request, at 1 and more in flight (the harness's client shares the machine's cores with "
    "the server): the smallest size shows what a request costs whatever it holds, the larger "
    "ones what each byte adds. Latency p50 and p90 over every request of every round; "
    "requests/s the median over rounds."
)


def _load_table(cases: list[CaseResult]) -> Table:
    rows = []
    for case in cases:
        rate = case.estimate(ALL, "decode_requests_per_s")
        rows.append(
            [
                case.codec,
                case.variant.removeprefix("/decode "),
                _ms(case.estimate(ALL, "decode_request_ms", "p50"), 2),
                _ms(case.estimate(ALL, "decode_request_ms", "p90"), 2),
                "-" if rate is None else f"{rate.median:,.0f} [{rate.low:,.0f}-{rate.high:,.0f}]",
            ]
        )
    header = ["codec", "payload x in flight", "ms p50 [CI]", "ms p90 [CI]", "requests/s [CI]"]
    return Table(header, rows)


def _ms(estimate: Estimate | None, digits: int = 0) -> str:
    if estimate is None:
        return "-"
    e, d = estimate, digits
    return f"{e.median:,.{d}f} [{e.low:,.{d}f}-{e.high:,.{d}f}]"


def _baseline(results: Results, case: CaseResult) -> CaseResult | None:
    return next(
        (
            c
            for c in reading_cases(results)
            if c.facts.baseline and c.variant == case.variant and c.corpus == case.corpus
        ),
        None,
    )


def _change(case: CaseResult, base: CaseResult | None, metric: str) -> str:
    mine, theirs = case.value(ALL, metric, "p50"), base and base.value(ALL, metric, "p50")
    if mine is None or not theirs or case is base:
        return "-"
    return f"{mine - theirs:+,.0f} ms ({mine / theirs:.2f}x)"


def _reading_row(results: Results, case: CaseResult) -> list[str]:
    base = _baseline(results, case)
    sent = case.value(ALL, "show_codec_bytes")
    stored = case.value(ALL, "reading_history_bytes")
    return [
        case.codec,
        f"{case.value(ALL, 'payloads_in_history') or 0:,.0f}",
        _ms(case.estimate(ALL, "show_ms", "p50")),
        _ms(case.estimate(ALL, "show_ms", "p90")),
        _change(case, base, "show_ms"),
        f"{case.value(ALL, 'show_requests') or 0:,.0f} / {(sent or 0) / 1024:,.1f} KiB",
        _ms(case.estimate(ALL, "ui_ms", "p50")),
        _change(case, base, "ui_ms"),
        "-" if case.value(ALL, "ui_requests") is None else f"{case.value(ALL, 'ui_requests'):,.0f}",
        f"{(stored or 0) / 1024:,.1f} KiB",
        str(case.raw(ALL, "failed_readings") or 0),
    ]


def reading_section(results: Results, folder: Path) -> Section | None:
    cases = reading_cases(results)
    info = results.layers.get(Layer.READING, {})
    if not cases:
        status = info.get("status")
        return Section("Reading histories", [f"Not measured: {status}."]) if status else None
    blocks: list[Block] = [
        INTRO.format(corpus=cases[0].corpus),
        "Reading layer: " + ", ".join(f"{k} {v}" for k, v in info.items()) + ".",
        Table(
            [
                "codec",
                "payloads in history",
                "CLI show ms, p50 [95% CI]",
                "CLI p90 ms [CI]",
                "CLI vs none",
                "codec requests / bytes sent per show",
                "Web UI page ms, p50 [95% CI]",
                "UI vs none",
                "UI codec requests",
                "history stored",
                "failed readings",
            ],
            [_reading_row(results, case) for case in cases],
        ),
    ]
    image = plots.reading_times(cases, folder / "reading.png")
    if image is not None:
        blocks.append(Image(image, "Time to show a history against its payload count"))
    loads = load_cases(results)
    if loads:
        blocks += [LOADS, _load_table(loads)]
    return Section("Reading histories", blocks)


def reading_verdict(results: Results) -> str | None:
    """One sentence for the verdict: the largest history measured, each codec against none."""
    cases = [c for c in reading_cases(results) if c.has(ALL, "show_ms")]
    if not cases:
        return None
    largest = max(c.value(ALL, "payloads_in_history") or 0 for c in cases)
    shown = [c for c in cases if c.value(ALL, "payloads_in_history") == largest]
    parts = []
    for case in shown:
        show, ui = case.value(ALL, "show_ms", "p50"), case.value(ALL, "ui_ms", "p50")
        page = f", Web UI page {ui:,.0f} ms" if ui is not None else ""
        requests = case.value(ALL, "show_requests") or 0
        asked = f" ({requests:,.0f} codec requests)" if requests else ""
        parts.append(f"{case.codec} {show or 0:,.0f} ms{asked}{page}")
    return (
        f"**Reading histories** (p50, a history of {largest:,.0f} payloads; `temporal workflow "
        f"show` through the codec server): " + "; ".join(parts) + '. See "Reading histories".'
    )
