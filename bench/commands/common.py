"""What several commands share: messages on stderr, argument types, and flag groups defined
once (the cluster flags live with the cluster, in ``bench.temporal.cluster``)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|k|kib|kb|m|mib|mb)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "k": 1024, "kib": 1024, "kb": 1024, "m": 1 << 20, "mib": 1 << 20, "mb": 1 << 20}


def say(message: str) -> None:
    """A line for the user on stderr (stdout carries results)."""
    print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    say(f"codec-bench: warning: {message}")


def size(text: str) -> int:
    """argparse type: a byte count such as ``1024``, ``64KiB`` or ``2MiB`` (binary units)."""
    match = _SIZE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 2MiB, 64KiB or 1024")
    return int(float(match[1]) * _UNITS[(match[2] or "b").lower()])


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")


if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction


def command(sub: Subparsers, name: str, help_text: str) -> argparse.ArgumentParser:
    """A sub-command whose help shows every default."""
    return sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
