"""The one way the harness connects to a cluster: a client without any codec, with the TLS, API
key and transport compression that ``ClusterOptions`` say."""

from __future__ import annotations

from temporalio.client import Client, PayloadLimitsConfig
from temporalio.service import GrpcCompression, TLSConfig

from bench.cluster import ClusterOptions

QUIET_PAYLOAD_BYTES = 64 << 20
"""Above any payload Temporal accepts: the benchmark's own clients and workers raise the SDK's
large-payload warning to this, since they send large payloads on purpose and count them."""


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
