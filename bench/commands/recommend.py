"""``codec-bench recommend RESULTS.json``: the codec to deploy under your constraints."""

from __future__ import annotations

import argparse
import json

from bench.commands.common import Subparsers, add_json_flag, amount, command
from bench.outputs import recommend, render
from bench.results import load

EXIT_NO_WINNER = 1


def cmd_recommend(args: argparse.Namespace) -> int:
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
        load(args.results), corpus=args.corpus, objective=objective, limits=limits, costs=costs
    )
    if args.json:
        print(json.dumps(rec.to_json(), indent=2))
    else:
        print(render.markdown(recommend.sections(rec), "Codec recommendation"))
    return 0 if rec.winner else EXIT_NO_WINNER


def add_parser(sub: Subparsers) -> None:
    parser = command(sub, "recommend", "the codec to deploy under your constraints")
    parser.add_argument("results", help="a results.json")
    parser.add_argument("--corpus", help="corpus to judge by (default: the run's first)")
    parser.add_argument(
        "--objective",
        choices=recommend.OBJECTIVES,
        help="default: cost when a price is given, else balanced",
    )
    parser.add_argument("--must-encrypt", action="store_true")
    parser.add_argument("--max-encode-us", type=amount, help="per-payload encode p99 limit")
    parser.add_argument("--max-decode-us", type=amount, help="per-payload decode p99 limit")
    parser.add_argument("--max-latency-ms", type=amount, help="workflow round trip p50 limit")
    parser.add_argument("--min-ratio", type=amount, help="smallest acceptable compression ratio")
    parser.add_argument(
        "--headroom",
        type=amount,
        metavar="PCT",
        help="%% of the 2 MiB payload limit the largest payload must leave free",
    )
    parser.add_argument(
        "--volume-gb",
        type=amount,
        default=100.0,
        help="original payload GB per month, for the cost model",
    )
    parser.add_argument("--storage-price", type=amount, default=0.0, help="price per GB stored")
    parser.add_argument("--transfer-price", type=amount, default=0.0, help="price per GB moved")
    parser.add_argument("--cpu-price", type=amount, default=0.0, help="price per CPU hour")
    add_json_flag(parser)
    parser.set_defaults(run=cmd_recommend)
