"""Errors the command line reports as one line, without a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: bad input, a missing file, an existing output."""
