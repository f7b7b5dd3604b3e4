"""Errors the command line reports as one line, without a traceback, and the argument types
that catch them early."""

from __future__ import annotations

import argparse


class UserError(Exception):
    """A mistake the user can fix: bad input, a missing file, an existing output."""


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
