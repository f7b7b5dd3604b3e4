"""What several commands share: messages on stderr, argument types, and flag groups defined
once (the cluster flags live with the cluster, in ``bench.temporal.cluster``)."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import signal
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bench.errors import Terminated, UserError

T = TypeVar("T")

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


SECRET_FLAGS = ("--api-key", "--codec-auth", "--token")
"""Flags whose values are credentials: never recorded, printed or logged."""
REDACTED = "<redacted>"


def redact(argv: list[str]) -> list[str]:
    """``argv`` with the value of every credential flag replaced, in both ``--flag value`` and
    ``--flag=value`` spellings."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
        elif arg in SECRET_FLAGS:
            out.append(arg)
            hide_next = True
        elif arg.startswith(tuple(f"{flag}=" for flag in SECRET_FLAGS)):
            out.append(f"{arg.split('=', 1)[0]}={REDACTED}")
        else:
            out.append(arg)
    return out


def amount(text: str) -> float:
    """argparse type for prices, volumes and percentages: a finite number of 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of 0 or more")
    return value


def writable_folder(folder: Path) -> None:
    """Make sure results can be written into ``folder`` before anything is measured: create it
    and write and remove a probe file. ``UserError`` with one line otherwise."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; --out names a folder for the results")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise UserError(
            f"cannot write into {folder}: {error.strerror}; choose another --out"
        ) from None


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


def run_stoppable(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, with SIGTERM handled the way asyncio handles Ctrl-C: the main task
    is cancelled, so every ``finally`` on the loop runs (children stopped, the browser closed),
    then :class:`Terminated` is raised. An exception raised from a signal handler at an
    arbitrary point of a running loop can leave a library's locks held and hang the cleanup."""
    previous = signal.getsignal(signal.SIGTERM)
    terminated = False

    async def guarded() -> T:
        task = asyncio.current_task()
        assert task is not None

        def on_sigterm() -> None:
            nonlocal terminated
            if not terminated:  # one is enough: a second would break off the cleanup
                terminated = True
                task.cancel()

        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_sigterm)
        return await main

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        if terminated:
            raise Terminated from None
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
