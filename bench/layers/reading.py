"""The reading layer: what each codec costs the operators who read histories, through the
library's codec server, with the real ``temporal`` CLI and the real Web UI.

For every codec and history size N, one workflow whose history holds N corpus payloads: its
input (a marker and the signal count), N - 3 signals of one corpus payload each, and its result.
Each round, in a new random order, every history is read:

- by ``temporal workflow show --output json``, through the codec server (``--codec-endpoint``)
  or, for the baseline, without one; the codec server's ``/metrics`` read before and after say
  how many requests and payload bytes that one show cost (the CLI asks once per event's
  payloads). The first reading of each history is checked: every payload the CLI prints equals
  what the workflow was given.
- by the Web UI in headless Chromium, when a browser is installed: the workflow's page, with
  the codec endpoint set in the browser as an operator sets it (the UI's own local setting), is
  timed on the browser's clock from navigation to the decoded input and result showing, no
  "Decoding failed", and every codec request the page made answered. The UI decodes event
  payloads lazily (one request per event an operator opens), so that is what its figure covers.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import random
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.common import RawValue

from bench.cluster import ClusterOptions
from bench.codec_rows import CodecUnderTest
from bench.corpus.catalog import Corpus
from bench.corpus.synthetic import json_payload
from bench.errors import RoundTripError
from bench.profiles import HISTORY_FRAME, ReadingProfile
from bench.results import CaseResult, Layer, case_result
from bench.results.samples import FAILED, DecodeSamples, ReadingSamples
from bench.temporal.codecserver import decode_counters, decode_load, metrics_text
from bench.temporal.connect import QUIET_PAYLOAD_BYTES, connect
from bench.temporal.devserver import temporal_cli
from bench.temporal.processes import timed_run
from bench.temporal.workflows import HistoryWorkflow
from payload_codecs import data_converter

SHOW_TIMEOUT_S = 120.0
UI_TIMEOUT_S = 60.0
LIBRARY = "temporal CLI and Web UI through payload-codec-server"


@dataclass
class Reading:
    """One codec's history of N payloads, where it can be read, and its samples."""

    row: CodecUnderTest
    corpus: str
    workflow_id: str
    marker: str
    """Shown by the input and result once decoded; unlike the id, nothing else shows it."""
    payloads: list[Payload]
    """In history order: the input's two, the signals', the result."""
    codec_url: str | None
    """The codec server that decodes it (``http://HOST:PORT``); ``None`` for the baseline."""
    samples: ReadingSamples
    run_id: str = ""
    checked: bool = False

    @property
    def variant(self) -> str:
        return f"{len(self.payloads)} payloads"

    def result(self) -> CaseResult:
        return case_result(
            self.samples,
            layer=Layer.READING,
            codec=self.row.label,
            corpus=self.corpus,
            library=LIBRARY,
            facts=self.row.facts,
            variant=self.variant,
        )

    def failed(self, error: str) -> None:
        self.samples.errors += 1
        self.samples.first_error = self.samples.first_error or error


@dataclass
class DecodeLoad:
    """``/decode`` over HTTP straight to one codec's server: one encoded payload of a size per
    request, at a concurrency. The 1 KiB requests show what a request costs whatever it holds,
    the larger ones what each byte adds."""

    row: CodecUnderTest
    url: str
    body: bytes
    samples: DecodeSamples

    @property
    def variant(self) -> str:
        size = self.samples.original_bytes[0]
        shown = f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"
        return f"/decode {shown} x{self.samples.concurrency}"

    def result(self, corpus: str) -> CaseResult:
        return case_result(
            self.samples,
            layer=Layer.READING,
            codec=self.row.label,
            corpus=corpus,
            library=LIBRARY,
            facts=self.row.facts,
            variant=self.variant,
        )


def plan_loads(
    rows: Sequence[CodecUnderTest], codec_urls: dict[str, str | None], plan: ReadingProfile
) -> list[DecodeLoad]:
    """A load per codec server, payload size and concurrency; bodies encoded once, here."""
    loads = []
    for row in rows:
        url = codec_urls[row.label]
        if url is None or row.chain is None:
            continue
        for size in plan.load_sizes:
            encoded = row.chain.encode_sync([json_payload(size)])
            body = json_format.MessageToJson(Payloads(payloads=encoded)).encode()
            for concurrency in plan.load_concurrency:
                samples = DecodeSamples([size], concurrency)
                loads.append(DecodeLoad(row, f"{url}/default/decode", body, samples))
    return loads


