"""``codec-bench dict``: train zstd dictionaries on corpora (``train``) and measure, honestly,
whether one pays on a corpus (``evaluate``: split by workflow, k-fold)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

import zstandard

from bench import __version__
from bench.commands.common import Subparsers, add_json_flag, command, positive_int, size
from bench.corpus import catalog
from bench.errors import UserError
from bench.outputs import render
from bench.results.environment import utc_now
from payload_codecs import save_dictionary, serialize, train_dictionary

if TYPE_CHECKING:
    from bench.probes.dictionary import Row


def cmd_train(args: argparse.Namespace) -> int:
    corpora = [catalog.load(name) for name in args.corpora]
    samples = [serialize(p) for corpus in corpora for p in corpus.payloads]
    dictionary = train_dictionary(samples, args.size, args.level)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    provenance = {
        "corpora": [
            {"name": c.name, "digest": c.digest, "payloads": len(c.payloads)} for c in corpora
        ],
        "samples": len(samples),
        "sample_bytes": sum(len(s) for s in samples),
        "size_asked": args.size,
        "level": args.level,
        "trainer": f"python-zstandard {zstandard.__version__} train_dictionary",
        "tool_version": __version__,
        "created": utc_now(),
    }
    path = save_dictionary(dictionary, out, args.name, provenance)
    smaller = (
        f", smaller than the {args.size:,} asked: zstd kept what the samples hold worth keeping"
        if len(dictionary.data) < args.size
        else ""
    )
    print(
        f"wrote {path} ({len(dictionary.data):,} bytes{smaller}; zstd dictionary id "
        f"{dictionary.id}) "
        f"from {len(samples)} payloads; use it as zstd:{args.level}:dict={args.name} with "
        f"--dictionaries {out}"
    )
    return 0


def _pct(share: float) -> str:
    return f"{share:.1%}"


def _us(values: list[float]) -> str:
    return f"{sum(values) / len(values) / 1e3:,.1f}" if values else "-"


def _table(rows: list[Row]) -> render.Table:
    from bench.probes.dictionary import verdict  # loaded already: the probe made the rows

    header = [
        "chain",
        "dictionary (trained, folds)",
        "size bucket",
        "payloads",
        "saved, level alone",
    ]
    header += ["saved, with dictionary", "bytes saved x", "encode µs/payload alone / dict"]
    header += ["decode µs/payload alone / dict", "verdict"]
    out = []
    for row in rows:
        t = row.tally
        out.append(
            [
                row.chain,
                f"{row.dict_size // 1024} KiB ({row.trained_size / 1024:,.1f} KiB, "
                f"{row.folds[0]} of {row.folds[1]} folds)",
                row.bucket,
                str(t.payloads),
                _pct(t.saved(t.plain)),
                _pct(t.saved(t.with_dict)),
                "-" if t.gain is None else f"{t.gain:.2f}",
                f"{_us(t.plain_encode_ns)} / {_us(t.dict_encode_ns)}",
                f"{_us(t.plain_decode_ns)} / {_us(t.dict_decode_ns)}",
                verdict(row.tally),
            ]
        )
    return render.Table(header, out)


METHOD = (
    "Split by workflow, never by payload (a workflow's payloads are near-duplicates): each fold "
    "holds whole workflows; its dictionary is trained on the other folds and measured on it, "
    "against the same level without a dictionary, through the real codec chains (stored sizes "
    "include the payload envelope; with encryption, its nonce, tag and key id). Bytes saved x: "
    "what the dictionary saves over what the level alone saves (1.00: nothing more). Times: "
    "median of {repeats} passes per fold, mean over folds, per payload, one thread."
)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from bench.probes.dictionary import SIZES, evaluate  # the probe only when it runs

    corpus = catalog.load(args.corpus)
    workflows = corpus.workflow_of_each()
    if workflows is None:
        raise UserError(
            f"corpus {corpus.name} does not say which workflow each payload came from, so "
            "it cannot be split by workflow; import or fetch it again with codec-bench corpus "
            "import/fetch (which record it)"
        )
    rows = evaluate(
        corpus.payloads,
        workflows,
        level=args.level,
        sizes=args.size or SIZES,
        k=args.folds,
        encrypt=not args.no_encryption,
    )
    if not rows:
        raise UserError(f"no fold of corpus {corpus.name} held enough payloads to train on")
    if args.json:
        print(json.dumps([_json(row) for row in rows], indent=2))
        return 0
    from bench.probes.dictionary import TIMING_REPEATS

    text = render.markdown(
        [
            render.Section(
                f"zstd dictionaries on {corpus.name}",
                [
                    METHOD.format(repeats=TIMING_REPEATS),
                    f"{len(set(workflows))} workflows, {len(corpus.payloads)} payloads, "
                    f"{min(args.folds, len(set(workflows)))} folds.",
                    _table(rows),
                ],
            )
        ],
        "codec-bench dict evaluate",
    )
    print(text)
    return 0


def _json(row: Row) -> dict[str, object]:
    from bench.probes.dictionary import verdict  # loaded already: the probe made the rows

    t = row.tally
    return {
        "chain": row.chain,
        "dict_size": row.dict_size,
        "trained_size": row.trained_size,
        "folds": list(row.folds),
        "bucket": row.bucket,
        "payloads": t.payloads,
        "original_bytes": t.original,
        "bytes_without_dict": t.plain,
        "bytes_with_dict": t.with_dict,
        "gain": t.gain,
        "encode_us": [_us(t.plain_encode_ns), _us(t.dict_encode_ns)],
        "decode_us": [_us(t.plain_decode_ns), _us(t.dict_decode_ns)],
        "verdict": verdict(t),
    }


def add_parser(sub: Subparsers) -> None:
    group = command(sub, "dict", "zstd dictionaries: train one, evaluate whether one pays")
    commands = group.add_subparsers(dest="dict_command", required=True, metavar="COMMAND")
    trainer = command(commands, "train", "train a zstd dictionary on corpus payloads")
    trainer.add_argument("corpora", nargs="+", metavar="CORPUS", help="corpus files or names")
    trainer.add_argument("--name", required=True, help="dictionary name (zstd:3:dict=NAME)")
    trainer.add_argument("--out", required=True, help="dictionary folder (--dictionaries)")
    trainer.add_argument("--size", type=size, default=16 << 10, help="largest dictionary, bytes")
    trainer.add_argument("--level", type=int, default=3, help="zstd level it is tuned for")
    trainer.set_defaults(run=cmd_train)
    evaluator = command(commands, "evaluate", "does a dictionary pay on this corpus? (k-fold)")
    evaluator.add_argument("corpus", help="corpus file or built-in name")
    evaluator.add_argument(
        "--size",
        type=size,
        action="append",
        help="dictionary size (repeatable; default 4, 16, 64 and 110 KiB)",
    )
    evaluator.add_argument(
        "--level", type=int, default=3, help="zstd level, with and without the dictionary"
    )
    evaluator.add_argument(
        "--folds", type=positive_int, default=5, help="k, at most 1 per workflow"
    )
    evaluator.add_argument("--no-encryption", action="store_true", help="skip +aes256gcm")
    add_json_flag(evaluator)
    evaluator.set_defaults(run=cmd_evaluate)
