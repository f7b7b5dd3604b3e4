"""The timing engine checks every round trip of both in-process layers and keeps only whole
rounds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bench.codec_rows import codecs_under_test
from bench.corpus import catalog
from bench.errors import RoundTripError
from bench.keys import run_keyring
from bench.layers.inprocess import build_cases, run_rounds
from bench.results import Layer
from bench.run.options import ClientOptions, ReadingOptions, RunOptions
from bench.run.plan import make_plan


@pytest.mark.parametrize("layer", [Layer.RAW, Layer.CODEC])
def test_a_stage_that_decodes_one_byte_wrong_fails_its_layer(layer: Layer) -> None:
    keyring, _ = run_keyring()
    cases = build_cases(codecs_under_test(["zstd:3"], keyring), [catalog.load("sizes")])
    case = next(c for c in cases if c.layer is layer and c.label.startswith("zstd"))
    decode = case.decode
    if layer is Layer.RAW:
        case.decode = lambda blob: bytes(decode(blob))[:-1] + b"!"
    else:

        async def corrupt(payloads):  # type: ignore[no-untyped-def]
            out = await decode(payloads)
            out[0].data = out[0].data[:-1] + b"!"
            return out

        case.decode = corrupt
    with pytest.raises(RoundTripError, match="did not round-trip byte for byte"):
        asyncio.run(run_rounds([case], 1))


def test_payloads_of_every_case_are_timed_once_a_round_in_whole_rows() -> None:
    keyring, _ = run_keyring()
    cases = build_cases(codecs_under_test(["lz4:1"], keyring), [catalog.load("synthetic")])
    assert asyncio.run(run_rounds(cases, 2)) == 2
    for case in cases:
        assert len(case.samples.encode_ns) == 2
        assert all(len(row) == len(case.inputs) for row in case.samples.encode_ns)
        assert all(isinstance(t, int) and t > 0 for row in case.samples.decode_ns for t in row)


def test_the_in_process_layers_advance_the_progress_by_exactly_the_plans_steps(
    tmp_path: Path,
) -> None:
    """Calibration counts as a round's worth of payloads, so the time left is right from the
    start; the steps the layers report add up to the plan's total."""
    options = RunOptions(
        profile="ci",
        codecs=("lz4:1",),
        corpora=("synthetic",),
        rounds=2,
        out=tmp_path / "run",
        client=ClientOptions(run=False),
        reading=ReadingOptions(run=False),
    )
    plan = make_plan(options)
    done = []
    asyncio.run(run_rounds(plan.cases, plan.rounds, on_step=lambda _, n: done.append(n)))
    assert sum(done) == plan.steps
    payloads = sum(len(case.inputs) for case in plan.cases)
    assert sum(done[: len(plan.cases)]) == payloads  # the calibration: one a payload