async def _load(load: DecodeLoad, requests: int) -> None:
    rate, latencies = await decode_load(load.url, load.body, load.samples.concurrency, requests)
    load.samples.requests_per_s.append(rate)
    load.samples.latency_ns.append([int(x * 1e9) for x in latencies])


def _json(value: object) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())


HISTORY_BUDGET = 32 << 20
"""Bytes of payloads one history may hold: a Temporal server fails a workflow whose history
passes 50 MiB (``limit.historySize.error``), so histories stay well under it."""
PAYLOAD_LIMIT = (2 << 20) - (4 << 10)
"""The largest payload a history can carry as a signal: the server refuses one over 2 MiB
(``limit.blobSize.error``), with the event around it."""


@dataclass(frozen=True)
class HistoryFit:
    """Histories the reading layer can write of a corpus: its payloads a history can carry,
    and for each history size asked for, the size that keeps the history within
    ``HISTORY_BUDGET``. ``notes`` say what changed; no ``payloads``: the layer cannot run on
    the corpus."""

    payloads: tuple[Payload, ...]
    sizes: dict[int, int]
    notes: tuple[str, ...] = ()

    def profile(self, profile: ReadingProfile) -> ReadingProfile:
        """``profile`` with the fitted sizes, for the Web UI too."""
        return replace(
            profile,
            sizes=tuple(dict.fromkeys(self.sizes.get(n, n) for n in profile.sizes)),
            ui_sizes=tuple(dict.fromkeys(self.sizes.get(n, n) for n in profile.ui_sizes)),
        )


def fit_histories(corpus: Corpus, sizes: Sequence[int]) -> HistoryFit:
    """The histories of ``sizes`` payloads that ``corpus`` can fill without the server
    refusing them: payloads over ``PAYLOAD_LIMIT`` left out, each history cut to the count whose
    payloads (stored as they are, as the baseline row stores them) stay within
    ``HISTORY_BUDGET``."""
    fits = tuple(p for p in corpus.payloads if p.ByteSize() <= PAYLOAD_LIMIT)
    notes = []
    if len(fits) < len(corpus.payloads):
        notes.append(
            f"{len(corpus.payloads) - len(fits)} of corpus {corpus.name}'s payloads are over "
            f"the server's {PAYLOAD_LIMIT:,}-byte limit for one payload in a history; "
            "histories leave them out"
        )
    if not fits:
        return HistoryFit((), {}, tuple(notes))
    fitted = {}
    for size in dict.fromkeys(sizes):
        count, total = HISTORY_FRAME, 0
        while count < size:
            total += fits[(count - HISTORY_FRAME) % len(fits)].ByteSize()
            if total > HISTORY_BUDGET:
                break
            count += 1
        fitted[size] = max(count, HISTORY_FRAME + 1)
        if fitted[size] < size:
            notes.append(
                f"histories of {fitted[size]} payloads instead of {size}: corpus "
                f"{corpus.name}'s payloads would take a history of {size} past "
                f"{HISTORY_BUDGET >> 20} MiB (the server refuses one past 50 MiB)"
            )
    return HistoryFit(fits, fitted, tuple(notes))


def history_payloads(payloads: Sequence[Payload], count: int, marker: str) -> list[Payload]:
    """``count`` payloads in history order: the input (a JSON marker, which the UI shows, and
    the number of signals), the corpus's payloads in turn as signals, the result (the marker)."""
    if count < HISTORY_FRAME + 1:
        raise ValueError(f"a history holds at least {HISTORY_FRAME + 1} payloads, not {count}")
    signals = [payloads[i % len(payloads)] for i in range(count - HISTORY_FRAME)]
    head = _json({"marker": marker})
    return [head, _json(len(signals)), *signals, head]


def plan_readings(
    rows: Sequence[CodecUnderTest],
    corpus: Corpus,
    sizes: Sequence[int],
    codec_urls: dict[str, str | None],
    run_id: str,
) -> list[Reading]:
    readings = []
    for index, row in enumerate(rows):
        for size in sizes:
            workflow_id = f"codec-bench-{run_id}-read-{index}-{size}"
            marker = f"decoded-{secrets.token_hex(8)}"
            payloads = history_payloads(corpus.payloads, size, marker)
            samples = ReadingSamples([p.ByteSize() for p in payloads], workflow_id=workflow_id)
            url = codec_urls[row.label]
            readings.append(Reading(row, corpus.name, workflow_id, marker, payloads, url, samples))
    return readings


