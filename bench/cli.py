"""The ``codec-bench`` command: one module per sub-command in ``bench.commands``. User mistakes
end in one line on stderr and exit code 2; nothing the user had is left half written."""

from __future__ import annotations

import argparse
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
    probes,
    recommend,
    report,
    run,
)
from bench.errors import RoundTripError, Terminated, UserError, exit_code

EXIT_FAILED = 1
EXIT_USAGE = 2
COMMANDS = (run, report, compare, recommend, export, corpus, dictionary, codecs, probes)
DESCRIPTION = (
    "Measure Temporal payload codecs (compression, encryption) on your own payloads: "
    "`codec-bench run` measures and reports, `compare` and `recommend` read its results."
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="codec-bench", description=DESCRIPTION)
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


if __name__ == "__main__":
    sys.exit(main())
