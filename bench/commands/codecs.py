"""``codec-bench codecs``: every codec family with its levels and implementations, and for each
implementation what detects a corrupted payload."""

from __future__ import annotations

import argparse

import payload_codecs
from bench.commands.common import Subparsers, command


def _corruption(check: str | None, takes_checksum: bool) -> str:
    if check is not None:
        return f"corruption detected: {check}"
    remedy = "add :checksum, or chain aes256gcm" if takes_checksum else "chain aes256gcm"
    return f"corruption NOT detected (a flipped bit decodes to other bytes): {remedy}"


def cmd_codecs(args: argparse.Namespace) -> int:
    for family in payload_codecs.families():
        print(family.describe())
        for name, cls in family.implementations.items():
            print(f"    @{name:12} {_corruption(cls.integrity, cls.takes_checksum)}")
        if family.kind is payload_codecs.Kind.ENCRYPTION:
            print(f"    {'':13} {_corruption(payload_codecs.integrity(family.name), False)}")
    return 0


def add_parser(sub: Subparsers) -> None:
    command(sub, "codecs", "list codec families, levels and implementations").set_defaults(
        run=cmd_codecs
    )
