"""``codec-bench codecs``: every codec family with its levels and implementations."""

from __future__ import annotations

import argparse

import payload_codecs
from bench.commands.common import Subparsers, command


def cmd_codecs(args: argparse.Namespace) -> int:
    for family in payload_codecs.families():
        print(family.describe())
    return 0


def add_parser(sub: Subparsers) -> None:
    command(sub, "codecs", "list codec families, levels and implementations").set_defaults(
        run=cmd_codecs
    )
