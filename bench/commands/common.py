"""What several commands share: messages on stderr, argument types, and flag groups defined once
(the cluster flags of ``run``, ``corpus fetch`` and the worker program). Nothing below
``bench.commands`` sees argparse: the flags become plain options here."""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cluster import (
    API_KEY_ENV,
    DEFAULT_NAMESPACE,
    DEFAULT_TRANSPORT,
    TRANSPORTS,
    ClusterOptions,
)
from bench.errors import UserError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|k|kib|kb|m|mib|mb)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "k": 1024, "kib": 1024, "kb": 1024, "m": 1 << 20, "mib": 1 << 20, "mb": 1 << 20}


def size(text: str) -> int:
    """argparse type: a byte count such as ``1024``, ``64KiB`` or ``2MiB`` (binary units)."""
    match = _SIZE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 2MiB, 64KiB or 1024")
    return int(float(match[1]) * _UNITS[(match[2] or "b").lower()])


SECRET_FLAGS = ("--api-key",)
"""Flags whose values are credentials: never recorded, printed or logged."""
REDACTED = "<redacted>"


def secrets_of(args: argparse.Namespace) -> list[str]:
    """The credentials a command holds, from its flags or the environment: what is removed,
    by value, from everything a run writes."""
    given = [getattr(args, "api_key", None), os.environ.get(API_KEY_ENV)]
    return [secret for secret in given if secret]


def refuse_abbreviated_secrets(argv: Sequence[str]) -> None:
    """:class:`UserError` for an abbreviation of a credential flag (``--api-k``), before
    argparse would quote its value in an "unrecognized arguments" message. Options are never
    abbreviated (``allow_abbrev=False``): ``--api-k SECRET`` was once taken for ``--api-key``
    and written, unredacted, into the results."""
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if not flag.startswith("--") or len(flag) < 3 or flag in SECRET_FLAGS:
            continue
        for secret in SECRET_FLAGS:
            if secret.startswith(flag):
                raise UserError(
                    f"{flag} is not an option; write {secret} in full (options are never "
                    "abbreviated, so that a credential is never taken for something else)"
                )


def redact(argv: Sequence[str], secrets: Sequence[str] = ()) -> list[str]:
    """``argv`` with the value of every credential flag replaced, in both ``--flag value`` and
    ``--flag=value`` spellings, and every credential in ``secrets`` replaced wherever it
    appears (a value given under another spelling, or pasted into another argument)."""
    out: list[str] = []
    hide_next = False
    for given in argv:
        shown = given
        if hide_next:
            shown, hide_next = REDACTED, False
        elif given in SECRET_FLAGS:
            hide_next = True
        elif given.startswith(tuple(f"{flag}=" for flag in SECRET_FLAGS)):
            shown = f"{given.split('=', 1)[0]}={REDACTED}"
        for secret in secrets:
            shown = shown.replace(secret, REDACTED)
        out.append(shown)
    return out


def positive_int(text: str) -> int:
    """argparse type for counts that must be 1 or more (rounds, concurrency, limits)."""
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type for counts where 0 means "none" or "all" (``--sample 0``)."""
    return _whole_number(text, 0)


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of {least} or more")
    return value


def amount(text: str) -> float:
    """argparse type for prices, volumes and percentages: a finite number of 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of 0 or more")
    return value


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")


def add_cluster_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    *,
    address_default: str | None = None,
    address_help: str = "HOST:PORT of the cluster's frontend",
    transports: tuple[str, ...] = TRANSPORTS,
) -> None:
    """The cluster flags, the same in every command that connects."""
    parser.add_argument("--address", default=address_default, help=address_help)
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="Temporal namespace")
    parser.add_argument("--tls", action="store_true", help="connect with TLS")
    parser.add_argument("--tls-cert", type=Path, help="client certificate (mTLS)")
    parser.add_argument("--tls-key", type=Path, help="client private key (mTLS)")
    parser.add_argument("--tls-ca", type=Path, help="server root CA certificate")
    parser.add_argument(
        "--api-key", help=f"Temporal Cloud API key; prefer {API_KEY_ENV} in the environment"
    )
    parser.add_argument(
        "--grpc-compression",
        choices=transports,
        default=DEFAULT_TRANSPORT,
        help="gRPC message compression (the SDK's default is gzip)"
        + ("; both: measure each, side by side" if "both" in transports else ""),
    )


def cluster_options(args: argparse.Namespace) -> ClusterOptions:
    """The cluster flags as options; the API key from the flag or ``TEMPORAL_API_KEY``. A
    transport of ``both`` (``run`` only) starts from gzip; the run varies it per route."""
    return ClusterOptions(
        address=args.address,
        namespace=args.namespace,
        tls=args.tls,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_ca=args.tls_ca,
        api_key=args.api_key or os.environ.get(API_KEY_ENV) or None,
        grpc_compression=DEFAULT_TRANSPORT
        if args.grpc_compression == "both"
        else args.grpc_compression,
    )


if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction


class DefaultsShown(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default after its help, where it has one: "(default: None)" for an
    option that is simply unset, or "(default: False)" for a switch, says nothing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def command(sub: Subparsers, name: str, help_text: str) -> argparse.ArgumentParser:
    """A sub-command whose help shows every default."""
    return sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        formatter_class=DefaultsShown,
        allow_abbrev=False,
    )