async def _write(client: Client, reading: Reading, queue: str) -> None:
    """Run the history's workflow to completion: its input, its signals, its result."""
    head, expected, *signals, _ = reading.payloads
    handle = await client.start_workflow(
        HistoryWorkflow.run,
        args=[RawValue(head), RawValue(expected)],
        id=reading.workflow_id,
        task_queue=queue,
    )
    for payload in signals:
        await handle.signal(HistoryWorkflow.payload, RawValue(payload))
    await handle.result()
    described = await handle.describe()
    reading.run_id = described.run_id
    reading.samples.history_bytes = described.raw_info.history_size_bytes


async def write_histories(
    readings: Sequence[Reading], cluster: ClusterOptions, prefix: str
) -> None:
    """Each codec's histories, written through that codec by a worker in this process (writing
    is not what this layer measures; the client layer measures it)."""
    from temporalio.worker import Worker  # heavy, and only a run that reads needs it

    base = await connect(cluster, warn_payload_bytes=QUIET_PAYLOAD_BYTES)
    by_row: dict[str, list[Reading]] = {}
    for reading in readings:
        by_row.setdefault(reading.row.label, []).append(reading)
    for index, group in enumerate(by_row.values()):
        client = Client(
            base.service_client,
            namespace=cluster.namespace,
            data_converter=data_converter(group[0].row.codec),
        )
        queue = f"{prefix}-read-{index}"
        async with Worker(client, task_queue=queue, workflows=[HistoryWorkflow]):
            for reading in group:
                await _write(client, reading, queue)


def shown_payloads(output: bytes) -> list[Payload]:
    """The input, signal and result payloads of a ``workflow show --output json`` history, in
    order (parsed by protobuf's own JSON reader, as the CLI writes protobuf JSON)."""
    history = json_format.Parse(output, History(), ignore_unknown_fields=True)
    shown: list[Payload] = []
    for event in history.events:
        kind = event.WhichOneof("attributes")
        attributes = getattr(event, kind) if kind else None
        for name in ("input", "result"):
            if attributes is not None and name in attributes.DESCRIPTOR.fields_by_name:
                shown += getattr(attributes, name).payloads
    return shown


async def _counters(url: str | None) -> tuple[int, int]:
    """The codec server's decode counters (a few ms on loopback, off the loop's thread)."""
    if url is None:
        return 0, 0
    return decode_counters(await asyncio.to_thread(metrics_text, url))


def show_command(
    address: str,
    namespace: str,
    workflow_id: str,
    *,
    run_id: str | None = None,
    codec_url: str | None = None,
) -> list[str]:
    """``temporal workflow show --output json`` of one workflow, through the codec server at
    ``codec_url`` (``http://HOST:PORT``; the CLI puts the namespace into the path) if given."""
    return [
        temporal_cli(),
        "workflow",
        "show",
        "--output",
        "json",
        "--address",
        address,
        "--namespace",
        namespace,
        "--workflow-id",
        workflow_id,
        *(["--run-id", run_id] if run_id else []),
        *(["--codec-endpoint", f"{codec_url}/{{namespace}}"] if codec_url else []),
    ]


class ReadingFailed(Exception):
    """A reading that did not complete: an outcome of the codec, recorded, not a crash."""


async def _show(reading: Reading, cluster: ClusterOptions) -> tuple[int, int, int]:
    """One ``temporal workflow show`` of the history: ``(wall ns, codec requests, payload bytes
    sent to the codec server)``. The first is checked against the workflow's payloads."""
    command = show_command(
        str(cluster.address),
        cluster.namespace,
        reading.workflow_id,
        run_id=reading.run_id,
        codec_url=reading.codec_url,
    )
    before = await _counters(reading.codec_url)
    code, out, err, elapsed = await timed_run(command, SHOW_TIMEOUT_S)
    after = await _counters(reading.codec_url)
    if code != 0:
        raise ReadingFailed(
            f"temporal workflow show exited {code}: {' '.join(err.decode().split())}"
        )
    if not reading.checked:
        if shown_payloads(out) != reading.payloads:
            raise RoundTripError(
                f"reading layer, codec {reading.row.label}: temporal workflow show printed "
                f"payloads other than the ones workflow {reading.workflow_id} was given"
            )
        reading.checked = True
    return elapsed, after[0] - before[0], after[1] - before[1]


