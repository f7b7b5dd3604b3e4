"""Errors the command line reports as one line, without a traceback, and the argument types
that catch them early."""

from __future__ import annotations

import argparse


class UserError(Exception):
    """A mistake the user can fix: bad input, a missing file, an existing output."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (how CI, systemd and Kubernetes stop a job), handled like Ctrl-C: what was
    measured is kept and every child process is stopped."""


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """128 plus the signal number, as a shell reports a process stopped by it."""
    return 143 if isinstance(interrupt, Terminated) else 130


class RoundTripError(AssertionError):
    """A measured encode/decode did not give back the original bytes: the run is invalid."""


def positive_int(text: str) -> int:
    """argparse type for counts that must be 1 or more (rounds, concurrency, limits)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value
