"""``codec-bench recommend RESULTS.json``: the codec to deploy under your constraints."""

from __future__ import annotations

import argparse
import json

from bench.commands.common import Subparsers, add_json_flag, amount, command, positive_int
from bench.outputs import recommend, recommend_report, render
from bench.outputs.kms_report import kms_load
from bench.results import load

EXIT_NO_WINNER = 1


def corpus_weight(text: str) -> tuple[str, float]:
    """argparse type: ``NAME`` or ``NAME=WEIGHT`` (a finite weight above 0)."""
    name, sep, weight = text.partition("=")
    value = amount(weight) if sep else 1.0
    if not name or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME or NAME=WEIGHT with WEIGHT > 0")
    return name, value


def cmd_recommend(args: argparse.Namespace) -> int:
    costs = recommend.Costs(
        volume_gb=args.volume_gb,
        storage_per_gb_month=args.storage_price,
        transfer_per_gb=args.transfer_price,
        cpu_per_hour=args.cpu_price,
        copies=args.copies,
        retention_days=args.retention_days,
        currency=args.currency,
    )
    limits = recommend.Constraints(
        must_encrypt=args.must_encrypt,
        max_encode_us_per_kib=args.max_encode_us_per_kib,
        max_decode_us_per_kib=args.max_decode_us_per_kib,
        max_latency_ms=args.max_latency_ms,
        max_show_ms=args.max_show_ms,
        max_ui_ms=args.max_ui_ms,
        min_ratio=args.min_ratio,
        min_saved=None if args.min_saved is None else args.min_saved / 100,
        headroom=None if args.headroom is None else args.headroom / 100,
    )
    results = load(args.results)
    rec = recommend.recommend(
        results,
        corpora=dict(args.corpus) if args.corpus else None,
        objective=args.objective or ("cost" if costs.given else "balanced"),
        limits=limits,
        costs=costs,
        allow_external_storage=args.allow_external_storage,
    )
    load_lines = (
        kms_load(results, volume_gb=args.volume_gb, processes=args.processes)
        if args.must_encrypt
        else []
    )
    if args.json:
        print(json.dumps({**recommend_report.to_json(rec), "kms_load": load_lines}, indent=2))
    else:
        kms = [render.Section("Key management service", list(load_lines))] if load_lines else []
        print(render.markdown([*recommend_report.sections(rec), *kms], "Codec recommendation"))
    return 0 if rec.winner else EXIT_NO_WINNER


def add_parser(sub: Subparsers) -> None:
    parser = command(sub, "recommend", "the codec to deploy under your constraints")
    parser.add_argument("results", help="a results.json")
    parser.add_argument(
        "--corpus",
        type=corpus_weight,
        action="append",
        metavar="NAME[=WEIGHT]",
        help="corpora to judge by, with weights (repeatable; default: every corpus of the run, "
        "weighted: recorded 2, generated 1, your own twice again)",
    )
    parser.add_argument(
        "--objective",
        choices=recommend.OBJECTIVES,
        help="default: cost when a price is given, else balanced (bytes saved per CPU)",
    )
    parser.add_argument(
        "--must-encrypt",
        action="store_true",
        help="encrypting codecs only; with envelope codecs measured, also the KMS calls a "
        "second the workload (--volume-gb, --processes) would make against the KMS quota",
    )
    parser.add_argument(
        "--max-encode-us-per-kib",
        type=amount,
        help="encode time per KiB of payload, p99 within every size bucket",
    )
    parser.add_argument("--max-decode-us-per-kib", type=amount, help="the same for decoding")
    parser.add_argument(
        "--max-latency-ms", type=amount, help="round trip (client layer) on every corpus"
    )
    parser.add_argument(
        "--max-show-ms",
        type=amount,
        help="temporal workflow show through the codec server (reading layer), p50, every "
        "history size measured",
    )
    parser.add_argument(
        "--max-ui-ms", type=amount, help="the Web UI's workflow page (reading layer), p50"
    )
    parser.add_argument(
        "--allow-external-storage",
        action="store_true",
        help="a codec whose payloads failed inline (over a limit) may be recommended with the "
        "external-storage threshold on which they all passed (client layer)",
    )
    parser.add_argument("--min-ratio", type=amount, help="smallest acceptable compression ratio")
    parser.add_argument(
        "--min-saved", type=amount, metavar="PCT", help="%% of bytes saved at least"
    )
    parser.add_argument(
        "--headroom",
        type=amount,
        metavar="PCT",
        help="%% of the 2 MiB payload limit the largest payload must leave free",
    )
    _add_cost_arguments(parser)
    add_json_flag(parser)
    parser.set_defaults(run=cmd_recommend)


def _add_cost_arguments(parser: argparse.ArgumentParser) -> None:
    cost = parser.add_argument_group("cost model", "prices in --currency; see the README")
    cost.add_argument(
        "--volume-gb", type=amount, default=100.0, help="payload GB a month, before encoding"
    )
    cost.add_argument("--storage-price", type=amount, default=0.0, help="per GB-month stored")
    cost.add_argument("--transfer-price", type=amount, default=0.0, help="per GB moved")
    cost.add_argument("--cpu-price", type=amount, default=0.0, help="per CPU hour")
    cost.add_argument("--copies", type=amount, default=1.0, help="times each payload is stored")
    cost.add_argument(
        "--retention-days", type=amount, default=30.0, help="how long histories are kept"
    )
    cost.add_argument("--currency", default="USD", help="the prices' currency, for the output")
    cost.add_argument(
        "--processes",
        type=positive_int,
        default=10,
        help="worker and client processes that encode and decode (for the KMS load)",
    )
