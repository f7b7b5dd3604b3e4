"""``codec-bench dict``: train zstd dictionaries on corpora (``train``) and measure, honestly,
whether one pays on a corpus (``evaluate``: split by workflow, k-fold)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

import zstandard

from bench import __version__
from bench.commands.common import (
    Subparsers,
    add_json_flag,
    command,
    non_negative_int,
    positive_int,
    size,
)
from bench.corpus import catalog
from bench.corpus.sampling import DEFAULT_SIZE, Sampling
from bench.errors import UserError
from bench.outputs import render
from bench.results.environment import utc_now
from payload_codecs import save_dictionary, serialize, train_dictionary

if TYPE_CHECKING:
    from bench.probes.dictionary import Row


TRAIN_SAMPLE = 20_000
"""Payloads a dictionary is trained on from a larger corpus file: zstd's trainer wants about a
hundred times the dictionary's size in samples (16 KiB: 1.6 MB), far fewer than a recording of
millions holds, and holding them all would not fit in memory."""


def _load(name: str, args: argparse.Namespace) -> catalog.Corpus:
    """A corpus as the dictionary commands read it: a file larger than ``--sample`` is read as
    a stream and a sample of it kept, stratified as a run's (``bench.corpus.sampling``)."""
    return catalog.load(name, Sampling(size=args.sample, seed=args.sample_seed))


def _drawn(corpus: catalog.Corpus) -> str:
    sample = corpus.sample
    return f" (a sample of {sample.population:,}, seed {sample.seed})" if sample else ""


def cmd_train(args: argparse.Namespace) -> int:
    corpora = [_load(name, args) for name in args.corpora]
    samples = [serialize(p) for corpus in corpora for p in corpus.payloads]
    dictionary = train_dictionary(samples, args.size, args.level)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    provenance = {
        "corpora": [
            {
                "name": c.name,
                "digest": c.sample.population_digest if c.sample else c.digest,
                "payloads": c.sample.population if c.sample else len(c.payloads),
                "sampled": len(c.payloads) if c.sample else None,
            }
            for c in corpora
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
        f"from {len(samples)} payloads{''.join(map(_drawn, corpora))}; use it as "
        f"zstd:{args.level}:dict={args.name} with "
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

    corpus = _load(args.corpus, args)
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
                    f"{len(set(workflows))} workflows, {len(corpus.payloads)} payloads"
                    f"{_drawn(corpus)}, "
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
    _sample_flags(trainer, TRAIN_SAMPLE)
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
    _sample_flags(evaluator, DEFAULT_SIZE)
    evaluator.set_defaults(run=cmd_evaluate)


def _sample_flags(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument(
        "--sample",
        type=non_negative_int,
        default=default,
        help="payloads drawn from a larger corpus file, stratified as a run's (0: all of them)",
    )
    parser.add_argument("--sample-seed", type=int, default=1, help="seed that draws the sample")
