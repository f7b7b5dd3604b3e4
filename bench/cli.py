"""The ``codec-bench`` command: one module per sub-command in ``bench.commands``. User mistakes
end in one line on stderr and exit code 2; nothing the user had is left half written."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bench.commands import codecs, compare, corpus, probes, recommend, report, run
from bench.errors import RoundTripError, UserError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
COMMANDS = (run, report, compare, recommend, corpus, codecs, probes)
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


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.argv = argv
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
    except KeyboardInterrupt:
        print("codec-bench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
