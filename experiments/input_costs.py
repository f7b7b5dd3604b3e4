"""What the costliest input a decoder can be handed costs it per byte: every implementation of
every family, on 1 MiB of each of its family's costliest pieces (``tests/codecs/costly.py``)
and of incompressible data as a streaming writer stores it, decoded or refused under a 1 MiB
and a 64 MiB limit; the best of three in CPU time, the worst shape reported. These figures are
the ``input_cost`` priors in ``payload_codecs._compression``: how the codec judges, by a
payload's bytes alone, whether the event loop can afford to decode it.

    python -m experiments.input_costs

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import contextlib
import time

from tests.codecs.costly import PIECES, WHOLE_STREAMS, incompressible, repeated

import payload_codecs
from payload_codecs import PayloadDecodeError, from_spec
from payload_codecs._compression import CorruptInput

SIZE = 1 << 20


def _shapes(family: str) -> dict[str, bytes]:
    shapes = {name: repeated(family, [name], SIZE) for name in PIECES[family]}
    if family in WHOLE_STREAMS:
        shapes["empty deflate blocks"] = WHOLE_STREAMS[family](SIZE // 5)
    shapes["incompressible"] = incompressible(family, SIZE)
    return shapes


def _ns_per_byte(compressor: payload_codecs.Compressor, data: bytes, limit: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time_ns()
        with contextlib.suppress(CorruptInput, PayloadDecodeError):
            compressor.decompress(data, limit)
        best = min(best, time.process_time_ns() - start)
    return best / len(data)


def main() -> None:
    for family in payload_codecs.families():
        shapes = _shapes(family.name) if family.implementations else {}
        for implementation in family.implementations:
            [stage] = from_spec(f"{family.name}@{implementation}").stages
            assert isinstance(stage, payload_codecs.CompressionStage)
            for limit in (1 << 20, 64 << 20):
                cost, shape = max(
                    (_ns_per_byte(stage.compressor, data, limit), name)
                    for name, data in shapes.items()
                )
                print(
                    f"{family.name + '@' + implementation:20} limit {limit >> 20:2} MiB: "
                    f"{cost:5.1f} ns per input byte at worst ({shape})"
                )


if __name__ == "__main__":
    main()
