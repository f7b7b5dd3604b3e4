"""Errors the command line reports as one line, without a traceback, and the exit codes of
signals."""

from __future__ import annotations


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


class InfrastructureFailure(RuntimeError):
    """A component a layer depends on (the Temporal server, a worker, the S3 server, a codec
    server) died or stopped answering: no property of a codec or a route. The layer stops, the
    rounds it completed are kept, and the run ends non-zero."""
