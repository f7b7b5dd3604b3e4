"""Results made up in memory for the statistics' tests: codec-layer cases timed at chosen
scales with chosen noise, and reference workloads on a machine of chosen speed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from bench import results
from bench.results import CodecFacts, CorpusInfo, Environment, Layer
from bench.results.samples import InProcessSamples

BASE_NS = np.array([2_000.0, 6_000.0, 90_000.0])
"""Three payloads, one per size bucket below 256 KiB."""
ROUNDS = 11


def make_samples(
    scale: float,
    seed: int,
    *,
    noise: float = 0.02,
    rounds: int = ROUNDS,
    machine: float = 1.0,
    round_speeds: Sequence[float] | None = None,
) -> InProcessSamples:
    """Encode times ``scale`` x ``machine`` times a base, with ``noise`` relative noise per
    call, each round's times multiplied by its ``round_speeds`` entry (a shared host's state at
    that moment); decode a third of that."""
    rng = np.random.default_rng(seed)
    speeds = round_speeds or [1.0] * rounds
    rows = [
        [int(x) for x in BASE_NS * scale * machine * speed * rng.normal(1.0, noise, 3)]
        for speed in speeds
    ]
    rounds = len(rows)
    return InProcessSamples(
        original_bytes=[500, 2_000, 40_000],
        encoded_bytes=[250, 900, 20_000],
        encode_repeats=[1, 1, 1],
        decode_repeats=[1, 1, 1],
        encode_ns=rows,
        decode_ns=[[x // 3 for x in row] for row in rows],
        encode_cpu_ns=[1] * rounds,
        decode_cpu_ns=[1] * rounds,
        peak_memory_bytes=1,
    )


def make_case(
    layer: Layer, label: str, samples: InProcessSamples, corpus: str = "unit"
) -> results.CaseResult:
    facts = (
        CodecFacts(label, "reference") if layer is Layer.REFERENCE else CodecFacts.of_spec(label)
    )
    return results.case_result(
        samples, layer=layer, codec=label, corpus=corpus, library="-", facts=facts
    )


def make_run(
    run_id: str,
    cases: dict[str, tuple[float, int]],
    *,
    machine: float = 1.0,
    noise: float = 0.02,
    rounds: int = ROUNDS,
    started: str = "s",
    **env: object,
) -> results.Results:
    """Codec-layer cases at their scales, and reference workloads, all on a machine ``machine``
    times slower than the base."""
    seeds = iter(range(1000, 2000))
    reference = [
        make_case(
            Layer.REFERENCE,
            name,
            make_samples(
                1.0,
                next(seeds) + 7 * int(machine * 100),
                noise=noise,
                rounds=rounds,
                machine=machine,
            ),
            "reference",
        )
        for name in ("bz2", "lzma")
    ]
    return results.Results(
        run_id=run_id,
        started=started,
        finished="f",
        interrupted=False,
        profile="quick",
        rounds_planned=rounds,
        rounds_completed=rounds,
        command=[],
        environment=Environment.from_json(
            {"cpu_model": "x", "packages": {"zstandard": "0.25.0"}, **env}
        ),
        corpora=[CorpusInfo("unit", "d1", 3, 42_500)],
        cases=[
            make_case(
                Layer.CODEC,
                label,
                make_samples(scale, seed, noise=noise, rounds=rounds, machine=machine),
            )
            for label, (scale, seed) in cases.items()
        ]
        + reference,
    )
