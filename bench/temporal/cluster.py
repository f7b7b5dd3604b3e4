"""How to reach a Temporal cluster: address, namespace, TLS and API key, and a client for it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client, PayloadLimitsConfig
from temporalio.service import TLSConfig


@dataclass(frozen=True)
class ClusterOptions:
    """How to reach a cluster: a self-hosted one, Temporal Cloud (API key or mTLS), or the local
    dev server. The API key may come from ``TEMPORAL_API_KEY`` so it stays off command lines."""

    address: str
    namespace: str = "default"
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    api_key: str | None = None

    def __repr__(self) -> str:
        # The API key is a secret: never in a repr, log line or provenance.
        return (
            f"ClusterOptions(address={self.address!r}, namespace={self.namespace!r}, "
            f"tls={self.tls!r})"
        )


async def connect(options: ClusterOptions, *, warn_payload_bytes: int | None = None) -> Client:
    """A client without any codec: histories are read as the server stores them.

    ``warn_payload_bytes`` raises the SDK's large-payload warning threshold (the benchmark sends
    large payloads on purpose and counts them itself)."""
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
        api_key=options.api_key or os.environ.get("TEMPORAL_API_KEY") or None,
        payload_limits=PayloadLimitsConfig(
            payloads_warn_size=warn_payload_bytes or PayloadLimitsConfig().payloads_warn_size
        ),
    )
