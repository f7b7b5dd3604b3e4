"""How to reach a Temporal cluster: address, namespace, TLS, API key and transport compression.
Plain data, turned back into a command line here, so a printed command joins the same cluster;
the flags that fill it are defined once, in ``bench.commands.common``, and the connection is
made by ``bench.temporal.connect``."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from pathlib import Path

API_KEY_ENV = "TEMPORAL_API_KEY"
DEFAULT_NAMESPACE = "default"
DEFAULT_TRANSPORT = "gzip"
"""The SDK's gRPC message compression since temporalio 1.29."""
TRANSPORTS = (DEFAULT_TRANSPORT, "none")


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
    grpc_compression: str = DEFAULT_TRANSPORT
    """Transport compression of the gRPC messages: ``gzip`` (the SDK's default since 1.29) or
    ``none``."""

    def __repr__(self) -> str:
        return (
            f"ClusterOptions(address={self.address!r}, namespace={self.namespace!r}, "
            f"tls={self.tls!r}, api_key={'<set>' if self.api_key else None})"
        )

    def at(self, address: str) -> ClusterOptions:
        """The same options against ``address`` (the dev server a command started)."""
        return replace(self, address=address)

    def to_argv(self) -> list[str]:
        """The flags that reach this cluster again, API key left out (it travels in
        ``TEMPORAL_API_KEY``)."""
        argv = [] if self.address is None else ["--address", self.address]
        argv += ["--namespace", self.namespace]
        if self.grpc_compression != DEFAULT_TRANSPORT:
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
