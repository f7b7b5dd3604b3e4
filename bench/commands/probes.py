"""``codec-bench stall | overhead | record-cost | codec-server | scale``: focused measurements
of the codec library itself (event-loop stalls, the codec path against the bare library call,
what recording adds, the codec server over HTTP) and of how a run grows with its corpus.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import payload_codecs
from bench.commands.common import Subparsers, command, non_negative_int, positive_int, size

if TYPE_CHECKING:
    from bench.probes.serving import Load

DEFAULT_SIZES = [1 << 10, 64 << 10, 1 << 20]
DEFAULT_RATES = [0.0, 0.001, 0.01, 0.1, 1.0]


def cmd_stall(args: argparse.Namespace) -> int:
    from bench.corpus.synthetic import json_payload
    from bench.probes.stall import codec_stalls

    keyring = payload_codecs.Keyring.generate("bench")
    cases = [
        (label, payload_codecs.from_spec(spec, keyring=keyring, options=options))
        for spec in args.codec
        for label, options in (
            ("in-loop", payload_codecs.CodecOptions(offload_after_us=None)),
            ("default", payload_codecs.CodecOptions()),
            ("offloaded", payload_codecs.CodecOptions(offload_after_us=0)),
        )
    ]
    payloads = [json_payload(args.size)]
    print(
        f"longest event-loop stall per call, median / worst of {args.repeats} calls, one "
        f"{args.size}-byte JSON payload (--codec none shows what the idle loop itself shows)"
    )
    for label, codec in cases:
        encode, decode = asyncio.run(codec_stalls(codec, payloads, args.repeats))
        print(
            f"{codec.spec:32} {label:9}  encode {_median_worst(encode)}"
            f"  decode {_median_worst(decode)}"
        )
    return 0


def _median_worst(stalls: list[int]) -> str:
    # The median says what a call costs the loop; the worst, on a shared host, also says what
    # the host cost it.
    return f"{statistics.median(stalls) / 1e6:6.2f} / {max(stalls) / 1e6:6.2f} ms"


def cmd_overhead(args: argparse.Namespace) -> int:
    from bench.corpus.synthetic import json_payload
    from bench.probes.overhead import require_stages, run_overhead

    keyring = payload_codecs.Keyring.generate("bench")
    options = payload_codecs.CodecOptions(offload_after_us=None) if args.in_loop else None
    codecs = [
        payload_codecs.from_spec(spec, keyring=keyring, options=options) for spec in args.codec
    ]
    for codec in codecs:  # before any measuring, not after the other codecs' minute
        require_stages(codec)
    where = "in-loop" if args.in_loop else "default offload budget"
    print(
        f"codec path ({where}) versus bare library call, best of 15 interleaved rounds; "
        "'protobuf' is what serializing, wrapping, reading and parsing payloads alone take, "
        "the part of 'added' that no PayloadCodec avoids, and 'at most' the share that "
        "leaves to any PayloadCodec"
    )
    print(
        f"{'codec':32} {'size':>8}  {'encode share':>12} {'at most':>7} {'added':>9} "
        f"{'protobuf':>9}  {'decode share':>12} {'at most':>7} {'added':>9} {'protobuf':>9}"
    )
    for payload_size in args.size or DEFAULT_SIZES:
        payload = json_payload(payload_size)
        for codec in codecs:
            o = run_overhead(codec, payload)
            print(
                f"{codec.spec:32} {payload_size:8}  {o.encode_share:11.1%} "
                f"{o.encode_ceiling:7.1%} {_us(o.codec_encode_ns - o.raw_encode_ns)} "
                f"{_us(o.protobuf_encode_ns)}  {o.decode_share:11.1%} {o.decode_ceiling:7.1%} "
                f"{_us(o.codec_decode_ns - o.raw_decode_ns)} {_us(o.protobuf_decode_ns)}"
            )
            if max(o.faults) >= 1:
                print(_faults_line(o.faults))
    return 0


def _faults_line(faults: tuple[float, ...]) -> str:
    """A row's page faults, when there were any to speak of: then they, not the codec's work,
    may be what the shares show."""
    raw_encode, codec_encode, raw_decode, codec_decode = faults
    return (
        f"{'':32} {'':8}  page faults per call: encode {codec_encode:,.0f} (bare "
        f"{raw_encode:,.0f}), decode {codec_decode:,.0f} (bare {raw_decode:,.0f}); glibc gave "
        "freed buffers back to the kernel (README: Large payloads and glibc)"
    )


def _us(nanoseconds: float) -> str:
    return f"{nanoseconds / 1e3:7.2f}us"


def cmd_record_cost(args: argparse.Namespace) -> int:
    from bench.corpus.synthetic import json_payload
    from bench.probes.overhead import measure_recording_cost

    codec = payload_codecs.from_spec(args.codec, keyring=payload_codecs.Keyring.generate("bench"))
    print(f"recording codec around {codec.spec}: best encode time per call, 15 rounds")
    with tempfile.TemporaryDirectory(prefix="codec-bench-record-") as folder:
        for payload_size in args.size or DEFAULT_SIZES:
            payload = json_payload(payload_size)
            for rate in args.rate or DEFAULT_RATES:
                cost = asyncio.run(measure_recording_cost(codec, payload, rate, Path(folder)))
                print(
                    f"size {payload_size:8}  rate {rate:<6} plain {cost.plain_ns / 1e3:8.2f}us  "
                    f"recording {cost.recording_ns / 1e3:8.2f}us  "
                    f"added {(cost.recording_ns - cost.plain_ns) / 1e3:6.2f}us"
                )
    return 0


def cmd_codec_server(args: argparse.Namespace) -> int:
    from bench.probes import serving  # aiohttp and the server stack: only for this command

    shapes = [serving.Shape(s) for s in args.size or [1 << 10, 64 << 10, 1 << 20]]
    shapes += [serving.Shape(size, count) for count, size in args.batch or [(100, 1 << 10)]]
    concurrencies = args.concurrency or [1, 4, 16]
    flags = ["--no-access-log"] if args.no_access_log else []
    shown = [*(["--workers", str(args.workers)] if args.workers > 1 else []), *flags]
    print(
        f"POST /decode of {args.spec} payloads, wrk {args.seconds:g} s per cell and round, "
        f"{args.rounds} rounds alternating the servers (medians over rounds); ours: "
        f"payload-codec-server {' '.join(shown) or '(defaults)'}"
        + (
            " beside itself with one process (scaling: N processes / one)"
            if args.workers > 1
            else ""
        )
    )
    loads = serving.measure(
        args.spec,
        shapes,
        concurrencies,
        args.seconds,
        args.rounds,
        flags=flags,
        workers=args.workers,
    )
    cells = {(load.server, load.shape, load.concurrency): load for load in loads}
    print(
        f"{'request':>14} {'conc':>5} {'ours req/s':>11} {'sample req/s':>13} {'ratio':>6}"
        f" {'ours p50 ms':>12} {'sample p50 ms':>14}"
        + (f" {'1 process req/s':>16} {'scaling':>8}" if args.workers > 1 else "")
    )
    for shape in shapes:
        for concurrency in concurrencies:
            ours = cells[serving.SERVERS[0], shape, concurrency]
            sample = cells[serving.SERVERS[1], shape, concurrency]
            print(
                f"{shape.label:>14} {concurrency:5} {ours.requests_per_s:11,.0f} "
                f"{sample.requests_per_s:13,.0f} {ours.requests_per_s / sample.requests_per_s:6.2f}"
                f" {ours.p50_ms:12.2f} {sample.p50_ms:14.2f}"
                + _scaling(cells.get((serving.ONE_PROCESS, shape, concurrency)), ours)
            )
    return 0


def cmd_scale(args: argparse.Namespace) -> int:
    from bench.probes import scale
    from bench.results.buckets import amount_of_bytes as shown

    run_args = [*(f"--codec={spec}" for spec in args.codec or ["zstd:3"]), "--rounds", "1"]
    run_args += ["--sample", str(args.sample)] if args.sample is not None else []
    print(
        f"codec-bench run {' '.join(run_args)} --no-client --no-reading on generated corpora of "
        f"JSON payloads of {shown(args.payload_size)}; each run in its own process"
    )
    header = ["payloads", "corpus", "timed", "peak memory", "results.json", "wall s"]
    widths = [12, 11, 8, 12, 13, 8]
    print(" ".join(f"{name:>{width}}" for name, width in zip(header, widths, strict=True)))
    points = []
    for p in scale.measure(args.payloads or [1_000, 10_000, 100_000], args.payload_size, run_args):
        cells = [f"{p.payloads:,}", shown(p.corpus_bytes), f"{p.timed:,}"]
        cells += [shown(p.peak_rss_bytes), shown(p.results_bytes), f"{p.seconds:.1f}"]
        print(" ".join(f"{cell:>{w}}" for cell, w in zip(cells, widths, strict=True)), flush=True)
        points.append(p)
    for before, after in itertools.pairwise(points):
        print(
            f"{before.payloads:,} -> {after.payloads:,} payloads "
            f"(x{after.payloads / before.payloads:g}): memory "
            f"x{after.peak_rss_bytes / before.peak_rss_bytes:.2f}, results "
            f"x{after.results_bytes / before.results_bytes:.2f}, "
            f"time x{after.seconds / before.seconds:.2f}"
        )
    return 0


def _scaling(one: Load | None, ours: Load) -> str:
    """The one-process server's rate, and the N processes' rate as a multiple of it."""
    if one is None:
        return ""
    return f" {one.requests_per_s:16,.0f} {ours.requests_per_s / one.requests_per_s:8.2f}"


def _batch(text: str) -> tuple[int, int]:
    """argparse type: ``100x1KiB``, a request of 100 payloads of 1 KiB."""
    count, separator, one = text.partition("x")
    if not separator or not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not COUNTxSIZE such as 100x1KiB")
    return int(count), size(one)


def add_parser(sub: Subparsers) -> None:
    stall = command(
        sub,
        "stall",
        "longest asyncio event-loop stall while a codec works: in-loop, default options, offloaded",
    )
    stall.add_argument("--codec", action="append", required=True, help="codec spec (repeatable)")
    stall.add_argument(
        "--size", type=size, default=2 << 20, help="payload size: 2MiB, 64KiB or a byte count"
    )
    stall.add_argument(
        "--repeats", type=positive_int, default=15, help="timed calls per size and way"
    )
    stall.set_defaults(run=cmd_stall)
    overhead = command(sub, "overhead", "codec path throughput as a share of the bare library call")
    overhead.add_argument("--codec", action="append", required=True, help="codec spec (repeatable)")
    overhead.add_argument(
        "--size", type=size, action="append", help="payload size (repeatable; 1KiB, 64KiB, 1MiB)"
    )
    overhead.add_argument(
        "--in-loop", action="store_true", help="never offload to a thread (offload_after_us=None)"
    )
    overhead.set_defaults(run=cmd_overhead)
    record_cost = command(sub, "record-cost", "what the recording codec adds to each encode call")
    record_cost.add_argument("--codec", default="none", help="inner codec spec")
    record_cost.add_argument(
        "--rate", type=float, action="append", help=f"repeatable; default {DEFAULT_RATES}"
    )
    record_cost.add_argument("--size", type=size, action="append", help="repeatable")
    record_cost.set_defaults(run=cmd_record_cost)
    _add_codec_server(sub)
    _add_scale(sub)


def _add_codec_server(sub: Subparsers) -> None:
    server = command(
        sub,
        "codec-server",
        "/decode requests/s and latency under wrk: payload-codec-server against a server written "
        "as Temporal's Python sample writes one (aiohttp, json_format.Parse)",
    )
    server.add_argument("--spec", default="zstd:3+aes256gcm", help="codec both servers serve")
    server.add_argument(
        "--size", type=size, action="append", help="one payload a request (repeatable; 1KiB)"
    )
    server.add_argument(
        "--batch", type=_batch, action="append", help="COUNTxSIZE payloads a request (100x1KiB)"
    )
    server.add_argument(
        "--concurrency", type=positive_int, action="append", help="connections (repeatable)"
    )
    server.add_argument(
        "--seconds", type=float, default=10.0, help="wrk's duration per cell and round"
    )
    server.add_argument(
        "--rounds", type=positive_int, default=3, help="load passes per request shape"
    )
    server.add_argument(
        "--workers", type=positive_int, default=1, help="payload-codec-server --workers N"
    )
    server.add_argument(
        "--no-access-log", action="store_true", help="payload-codec-server --no-access-log"
    )
    server.set_defaults(run=cmd_codec_server)


def _add_scale(sub: Subparsers) -> None:
    grow = command(
        sub, "scale", "peak memory, results size and wall time of runs over ever larger corpora"
    )
    grow.add_argument(
        "--payloads",
        type=positive_int,
        action="append",
        help="corpus payloads (repeatable; 1000, 10000, 100000)",
    )
    grow.add_argument("--payload-size", type=size, default=1 << 10, help="bytes per payload")
    grow.add_argument(
        "--codec", action="append", help="codec each run measures (repeatable; zstd:3)"
    )
    grow.add_argument(
        "--sample", type=non_negative_int, help="codec-bench run --sample (default: run's own)"
    )
    grow.set_defaults(run=cmd_scale)
