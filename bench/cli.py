"""The ``codec-bench`` command: one module per sub-command in ``bench.commands``. User mistakes
end in one line on stderr and exit code 2; nothing the user had is left half written."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from bench.commands import (
    codecs,
    compare,
    corpus,
    dictionary,
    export,
    history,
    probes,
    recommend,
    report,
    run,
)
from bench.commands.common import refuse_abbreviated_secrets
from bench.errors import RoundTripError, Terminated, UserError, exit_code

EXIT_FAILED = 1
EXIT_USAGE = 2
COMMANDS = (run, report, compare, recommend, history, export, corpus, dictionary, codecs, probes)
DESCRIPTION = (
    "Measure Temporal payload codecs (compression, encryption) on your own payloads: "
    "`codec-bench run` measures and reports, `compare` and `recommend` read its results."
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="codec-bench", description=DESCRIPTION, allow_abbrev=False)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return top


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # One is enough: a second would break off the cleanup that stops child processes.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        refuse_abbreviated_secrets(argv)
    except UserError as error:
        print(f"codec-bench: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    args = parser().parse_args(argv)
    args.argv = argv
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (UserError, ValueError, OSError) as error:
        print(f"codec-bench: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RoundTripError as error:
        print(f"codec-bench: error: {error}; no results were written", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as stop:
        how = "stopped by SIGTERM" if isinstance(stop, Terminated) else "interrupted"
        print(f"codec-bench: {how}", file=sys.stderr)
        return exit_code(stop)
    finally:
        signal.signal(signal.SIGTERM, previous)


def entry() -> None:
    """The ``codec-bench`` command: :func:`main`, then exit. Once the Temporal SDK's core has
    run in the process, the exit skips the interpreter's teardown, whose threads the core's
    own can outlive: in 2 of 16 runs that could not reach their cluster, side by side four at
    a time, the interpreter aborted after the one line ("Fatal Python error:
    PyGILState_Release", exit 134; sdk-python issue 300). By then every child process has been
    stopped and every file written and closed by ``main``."""
    code = main()
    if _SDK_CORE in sys.modules:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):  # a reader that went away (``| head``)
                stream.flush()
        os._exit(code)
    sys.exit(code)


_SDK_CORE = "temporalio.bridge.temporal_sdk_bridge"


if __name__ == "__main__":
    entry()
