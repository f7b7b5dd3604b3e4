"""The ``codec-bench`` command. User mistakes end in one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from temporalio.api.common.v1 import Payload

import payload_codecs
from bench.commands import corpus as corpus_commands
from bench.commands import run
from bench.errors import UserError, positive_int
from bench.layers.inprocess import RoundTripError
from bench.outputs import compare, recommend, render
from bench.probes.loopstall import codec_stalls
from bench.probes.overhead import measure_recording_cost, run_overhead
from bench.results import schema as results

DEFAULT_SIZES = [1 << 10, 64 << 10, 1 << 20]
DEFAULT_RATES = [0.0, 0.001, 0.01, 0.1, 1.0]
EXIT_FAILED = 1
EXIT_USAGE = 2


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|k|kib|kb|m|mib|mb)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "k": 1024, "kib": 1024, "kb": 1024, "m": 1 << 20, "mib": 1 << 20, "mb": 1 << 20}


def _size(text: str) -> int:
    """A byte count such as ``1024``, ``64KiB`` or ``2MiB`` (binary units)."""
    match = _SIZE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 2MiB, 64KiB or 1024")
    return int(float(match[1]) * _UNITS[(match[2] or "b").lower()])


def _json_records(size: int, seed: int) -> bytes:
    # Typical JSON records (ids, names, tags, floats): compressible like real workflow data.
    rng = random.Random(seed)
    out = bytearray(b"[")
    while len(out) < size:
        record = {
            "id": rng.randrange(10**9),
            "name": f"user{rng.randrange(10**4)}",
            "tags": [rng.choice("abcdefgh") for _ in range(5)],
            "score": rng.random(),
        }
        out += json.dumps(record).encode() + b","
    return bytes(out[:size])


def _cmd_codecs(args: argparse.Namespace) -> int:
    for family in payload_codecs.families():
        print(family.describe())
    return 0


def _cmd_stall(args: argparse.Namespace) -> int:
    keyring = payload_codecs.Keyring.generate("bench")
    cases = [
        (label, payload_codecs.from_spec(spec, keyring=keyring, options=options))
        for spec in args.codec
        for label, options in (
            ("in-loop", payload_codecs.CodecOptions(offload_threshold=None)),
            ("offloaded", payload_codecs.CodecOptions(offload_threshold=0)),
        )
    ]
    payloads = [Payload(metadata={"encoding": b"json/plain"}, data=_json_records(args.size, 1))]
    print(f"longest event-loop stall, worst of {args.repeats}, one {args.size}-byte JSON payload")
    for label, codec in cases:
        encode, decode = asyncio.run(codec_stalls(codec, payloads, args.repeats))
        print(
            f"{codec.spec:32} {label:9}  encode {encode.longest_ns / 1e6:7.2f} ms"
            f"  decode {decode.longest_ns / 1e6:7.2f} ms"
        )
    return 0


def _cmd_overhead(args: argparse.Namespace) -> int:
    keyring = payload_codecs.Keyring.generate("bench")
    options = payload_codecs.CodecOptions(offload_threshold=None) if args.in_loop else None
    codecs = [
        payload_codecs.from_spec(spec, keyring=keyring, options=options) for spec in args.codec
    ]
    where = "in-loop" if args.in_loop else "default offload threshold"
    print(f"codec path ({where}) versus bare library call, best of 15 interleaved rounds")
    print(
        f"{'codec':32} {'size':>8}  {'encode share':>12} {'added':>9}"
        f"  {'decode share':>12} {'added':>9}"
    )
    for size in args.size or DEFAULT_SIZES:
        payload = Payload(metadata={"encoding": b"json/plain"}, data=_json_records(size, 1))
        for codec in codecs:
            o = run_overhead(codec, payload)
            print(
                f"{codec.spec:32} {size:8}  {o.encode_share:11.1%} "
                f"{(o.codec_encode_ns - o.raw_encode_ns) / 1e3:7.2f}us  {o.decode_share:11.1%} "
                f"{(o.codec_decode_ns - o.raw_decode_ns) / 1e3:7.2f}us"
            )
    return 0


def _cmd_record_cost(args: argparse.Namespace) -> int:
    codec = payload_codecs.from_spec(args.codec, keyring=payload_codecs.Keyring.generate("bench"))
    print(f"recording codec around {codec.spec}: best encode time per call, 15 rounds")
    with tempfile.TemporaryDirectory(prefix="codec-bench-record-") as folder:
        for size in args.size or DEFAULT_SIZES:
            payload = Payload(metadata={"encoding": b"json/plain"}, data=_json_records(size, 1))
            for rate in args.rate or DEFAULT_RATES:
                cost = asyncio.run(measure_recording_cost(codec, payload, rate, Path(folder)))
                print(
                    f"size {size:8}  rate {rate:<6} plain {cost.plain_ns / 1e3:8.2f}us  "
                    f"recording {cost.recording_ns / 1e3:8.2f}us  "
                    f"added {(cost.recording_ns - cost.plain_ns) / 1e3:6.2f}us"
                )
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    runs = [results.load(path) for path in args.results]
    comparison = compare.compare(runs, min_effect=args.min_effect / 100, normalize=args.normalize)
    if args.json:
        print(json.dumps(comparison.to_json(), indent=2))
    else:
        print(render.markdown(compare.sections(comparison, None), "Codec benchmark comparison"))
    if args.out:
        _, page = compare.write(comparison, Path(args.out))
        print(f"comparison: {page.resolve()}", file=sys.stderr)
    if args.fail_on_regression is not None:
        regressions = comparison.regressions(args.fail_on_regression)
        for run_id, codec, ratio, rows in regressions:
            worst = min(rows, key=lambda d: d.speedup or 1.0)
            print(
                f"codec-bench: regression: {run_id} {codec}: {ratio - 1:+.1%} over all payloads "
                f"(worst: {worst.layer} {worst.corpus} {worst.metric} "
                f"{(worst.speedup or 1) - 1:+.1%}, p={worst.p_value:.2g})",
                file=sys.stderr,
            )
        return EXIT_FAILED if regressions else 0
    return 0


def _cmd_recommend(args: argparse.Namespace) -> int:
    costs = recommend.Costs(
        volume_gb=args.volume_gb,
        storage_per_gb=args.storage_price,
        transfer_per_gb=args.transfer_price,
        cpu_per_hour=args.cpu_price,
    )
    objective = args.objective or ("cost" if costs.given else "balanced")
    limits = recommend.Constraints(
        must_encrypt=args.must_encrypt,
        max_encode_us=args.max_encode_us,
        max_decode_us=args.max_decode_us,
        max_latency_ms=args.max_latency_ms,
        min_ratio=args.min_ratio,
        headroom=None if args.headroom is None else args.headroom / 100,
    )
    rec = recommend.recommend(
        results.load(args.results),
        corpus=args.corpus,
        objective=objective,
        limits=limits,
        costs=costs,
    )
    if args.json:
        print(json.dumps(rec.to_json(), indent=2))
    else:
        print(render.markdown(recommend.sections(rec), "Codec recommendation"))
    return 0 if rec.winner else EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codec-bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("codecs", help="list codec families, levels and implementations").set_defaults(
        run=_cmd_codecs
    )
    run.add_parsers(sub)
    corpus_commands.add_parser(sub)
    compared = sub.add_parser("compare", help="significance-tested changes between runs")
    compared.add_argument(
        "results", nargs="+", help="results.json files; the first is the reference"
    )
    compared.add_argument("--out", help="folder for compare.md, compare.html and plots")
    compared.add_argument("--json", action="store_true", help="one JSON object on stdout")
    compared.add_argument(
        "--normalize",
        action="store_true",
        help="divide out machine-wide drift (same machine, different times)",
    )
    compared.add_argument(
        "--min-effect",
        type=float,
        default=compare.MIN_EFFECT * 100,
        help="smallest change in %% that is called (default 5)",
    )
    compared.add_argument(
        "--fail-on-regression",
        type=float,
        metavar="PCT",
        help="exit 1 if any row is significantly slower by PCT %% or more",
    )
    compared.set_defaults(run=_cmd_compare)
    advice = sub.add_parser("recommend", help="the codec to deploy under your constraints")
    advice.add_argument("results", help="a results.json")
    advice.add_argument("--corpus", help="corpus to judge by (default: the run's first)")
    advice.add_argument(
        "--objective",
        choices=recommend.OBJECTIVES,
        help="default: cost when a price is given, else balanced",
    )
    advice.add_argument("--must-encrypt", action="store_true")
    advice.add_argument("--max-encode-us", type=float, help="per-payload encode p99 limit")
    advice.add_argument("--max-decode-us", type=float, help="per-payload decode p99 limit")
    advice.add_argument("--max-latency-ms", type=float, help="workflow round trip p50 limit")
    advice.add_argument("--min-ratio", type=float, help="smallest acceptable compression ratio")
    advice.add_argument(
        "--headroom",
        type=float,
        metavar="PCT",
        help="%% of the 2 MiB payload limit the largest payload must leave free",
    )
    advice.add_argument(
        "--volume-gb",
        type=float,
        default=100.0,
        help="original payload GB per month, for the cost model (default 100)",
    )
    advice.add_argument("--storage-price", type=float, default=0.0, help="price per GB stored")
    advice.add_argument("--transfer-price", type=float, default=0.0, help="price per GB moved")
    advice.add_argument("--cpu-price", type=float, default=0.0, help="price per CPU hour")
    advice.add_argument("--json", action="store_true", help="one JSON object on stdout")
    advice.set_defaults(run=_cmd_recommend)
    stall = sub.add_parser(
        "stall", help="longest asyncio event-loop stall while a codec works, in-loop vs offloaded"
    )
    stall.add_argument("--codec", action="append", required=True, help="codec spec (repeatable)")
    stall.add_argument("--size", type=_size, default=2 << 20, help="payload size (default 2MiB)")
    stall.add_argument("--repeats", type=positive_int, default=5)
    stall.set_defaults(run=_cmd_stall)
    overhead = sub.add_parser(
        "overhead", help="codec path throughput as a share of the bare library call"
    )
    overhead.add_argument("--codec", action="append", required=True, help="codec spec (repeatable)")
    overhead.add_argument(
        "--size",
        type=_size,
        action="append",
        help="payload size (repeatable; default 1KiB, 64KiB, 1MiB)",
    )
    overhead.add_argument(
        "--in-loop", action="store_true", help="never offload to a thread (offload_threshold=None)"
    )
    overhead.set_defaults(run=_cmd_overhead)
    record_cost = sub.add_parser(
        "record-cost", help="what the recording codec adds to each encode call"
    )
    record_cost.add_argument("--codec", default="none", help="inner codec spec (default none)")
    record_cost.add_argument("--rate", type=float, action="append", help="repeatable")
    record_cost.add_argument("--size", type=_size, action="append", help="repeatable")
    record_cost.set_defaults(run=_cmd_record_cost)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (UserError, ValueError, OSError) as error:
        print(f"codec-bench: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RoundTripError as error:
        print(f"codec-bench: error: {error}; no results were written", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("codec-bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
