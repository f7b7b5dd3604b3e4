"""The report's section on the key management service: what envelope encryption cost beside
static keys in the codec layer (``bench.layers.kms``), and the KMS calls of the client layer."""

from __future__ import annotations

from typing import Any

from bench.outputs.render import Section, Table
from bench.results import Results

KMS = "kms"
"""The results' ``layers`` entry written by the run."""
QUOTA_PER_S = 10_000
"""AWS KMS's default request quota for symmetric cryptographic operations (GenerateDataKey,
Decrypt), per account and region, shared by every caller."""


def kms_section(results: Results) -> Section | None:
    """``None`` when the run measured no envelope codec."""
    info: dict[str, Any] = results.layers.get(KMS, {})
    codecs: dict[str, dict[str, Any]] = info.get("codec", {})
    if not codecs:
        return None
    where = info.get("service", "the KMS the environment names")
    delay = info.get("delay_ms")
    head = (
        f"Envelope encryption against {where}"
        + (f", {delay:g} ms added to each call" if delay else "")
        + f". Each encrypting codec built afresh, as a new worker would, on corpus "
        f"`{info.get('corpus')}`, one payload per call: the first call (cold: a data key to "
        "make through the KMS, or to unwrap) as the median of 5 fresh codecs; the next 999 "
        "(warm: keys cached) as the mean; KMS calls over 1,000 payloads. Static keys "
        "(`aes256gcm`) are the comparison: they call nothing."
    )
    rows = [
        [
            label,
            f"{c['generate_per_1000']} / {c['unwrap_per_1000']}",
            f"{c['cold_encode_ms']:.2f} / {c['cold_decode_ms']:.2f}",
            f"{c['warm_encode_us']:.1f} / {c['warm_decode_us']:.1f}",
        ]
        for label, c in codecs.items()
    ]
    table = Table(
        [
            "codec",
            "KMS calls per 1,000 (make / unwrap)",
            "cold ms (encode / decode)",
            "warm µs per payload (encode / decode)",
        ],
        rows,
    )
    blocks: list[Any] = [head, table]
    client = info.get("servers")
    if client:
        calls = ", ".join(f"{name} {n}" for name, n in sorted(client["calls"].items())) or "none"
        blocks.append(
            f"Client and reading layers: {calls}, for {client['workflows']} envelope-encrypted "
            "client-layer workflows and any histories read (clients, workers and codec servers "
            "together, counted at the KMS). Each process "
            "makes a data key when its last one runs out and unwraps each key once; AWS's "
            f"default quota is {QUOTA_PER_S:,} such calls a second per account and region."
        )
    return Section("Key management service", blocks)


SECONDS_A_MONTH = 30 * 86400


def kms_load(results: Results, *, volume_gb: float, processes: int) -> list[str]:
    """For each envelope codec of the run: the KMS calls a second that ``volume_gb`` of
    payloads a month would make across ``processes`` worker and client processes, against the
    quota. Each process makes a data key whenever its last one runs out (age, payloads or
    bytes, the run's policy), and every process unwraps every other's keys once each."""
    info: dict[str, Any] = results.layers.get(KMS, {})
    corpus = next((c for c in results.corpora if c.name == info.get("corpus")), None)
    lines = []
    for label, c in info.get("codec", {}).items():
        policy = c.get("policy")
        if not policy or corpus is None or not corpus.payload_count:
            continue
        byte_rate = volume_gb * 1e9 / SECONDS_A_MONTH / processes
        payload_rate = byte_rate / (corpus.total_bytes / corpus.payload_count)
        per_process = max(
            1 / policy["max_age_s"],
            payload_rate / policy["max_payloads"],
            byte_rate / policy["max_bytes"],
        )
        made, unwrapped = processes * per_process, processes * processes * per_process
        share = (made + unwrapped) / QUOTA_PER_S
        lines.append(
            f"`{label}`: {volume_gb:,.0f} GB a month across {processes} processes "
            f"({payload_rate * processes:,.1f} payloads/s of corpus {corpus.name}'s mean "
            f"size), data keys kept {policy['max_age_s']:g} s: about {made:.3g} GenerateDataKey "
            f"and {unwrapped:.3g} Decrypt calls a second, {share * 100:.2g} % of AWS KMS's "
            "default quota "
            f"of {QUOTA_PER_S:,}/s per account and region (measured cold cost "
            f"{c['cold_encode_ms']:.1f} ms, once per data key)."
        )
    return lines
