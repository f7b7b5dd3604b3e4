"""Loaded by Python at start-up when this folder is on PYTHONPATH (the gate experiment puts it
there): makes chosen codecs slower by a share of their own time, busy-waiting so that it costs
CPU as real work would. ``CODEC_BENCH_SLOWDOWN`` is ``FAMILY=SHARE[,FAMILY=SHARE...]``, ``*``
for every family (encryption included); SHARE is the throughput lost (0.2: 20 % slower).

An experiment's instrument, never imported by the harness or the tests.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any


def _slowed(method: Callable[..., Any], extra: float) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = method(*args, **kwargs)
        end = time.perf_counter()
        until = end + (end - start) * extra
        while time.perf_counter() < until:
            pass
        return out

    return wrapper


def _install(spec: str) -> None:
    from payload_codecs import _registry, _stages

    for item in spec.split(","):
        family, _, share = item.partition("=")
        extra = float(share) / (1 - float(share))  # throughput x (1 - share) = time x (1 + extra)
        for fam in _registry.families():
            if family not in ("*", fam.name):
                continue
            for cls in fam.implementations.values():
                cls.compress = _slowed(cls.compress, extra)  # type: ignore[method-assign]
                cls.decompress = _slowed(cls.decompress, extra)  # type: ignore[method-assign]
        if family in ("*", "aes256gcm"):
            stage = _stages.EncryptionStage
            stage.raw_encode = _slowed(stage.raw_encode, extra)  # type: ignore[method-assign]
            stage._open = _slowed(stage._open, extra)  # type: ignore[method-assign]


if os.environ.get("CODEC_BENCH_SLOWDOWN"):
    _install(os.environ["CODEC_BENCH_SLOWDOWN"])
