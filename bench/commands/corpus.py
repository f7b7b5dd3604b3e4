"""``codec-bench corpus generate | import | fetch | describe``."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import __version__
from bench.commands.common import (
    Subparsers,
    add_cluster_arguments,
    add_json_flag,
    cluster_options,
    command,
    positive_int,
)
from bench.corpus import catalog, synthetic
from bench.corpus.describe import summarize
from bench.corpus.history import Extraction, extract, parse_histories
from bench.errors import UserError
from bench.keys import user_keyring
from bench.progress import Progress, warn
from bench.results.buckets import amount_of_bytes, parse_buckets
from bench.results.environment import utc_now
from payload_codecs import ChainCodec, CorpusReader, CorpusWriter, from_spec, serialize

if TYPE_CHECKING:
    from temporalio.api.history.v1 import History
    from temporalio.service import RPCError


def _out(args: argparse.Namespace, inputs: Sequence[Path] = ()) -> Path:
    out = Path(args.out)
    if out.is_dir():
        raise UserError(f"{out} is a folder; --out names the corpus file to write")
    if out.exists() and not args.force:
        raise UserError(f"{out} already exists; choose another --out or pass --force to replace it")
    for source in inputs:
        if out.exists() and out.samefile(source):
            raise UserError(f"--out {out} is also an input; write the corpus to another file")
    return out


def _nothing_found(writer: CorpusWriter) -> None:
    """An import that finds no payload is an error that says why (the writer is aborted, so
    no empty corpus appears)."""
    if writer.payload_count:
        return
    encoded = {k.removeprefix("encoded:"): n for k, n in writer.skipped.items() if "encoded:" in k}
    if encoded:
        kinds = ", ".join(f"{n} {kind}" for kind, n in encoded.items())
        raise UserError(
            f"no payloads to keep: every one was encoded by a codec ({kinds}); pass --codec "
            "SPEC (and --keys-file or PAYLOAD_CODEC_KEYS for encryption) to decode them"
        )
    skipped = ", ".join(f"{n} {why}" for why, n in writer.skipped.items()) or "nothing"
    raise UserError(f"no payloads found in the histories (skipped: {skipped}); nothing was written")


def _decoder(args: argparse.Namespace) -> ChainCodec | None:
    """The codec that decodes already-encoded payloads, when the user named one."""
    if not args.codec:
        return None
    return from_spec(args.codec, keyring=user_keyring(args.keys_file))


def _report(out: Path, writer: CorpusWriter) -> None:
    print(f"wrote {writer.payload_count} payloads ({amount_of_bytes(writer.total_bytes)}) to {out}")
    encoded = {k: v for k, v in writer.skipped.items() if k.startswith("encoded:")}
    if encoded:
        kinds = ", ".join(f"{n} {k.removeprefix('encoded:')}" for k, n in encoded.items())
        warn(
            f"skipped payloads that a codec had already encoded ({kinds}); pass --codec SPEC "
            "(and --keys-file or PAYLOAD_CODEC_KEYS for encryption) to decode and keep them"
        )


def _write(writer: CorpusWriter, found: Extraction, workflow: str) -> None:
    for payload in found.payloads:
        writer.write(payload)
    writer.skipped.update(found.skipped)
    if found.payloads:
        writer.workflows.append((workflow, len(found.payloads)))


def cmd_generate(args: argparse.Namespace) -> int:
    out = _out(args)
    mix = synthetic.parse_mix(args.mix) if args.mix else None
    buckets = parse_buckets(args.buckets) if args.buckets else None
    payloads = synthetic.generate(args.seed, args.count, mix, buckets)
    with CorpusWriter(out, synthetic.provenance(args.seed, args.count, mix, buckets)) as writer:
        for payload in payloads:
            writer.write(payload)
    _report(out, writer)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    paths = [Path(name) for name in args.files]
    for path in paths:
        if not path.is_file():
            raise UserError(f"{path}: no such file")
    out = _out(args, paths)
    decoder = _decoder(args)

    def histories(path: Path) -> list[History]:
        return parse_histories(path.read_text(encoding="utf-8", errors="replace"), str(path))

    # One file's histories in memory at a time: counted for the header first, then read again
    # to write their payloads (an export of many files need not fit in memory together).
    sources = catalog.file_sources(paths)
    for source, path in zip(sources, paths, strict=True):
        source["histories"] = len(histories(path))
    provenance = {
        "kind": "import",
        "sources": sources,
        "decoded_with": decoder.spec if decoder else None,
        "created": utc_now(),
        "tool_version": __version__,
    }
    with CorpusWriter(out, provenance) as writer:
        for path in paths:
            for index, history in enumerate(histories(path)):
                _write(writer, extract(history, decoder), f"{path.name}#{index}")
        _nothing_found(writer)
    _report(out, writer)
    return 0


async def _fetch(args: argparse.Namespace, writer: CorpusWriter, decoder: ChainCodec | None) -> int:
    # The Temporal client loads only for fetch.
    from temporalio.service import RPCError

    from bench.corpus.fetch import fetch_histories
    from bench.temporal.connect import connect

    options = cluster_options(args)
    try:
        client = await connect(options)
    except Exception as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise UserError(
            f"cannot connect to {args.address} (namespace {args.namespace}): {reason}"
        ) from None
    total = (
        args.limit
        if args.limit is not None
        else (len(args.workflow_id) if not args.query else None)
    )
    fetched = 0
    with Progress(total, "fetching histories") as progress:
        try:
            async for workflow_id, history in fetch_histories(
                client, workflow_ids=args.workflow_id, query=args.query, limit=args.limit
            ):
                _write(writer, extract(history, decoder), workflow_id)
                fetched += 1
                progress.step(workflow_id)
        except RPCError as error:
            raise UserError(_fetch_failure(error, args)) from None
    return fetched


def _fetch_failure(error: RPCError, args: argparse.Namespace) -> str:
    from temporalio.service import RPCStatusCode

    if error.status is RPCStatusCode.NOT_FOUND:
        return (
            f"{error.message or 'not found'} (namespace {args.namespace}); check the workflow "
            "id and --namespace"
        )
    if error.status is RPCStatusCode.INVALID_ARGUMENT:
        return f"the cluster refused the request: {error.message}; check --query"
    return f"fetching failed: {error.status.name if error.status else 'error'}: {error.message}"


def cmd_fetch(args: argparse.Namespace) -> int:
    if not args.workflow_id and not args.query:
        raise UserError(
            "say which workflows to fetch: --workflow-id ID (repeatable) or --query QUERY"
        )
    out = _out(args)
    decoder = _decoder(args)
    provenance: dict[str, Any] = {
        "kind": "fetch",
        "address": args.address,
        "namespace": args.namespace,
        "workflow_ids": list(args.workflow_id),
        "query": args.query,
        "limit": args.limit,
        "decoded_with": decoder.spec if decoder else None,
        "created": utc_now(),
        "tool_version": __version__,
    }
    with CorpusWriter(out, provenance) as writer:
        fetched = asyncio.run(_fetch(args, writer, decoder))
        if fetched == 0:
            raise UserError("no workflow matched; nothing was written")
        _nothing_found(writer)
    print(f"fetched {fetched} histories")
    _report(out, writer)
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    if args.corpus in catalog.BUILTIN:
        corpus = catalog.load(args.corpus)
        summary = summarize(
            (serialize(p) for p in corpus.payloads), corpus.provenance, corpus.skipped
        )
    else:
        with CorpusReader(catalog.corpus_file(args.corpus)) as reader:
            summary = summarize(reader.iter_serialized(), reader.provenance, {})
            skipped: Counter[str] = Counter((reader.trailer or {}).get("skipped", {}))
        summary = dataclasses.replace(summary, skipped=dict(skipped))
    print(json.dumps(summary.to_json(), indent=2) if args.json else summary.to_text())
    return 0


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="corpus file to write")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")


def _decoding(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--codec", help="decode payloads a codec already encoded, e.g. zstd:3+aes256gcm"
    )
    parser.add_argument(
        "--keys-file",
        help='keyring JSON {"active": ID, "keys": {ID: BASE64}}; '
        "default: PAYLOAD_CODEC_KEYS from the environment",
    )


def add_parser(sub: Subparsers) -> None:
    corpus = sub.add_parser(
        "corpus", help="make, import, fetch and describe payload corpora", allow_abbrev=False
    )
    commands = corpus.add_subparsers(dest="corpus_command", required=True)

    generate = command(commands, "generate", "seeded synthetic payloads, Temporal-shaped")
    _output(generate)
    generate.add_argument(
        "--seed", type=int, default=synthetic.DEFAULT_SEED, help="the same seed, the same corpus"
    )
    generate.add_argument(
        "--count", type=positive_int, default=synthetic.DEFAULT_COUNT, help="payloads to make"
    )
    generate.add_argument(
        "--mix",
        help="shape weights, e.g. small-json=40,protobuf=15 (shapes: "
        + ", ".join(synthetic.SHAPES_BY_NAME)
        + "); default: "
        + ",".join(f"{k}={v}" for k, v in synthetic.DEFAULT_MIX.items()),
    )
    generate.add_argument("--buckets", help="only these size buckets, e.g. '<1KiB,1-16KiB'")
    generate.set_defaults(run=cmd_generate)

    imported = command(
        commands, "import", "payloads of history exports (temporal workflow show --output json)"
    )
    imported.add_argument("files", nargs="+", help="history JSON files")
    _output(imported)
    _decoding(imported)
    imported.set_defaults(run=cmd_import)

    fetch = command(commands, "fetch", "payloads of histories pulled from a cluster")
    _output(fetch)
    _decoding(fetch)
    add_cluster_arguments(fetch, address_default="localhost:7233")
    fetch.add_argument("--workflow-id", action="append", default=[], help="repeatable")
    fetch.add_argument("--query", help="visibility query, e.g. \"WorkflowType='Order'\"")
    fetch.add_argument("--limit", type=positive_int, help="at most this many histories")
    fetch.set_defaults(run=cmd_fetch)

    describe = command(commands, "describe", "what a corpus holds")
    describe.add_argument(
        "corpus", help=f"corpus file or built-in name ({', '.join(catalog.BUILTIN)})"
    )
    add_json_flag(describe)
    describe.set_defaults(run=cmd_describe)
