"""The stages of a client-path round trip, as results name them (``ClientSamples.stage_ns``
holds them in this order; ``bench.temporal.stages`` measures them).

A codec's work lands in the stages marked ``codec``; the waits are the server's and the
pollers' (a larger payload still makes every stage that moves it longer).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    what: str
    codec: bool
    """Whether a codec's own work is in this stage."""


STAGES = (
    Stage("start", "client encodes the input; StartWorkflowExecution until recorded", True),
    Stage("workflow task wait", "the first workflow task until a worker polls it", False),
    Stage("workflow task", "worker decodes the input, schedules the activity (encoded)", True),
    Stage("activity wait", "the activity task until a worker polls it", False),
    Stage("activity", "worker decodes, runs and encodes the activity", True),
    Stage("result task wait", "the second workflow task until a worker polls it", False),
    Stage("result task", "worker decodes the activity's result, encodes the workflow's", True),
    Stage("result back", "the client's poll answered; client decodes the result", True),
)
NAMES = tuple(stage.name for stage in STAGES)
