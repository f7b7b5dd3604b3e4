"""A recommendation rendered: the Markdown sections ``recommend`` prints and the report's
verdict links to, the JSON of ``recommend --json``, and the code that deploys the winner.
Deciding is ``bench.outputs.recommend``; nothing here changes what it decided."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bench.outputs.recommend import Candidate, Costs, Recommendation
from bench.outputs.render import Block, Code, Section, Table
from bench.results.buckets import size_text


def deploy_snippet(rec: Recommendation) -> str:
    """The code that deploys the winner; empty when nothing won."""
    win = rec.winner
    if win is None:
        return ""
    return snippet(win.codec, encrypts=win.encrypts, threshold=win.threshold, min_size=win.min_size)


def to_json(rec: Recommendation) -> dict[str, Any]:
    """The recommendation as the JSON ``recommend --json`` prints, deploy code included."""
    winner = rec.winner
    return {
        "corpora": rec.corpora,
        "objective": rec.objective,
        "winner": winner.codec if winner else None,
        "storage_threshold": winner.threshold if winner else None,
        "min_size": winner.min_size if winner else None,
        "tied": rec.tied,
        "tie_break": rec.tie_break,
        "reason": rec.reason,
        "snippet": deploy_snippet(rec),
        "missing": rec.missing,
        "ranked": [asdict(c) for c in rec.ranked],
        "excluded": [asdict(c) for c in rec.excluded],
        "pareto": [c.codec for c in rec.ranked + rec.excluded if c.pareto],
        "costs": asdict(rec.costs) if rec.costs else None,
    }


def _storage_lines(threshold: int) -> list[str]:
    """The SDK's external storage with its S3 driver, from ``threshold`` bytes (the codec
    runs first, so the threshold applies to encoded payloads)."""
    return [
        "# external storage: every client and worker needs the same driver and bucket",
        "import dataclasses",
        "import aioboto3  # pip install 'temporalio[aioboto3]'",
        "from temporalio.contrib.aws.s3driver import S3StorageDriver",
        "from temporalio.contrib.aws.s3driver.aioboto3 import new_aioboto3_client",
        "from temporalio.converter import ExternalStorage",
        "",
        'async with aioboto3.Session().client("s3") as s3:',
        '    driver = S3StorageDriver(client=new_aioboto3_client(s3), bucket="BUCKET")',
        "    converter = dataclasses.replace(",
        "        converter,",
        "        external_storage=ExternalStorage(",
        f"            drivers=[driver], payload_size_threshold={threshold}",
        "        ),",
        "    )",
        "    # the Temporal client, and workers built on it, inside this block:",
    ]


def snippet(
    codec: str, *, encrypts: bool, threshold: int | None = None, min_size: int | None = None
) -> str:
    """The code that deploys ``codec`` in a client and its workers, and its codec server (with
    keys when it ``encrypts``); with ``threshold``, on the SDK's external storage from that
    size; with ``min_size``, compressing only payloads from that size (the break-even)."""
    keys = "Keyring.from_env()" if encrypts else "None"
    options = f", options=CodecOptions(min_size={min_size})" if min_size else ""
    imports = "CodecOptions, Keyring, data_converter" if min_size else "Keyring, data_converter"
    lines = [
        "from temporalio import workflow",
        "from temporalio.client import Client",
        "",
        "# Workflow modules run in the SDK's sandbox: pass the codec library through it.",
        "with workflow.unsafe.imports_passed_through():",
        f"    from payload_codecs import {imports}",
        "",
        f'SPEC = "{codec}"',
        f"converter = data_converter(SPEC, keyring={keys}{options})",
    ]
    connect = [
        'client = await Client.connect("HOST:7233", data_converter=converter)',
        "# workers built on this client encode and decode with it; run a codec server with",
        f"#   payload-codec-server --spec {codec}",
    ]
    if threshold is None:
        lines += connect
    else:  # the S3 client must stay open while the Temporal client and workers run
        lines += [*_storage_lines(threshold), *(f"    {line}" for line in connect)]
    if encrypts:
        lines += [
            "",
            "# keys: on every client, worker and codec server",
            '#   export PAYLOAD_CODEC_KEYS="key-2026-11=$(openssl rand -base64 32)"',
            "# to rotate, in two deployments each reaching every worker and codec server:",
            "#   1. PAYLOAD_CODEC_KEYS=key-2026-11=...,key-2027-01=... with",
            "#      PAYLOAD_CODEC_ACTIVE_KEY=key-2026-11 (all can decrypt the new key's payloads)",
            "#   2. then PAYLOAD_CODEC_ACTIVE_KEY=key-2027-01 (old keys decode old histories)",
        ]
    return "\n".join(lines)


def _compress_from(c: Candidate) -> str:
    if not c.compresses:
        return "-"
    if c.min_size is None:
        return "never pays"
    return "every size" if c.min_size == 0 else size_text(c.min_size)


def _ranked_row(c: Candidate, costs: Costs | None) -> list[str]:
    latency = "-" if c.latency_vs_baseline is None else f"{c.latency_vs_baseline - 1:+.1%}"
    cells = [
        c.deployed,
        f"{c.saved:.1%}",
        f"{c.cpu_us_per_kib:,.2f}",
        f"{c.encode_us_per_kib_p99:,.2f} / {c.decode_us_per_kib_p99:,.2f}",
        latency,
        "yes" if c.encrypts else "",
        "yes" if c.pareto else "",
        _compress_from(c),
    ]
    if costs is not None and c.cost is not None:
        cells += [
            f"{c.cost.storage:,.2f}",
            f"{c.cost.transfer:,.2f}",
            f"{c.cost.cpu:,.2f}",
            f"{c.cost.total:,.2f}",
        ]
    return cells


def sections(rec: Recommendation) -> list[Section]:
    header = [
        "codec",
        "bytes saved",
        "CPU µs/KiB (encode + decode)",
        "p99 µs/KiB encode / decode (worst size bucket)",
        "round trip vs none",
        "encrypts",
        "Pareto",
        "compress from (break-even)",
    ]
    if rec.costs is not None:
        c = rec.costs.currency
        header += [
            f"storage {c}/month",
            f"transfer {c}/month",
            f"CPU {c}/month",
            f"total {c}/month",
        ]
    weights = ", ".join(f"{name} ({weight:g})" for name, weight in rec.corpora.items())
    summary: list[Block] = [
        rec.reason,
        f"Objective `{rec.objective}`; corpora (weights): {weights}.",
    ]
    if rec.tied:
        summary.append(f"Tie-break: {rec.tie_break}.")
    if rec.costs is not None:
        summary.append(f"Assumptions: {rec.costs.assumptions()}.")
    summary += [f"Left out: {note}" for note in rec.missing]
    out = [
        Section("Recommendation", summary),
        Section(
            "Ranked",
            [
                Table(
                    ["rank", *header],
                    [[str(i), *_ranked_row(c, rec.costs)] for i, c in enumerate(rec.ranked, 1)],
                )
            ],
        ),
    ]
    if rec.excluded:
        out.append(
            Section(
                "Excluded by the constraints",
                [
                    Table(
                        ["codec", "why"], [[c.deployed, "; ".join(c.failed)] for c in rec.excluded]
                    )
                ],
            )
        )
    if rec.winner is not None:
        out.append(Section("Deploy it", [Code(deploy_snippet(rec), "python")]))
    return out
