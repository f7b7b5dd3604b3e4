"""The committed reference run (``results/reference``) is what today's quick profile measures:
the same rows (codec, implementation, layer, corpus), the same corpora byte for byte, the same
rounds and the current results schema. When a profile, a default implementation or a built-in
corpus changes, this fails until ``nox -s reference`` records it again, so that a new user's
first ``compare results/reference results/latest`` compares like with like."""

from __future__ import annotations

from pathlib import Path

from bench.results import Layer, load
from bench.results.schema import SCHEMA_VERSION
from bench.run.options import RunOptions
from bench.run.plan import make_plan

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "results" / "reference" / "results.json"
STALE = "results/reference is stale ({}); record it again with: nox -s reference"


def test_the_reference_run_is_what_the_quick_profile_measures_today(tmp_path: Path) -> None:
    reference = load(REFERENCE)
    plan = make_plan(RunOptions(profile="quick", out=tmp_path / "plan"))
    in_process = (Layer.RAW, Layer.CODEC)
    planned = {(c.layer.value, c.label, c.corpus) for c in plan.cases if c.layer in in_process}
    recorded = {c.key[:3] for c in reference.cases if c.layer in in_process}
    assert recorded == planned, STALE.format(
        f"rows only recorded: {sorted(recorded - planned)[:4]}, "
        f"only planned: {sorted(planned - recorded)[:4]}"
    )
    digests = {c.name: c.digest for c in reference.corpora}
    assert digests == {c.name: c.digest for c in plan.corpora}, STALE.format("corpora differ")
    assert reference.profile == "quick"
    assert reference.rounds_planned == plan.rounds, STALE.format("rounds differ")
    assert reference.rounds_completed == reference.rounds_planned
    assert not reference.interrupted
    document = REFERENCE.read_text()
    assert f'"schema_version":{SCHEMA_VERSION}' in document.replace(" ", ""), STALE.format(
        "an older results schema"
    )
