"""How to reach a Temporal cluster: address, namespace, TLS and API key. The flags are defined
here once, for every command and process that connects (``run``, ``corpus fetch``, the worker),
and turned back into a command line here too, so a printed command joins the same cluster."""

from __future__ import annotations

import argparse
import os
import shlex
from dataclasses import dataclass, replace
from pathlib import Path

from temporalio.client import Client, PayloadLimitsConfig
from temporalio.service import GrpcCompression, TLSConfig

API_KEY_ENV = "TEMPORAL_API_KEY"
DEFAULT_NAMESPACE = "default"
TRANSPORTS = ("gzip", "none")
QUIET_PAYLOAD_BYTES = 64 << 20
"""Above any payload Temporal accepts: the benchmark's own clients and workers raise the SDK's
large-payload warning to this, since they send large payloads on purpose and count them."""


@dataclass(frozen=True)
class ClusterOptions:
    """How to reach a cluster: a self-hosted one, Temporal Cloud (API key or mTLS), or the local
    dev server. The API key may come from ``TEMPORAL_API_KEY`` so it stays off command lines;
    it is never part of a repr or of :meth:`to_argv`."""

    address: str | None = None
    """``HOST:PORT``; ``None`` where the command starts its own dev server."""
    namespace: str = DEFAULT_NAMESPACE
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    api_key: str | None = None
    grpc_compression: str = "gzip"
    """Transport compression of the gRPC messages: ``gzip`` (the SDK's default since 1.29) or
    ``none``."""

    def __repr__(self) -> str:
        return (
            f"ClusterOptions(address={self.address!r}, namespace={self.namespace!r}, "
            f"tls={self.tls!r}, api_key={'<set>' if self.api_key else None})"
        )

    @staticmethod
    def add_arguments(
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
            default="gzip",
            help="gRPC message compression (the SDK's default is gzip)"
            + ("; both: measure each, side by side" if "both" in transports else ""),
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ClusterOptions:
        return cls(
            address=args.address,
            namespace=args.namespace,
            tls=args.tls,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            tls_ca=args.tls_ca,
            api_key=args.api_key or os.environ.get(API_KEY_ENV) or None,
            grpc_compression="gzip" if args.grpc_compression == "both" else args.grpc_compression,
        )

    def at(self, address: str) -> ClusterOptions:
        """The same options against ``address`` (the dev server a command started)."""
        return replace(self, address=address)

    def to_argv(self) -> list[str]:
        """The flags that reach this cluster again, API key left out (it travels in
        ``TEMPORAL_API_KEY``)."""
        argv = [] if self.address is None else ["--address", self.address]
        argv += ["--namespace", self.namespace]
        if self.grpc_compression != "gzip":
            argv += ["--grpc-compression", self.grpc_compression]
        if self.tls:
            argv.append("--tls")
        for flag, path in (
            ("--tls-cert", self.tls_cert),
            ("--tls-key", self.tls_key),
            ("--tls-ca", self.tls_ca),
        ):
            if path is not None:
                argv += [flag, str(path.resolve())]
        return argv

    def shell(self) -> str:
        """:meth:`to_argv` quoted for a shell, with the API key's variable named when one is
        needed."""
        text = shlex.join(self.to_argv())
        return f"{API_KEY_ENV}=... {text}" if self.api_key else text


async def connect(options: ClusterOptions, *, warn_payload_bytes: int | None = None) -> Client:
    """A client without any codec: histories are read as the server stores them.

    ``warn_payload_bytes`` raises the SDK's large-payload warning threshold (the benchmark sends
    large payloads on purpose and counts them itself)."""
    if options.address is None:
        raise ValueError("no cluster address given; pass --address HOST:PORT")
    # None lets the SDK decide: TLS exactly when an API key is given.
    tls: bool | TLSConfig | None = True if options.tls else None
    if options.tls_cert or options.tls_key or options.tls_ca:
        if bool(options.tls_cert) != bool(options.tls_key):
            raise ValueError("--tls-cert and --tls-key go together; give both or neither")
        tls = TLSConfig(
            client_cert=options.tls_cert.read_bytes() if options.tls_cert else None,
            client_private_key=options.tls_key.read_bytes() if options.tls_key else None,
            server_root_ca_cert=options.tls_ca.read_bytes() if options.tls_ca else None,
        )
    return await Client.connect(
        options.address,
        namespace=options.namespace,
        tls=tls,
        api_key=options.api_key,
        grpc_compression=GrpcCompression.NONE
        if options.grpc_compression == "none"
        else GrpcCompression.GZIP,
        payload_limits=PayloadLimitsConfig(
            payloads_warn_size=warn_payload_bytes or PayloadLimitsConfig().payloads_warn_size
        ),
    )