@dataclass
class _Requests:
    """The codec requests a tab made, as the browser reports them."""

    url: str
    started: int = 0
    ended: int = 0
    last_start: float = field(default_factory=time.monotonic)

    def on_start(self, request: Any) -> None:
        if request.url.startswith(self.url):
            self.started += 1
            self.last_start = time.monotonic()

    def on_end(self, request: Any) -> None:
        if request.url.startswith(self.url):
            self.ended += 1

    async def answered(self) -> None:
        """Every request answered, and none started for a moment (one about to be sent
        counts too)."""
        deadline = time.monotonic() + UI_TIMEOUT_S
        while self.ended < self.started or time.monotonic() - self.last_start < 0.3:
            if time.monotonic() > deadline:
                raise TimeoutError(f"codec requests unanswered after {UI_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.02)


_GO = """([path]) => {
  const link = document.createElement('a');
  link.href = path;
  document.body.appendChild(link);
  const started = performance.now();
  link.click();
  link.remove();
  return started;
}"""
"""Follow an in-app link, as an operator clicks one (the UI's router handles it without
reloading the page); the browser's clock when clicked."""

_SHOWN = """([marker, path]) => {
  if (location.pathname !== path) return false;
  const text = document.body.innerText;
  const seen = text.split(marker).length - 1 >= 2 && !text.includes('Decoding failed');
  return seen && performance.now();
}"""
"""The browser's clock once the workflow's page shows its decoded input and result: the
marker twice (it is not the workflow id, so nothing else shows it) and no decoding failure."""

_LEFT = """([marker, path]) => location.pathname === path
  && !document.body.innerText.includes(marker)"""

_ANSWERED = """([url, since]) => Math.max(0, ...performance.getEntriesByType('resource')
  .filter(e => e.name.startsWith(url) && e.startTime >= since).map(e => e.responseEnd))"""


@dataclass
class _Tab:
    page: Any
    requests: _Requests


class Browser:
    """Headless Chromium through Playwright with the Web UI loaded once per codec endpoint, in
    a browser context of its own (the endpoint lives in the UI's local setting, which an
    operator sets by hand, and the UI shares it between tabs). Each reading follows an in-app
    link to the workflow's page, as an operator clicks through the UI; the UI's own start-up,
    seconds of JavaScript on this kind of machine, is the same with any codec and is paid once."""

    def __init__(self, browser: Any, ui_url: str, namespace: str) -> None:
        self._browser = browser
        self._ui_url = ui_url
        self._list = f"/namespaces/{namespace}/workflows"
        self._tabs: dict[str | None, _Tab] = {}

    async def _tab(self, codec_url: str | None) -> _Tab:
        if codec_url in self._tabs:
            return self._tabs[codec_url]
        context = await self._browser.new_context()
        script = "performance.setResourceTimingBufferSize(100000);"
        if codec_url is not None:
            script += (
                f"localStorage.setItem('endpoint', {json.dumps(json.dumps(codec_url))});"
                "localStorage.setItem('overrideRemoteCodecConfiguration', 'true');"
            )
        await context.add_init_script(script)
        page = await context.new_page()
        requests = _Requests(codec_url or "none:")
        page.on("request", requests.on_start)
        page.on("requestfinished", requests.on_end)
        page.on("requestfailed", requests.on_end)
        await page.goto(self._ui_url + self._list, timeout=UI_TIMEOUT_S * 1e3)
        self._tabs[codec_url] = _Tab(page, requests)
        return self._tabs[codec_url]

    async def open(self, reading: Reading, namespace: str) -> float:
        """Milliseconds from following a link to the workflow's page to the page showing its
        decoded input and result with every codec request it made answered (browser clock)."""
        tab = await self._tab(reading.codec_url)
        page, timeout = tab.page, UI_TIMEOUT_S * 1e3
        # From the workflow list, where nothing is decoded, so that every reading starts alike.
        await page.evaluate(_GO, [self._list])
        await page.wait_for_function(_LEFT, arg=[reading.marker, self._list], timeout=timeout)
        await tab.requests.answered()
        path = f"/namespaces/{namespace}/workflows/{reading.workflow_id}/{reading.run_id}/history"
        clicked = float(await page.evaluate(_GO, [path]))
        shown = await page.wait_for_function(
            _SHOWN, arg=[reading.marker, path], polling=20, timeout=timeout
        )
        seen = float(await shown.json_value())
        await tab.requests.answered()
        answered = float(await page.evaluate(_ANSWERED, [tab.requests.url, clicked]))
        return max(seen, answered) - clicked


def find_chromium() -> str | None:
    """Debian's Chromium (or another on ``PATH``): Playwright drives it; its own browser
    download needs hosts a benchmark machine may not reach."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_missing() -> str | None:
    """Why the Web UI cannot be opened here, or ``None`` when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: pip install playwright"
    if find_chromium() is None:
        return "no chromium on PATH: apt-get install chromium"
    return None


@contextlib.asynccontextmanager
async def headless_browser(executable: str, ui_url: str, namespace: str) -> AsyncIterator[Browser]:
    """Chromium at ``executable``; closed, with Playwright's driver, on every exit path."""
    from playwright.async_api import async_playwright  # only runs that open the UI load it

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=BROWSER_FLAGS)
        try:
            yield Browser(browser, ui_url, namespace)
        finally:
            await browser.close()


BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Without the networking flags Chromium keeps trying hosts that a loopback run cannot need."""


async def _read(
    reading: Reading,
    in_ui: bool,
    cluster: ClusterOptions,
    browser: Browser | None,
) -> None:
    """One reading, recorded in the reading's samples; a failure is a recorded outcome."""
    s = reading.samples
    try:
        if in_ui:
            assert browser is not None
            before = await _counters(reading.codec_url)
            elapsed_ms = await browser.open(reading, cluster.namespace)
            after = await _counters(reading.codec_url)
            s.ui_ns.append(int(elapsed_ms * 1e6))
            s.ui_requests.append(after[0] - before[0])
        else:
            elapsed, requests, sent = await _show(reading, cluster)
            s.show_ns.append(elapsed)
            s.show_requests.append(requests)
            s.show_codec_bytes.append(sent)
    except RoundTripError:
        raise
    except Exception as error:  # a history that cannot be read is an outcome of its codec
        where = "Web UI" if in_ui else "CLI"
        reading.failed(f"{where}: {type(error).__name__}: {' '.join(str(error).split())[:300]}")
        (s.ui_ns if in_ui else s.show_ns).append(FAILED)


async def run_reading_layer(
    readings: Sequence[Reading],
    cluster: ClusterOptions,
    plan: ReadingProfile,
    *,
    browser: Browser | None,
    loads: Sequence[DecodeLoad] = (),
    on_step: Callable[[str], None] = lambda _: None,
    seed: int = 0,
) -> None:
    """One unrecorded CLI reading of each history, which checks what the CLI prints, one
    unrecorded page, which warms the browser's cache, and one unrecorded pass of each load;
    then the rounds, in a new random order each, the Web UI's pages in the first
    ``plan.ui_rounds`` of them."""
    ui_variants = {f"{size} payloads" for size in plan.ui_sizes}
    shows: list[Work] = [partial(_read, r, False, cluster, browser) for r in readings]
    pages: list[Work] = [
        partial(_read, r, True, cluster, browser)
        for r in readings
        if browser is not None and r.variant in ui_variants
    ]
    work_loads: list[Work] = [partial(_load, load, plan.load_requests) for load in loads]
    for reading in readings:
        recorded = reading.samples
        reading.samples = ReadingSamples(recorded.original_bytes)
        try:
            await _read(reading, False, cluster, browser)
        finally:
            reading.samples = recorded
    for item in pages[:1]:
        await item()
    for load in loads:
        await decode_load(load.url, load.body, load.samples.concurrency, plan.load_requests)
    for reading in readings:  # the page warmed the cache; its figure is not kept
        del reading.samples.ui_ns[:], reading.samples.ui_requests[:]
    on_step("reading warm-up")
    order = random.Random(seed)
    for round_no in range(plan.rounds):
        work = shows + work_loads + (pages if round_no < plan.ui_rounds else [])
        order.shuffle(work)
        for item in work:
            await item()
        on_step(f"reading round {round_no + 1}")


Work = Callable[[], Awaitable[None]]
