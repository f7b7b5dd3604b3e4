"""The machine's speed, round by round, from the reference workloads a run timed beside its
codecs (see ``bench.layers.reference``): what compare divides out with ``--normalize``.

The factor of a round is the geometric mean, over the reference workloads and both directions,
of each one's median time over the slices timed in that round (a median, so that a slice that
landed on a hiccup of the host does not move the round; runs written before slices existed
have one slice, and their factor is what it was).
Dividing a codec's time in a round by it takes out what slowed the whole machine at that moment;
a change to the codecs cannot move it, so a slowdown of every codec still shows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.results.model import Layer, Results
from bench.results.samples import InProcessSamples

Floats = np.ndarray[Any, np.dtype[np.float64]]


def _round_seconds(samples: InProcessSamples, side: str) -> Floats:
    """Per round, the median over the workload's slices of the seconds one call took."""
    times, repeats_of = (
        (samples.encode_ns, samples.encode_repeats)
        if side == "encode"
        else (samples.decode_ns, samples.decode_repeats)
    )
    rows = np.asarray(times, dtype=np.float64)
    repeats = np.asarray(repeats_of, dtype=np.float64)
    per_round: Floats = np.median(rows / repeats, axis=1) / 1e9
    return per_round


def round_factors(run: Results) -> Floats | None:
    """Per measured round, the geometric mean of the reference workloads' times in seconds (the
    machine's slowness at that moment); ``None`` when the run timed no reference workload."""
    series = [
        np.log(_round_seconds(case.samples, side))
        for case in run.cases
        if isinstance(case.samples, InProcessSamples)
        and case.layer is Layer.REFERENCE
        and case.samples.encode_ns
        for side in ("encode", "decode")
    ]
    if not series:
        return None
    rounds = min(len(s) for s in series)
    factors: Floats = np.exp(np.mean([s[:rounds] for s in series], axis=0))
    return factors


def workloads(run: Results) -> tuple[tuple[str, int], ...]:
    """The reference workloads a run timed (name, bytes per slice): two runs' factors compare
    only when these match."""
    return tuple(
        sorted(
            (case.codec, int(case.samples.original_bytes[0]))
            for case in run.cases
            if case.layer is Layer.REFERENCE
            and isinstance(case.samples, InProcessSamples)
            and case.samples.original_bytes
        )
    )


def machine_seconds(run: Results) -> float | None:
    """The reference workloads' median round, in seconds: how fast the machine ran overall."""
    factors = round_factors(run)
    return None if factors is None else float(np.median(factors))
