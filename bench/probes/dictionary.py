"""``codec-bench dict evaluate``: does a trained zstd dictionary pay on these payloads?

Honest by construction: payloads of one workflow are near-duplicates, so the corpus is split by
workflow, never by payload (grouped k-fold: whole workflows go to the fold with the fewest
payloads so far, largest first). Each fold's dictionary is trained on the other folds and
measured on this one, against the same level without a dictionary, through the real codec
chains (so stored sizes include the payload envelope, and encryption's 28 bytes and key id when
chained). Figures are per size bucket over every held-out payload of every fold.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from temporalio.api.common.v1 import Payload

from bench.errors import RoundTripError
from bench.results.buckets import BUCKETS, bucket_of
from payload_codecs import ChainCodec, Dictionaries, Keyring, from_spec, serialize, train_dictionary

SIZES = (4 << 10, 16 << 10, 64 << 10, 110 << 10)
TIMING_REPEATS = 5
ALL = "all"


def folds(workflows: Sequence[str], k: int) -> list[list[int]]:
    """Payload indices of each of ``k`` folds; every workflow's payloads in one fold. Workflows
    are placed largest first, each in the fold that holds the fewest payloads so far."""
    members: dict[str, list[int]] = {}
    for index, workflow in enumerate(workflows):
        members.setdefault(workflow, []).append(index)
    if len(members) < 2:
        raise ValueError(
            f"{len(members)} workflow(s) in the corpus: a dictionary must be measured on "
            "workflows it was not trained on, so at least 2 are needed"
        )
    k = min(k, len(members))
    out: list[list[int]] = [[] for _ in range(k)]
    for _, indices in sorted(members.items(), key=lambda item: (-len(item[1]), item[0])):
        min(out, key=len).extend(indices)
    return [sorted(fold) for fold in out]


@dataclass
class Tally:
    """Held-out payloads of one size bucket, for one chain, with and without the dictionary."""

    payloads: int = 0
    original: int = 0
    plain: int = 0
    with_dict: int = 0
    plain_encode_ns: list[float] = field(default_factory=list)
    dict_encode_ns: list[float] = field(default_factory=list)
    plain_decode_ns: list[float] = field(default_factory=list)
    dict_decode_ns: list[float] = field(default_factory=list)

    def saved(self, stored: int) -> float:
        return 1 - stored / self.original if self.original else 0.0

    @property
    def gain(self) -> float | None:
        """Bytes the dictionary saves over what the same level saves alone, as a multiple
        (above 1: it pays in bytes); ``None`` where the level alone saves nothing."""
        alone = self.original - self.plain
        return (self.original - self.with_dict) / alone if alone > 0 else None


MIN_POINTS = 0.05
"""What a dictionary must add to the share of the original bytes saved to be worth deploying:
one rule for every row, in points of the original bytes (a ratio of savings would call 1.0 %
against 1.3 % a 30 % gain and 60 % against 60.3 % none)."""


def verdict(tally: Tally) -> str:
    """Whether the dictionary pays on these payloads, by one rule: the points of the original
    bytes it saves over the level alone; never "pays" while the chain still stores more than
    the payloads themselves."""
    alone, with_dict = tally.saved(tally.plain), tally.saved(tally.with_dict)
    points = with_dict - alone
    if points <= 0:
        return "does not pay: no bytes saved over the level alone"
    if with_dict <= 0:
        return f"does not pay: still stores {-with_dict:.1%} more than the payloads"
    if points < MIN_POINTS:
        return f"hardly pays: {points * 100:.1f} points more saved (under {MIN_POINTS:.0%})"
    return f"pays: {points * 100:.1f} points more of the bytes saved"


@dataclass(frozen=True)
class Row:
    chain: str
    dict_size: int
    trained_size: int
    """Mean size of the dictionaries the folds trained (zstd keeps less when samples are few)."""
    folds: tuple[int, int]
    """Folds whose training part was large enough to train on, of all folds."""
    bucket: str
    tally: Tally


def _timed(work: object, payloads: list[Payload]) -> float:
    """Median over repeats of the nanoseconds per payload of ``work(payloads)``."""
    times = []
    for _ in range(TIMING_REPEATS):
        started = time.perf_counter_ns()
        work(payloads)  # type: ignore[operator]
        times.append((time.perf_counter_ns() - started) / len(payloads))
    return float(np.median(times))


def _measure(
    plain: ChainCodec, with_dict: ChainCodec, held_out: list[Payload], tallies: dict[str, Tally]
) -> None:
    by_bucket: dict[str, list[Payload]] = {ALL: held_out}
    for payload in held_out:
        by_bucket.setdefault(bucket_of(payload.ByteSize()).name, []).append(payload)
    for bucket, payloads in by_bucket.items():
        tally = tallies.setdefault(bucket, Tally())
        a, b = plain.encode_sync(payloads), with_dict.encode_sync(payloads)
        if with_dict.decode_sync(b) != payloads:
            raise RoundTripError(f"{with_dict.spec}: a round trip changed a payload")
        tally.payloads += len(payloads)
        tally.original += sum(p.ByteSize() for p in payloads)
        tally.plain += sum(p.ByteSize() for p in a)
        tally.with_dict += sum(p.ByteSize() for p in b)
        tally.plain_encode_ns.append(_timed(plain.encode_sync, payloads))
        tally.dict_encode_ns.append(_timed(with_dict.encode_sync, payloads))
        tally.plain_decode_ns.append(_timed(plain.decode_sync, a))
        tally.dict_decode_ns.append(_timed(with_dict.decode_sync, b))


def evaluate(
    payloads: Sequence[Payload],
    workflows: Sequence[str],
    *,
    level: int = 3,
    sizes: Sequence[int] = SIZES,
    k: int = 5,
    encrypt: bool = True,
) -> list[Row]:
    """Rows per chain (``zstd:LEVEL`` and, with ``encrypt``, ``+aes256gcm``), dictionary size
    and size bucket; a size no fold could train is left out."""
    split = folds(workflows, k)
    keyring = Keyring({"evaluate": secrets.token_bytes(32)}, "evaluate")
    chains = [f"zstd:{level}", *([f"zstd:{level}+aes256gcm"] if encrypt else [])]
    rows = []
    for size in sizes:
        tallies: dict[str, dict[str, Tally]] = {chain: {} for chain in chains}
        trained = []
        for fold in split:
            inside = set(fold)
            samples = [serialize(p) for i, p in enumerate(payloads) if i not in inside]
            try:
                dictionary = train_dictionary(samples, size, level)
            except ValueError:
                continue
            trained.append(len(dictionary.data))
            named = Dictionaries([type(dictionary)("evaluate", dictionary.id, dictionary.data)])
            held_out = [payloads[i] for i in fold]
            for chain in chains:
                with_dict = chain.replace(f"zstd:{level}", f"zstd:{level}:dict=evaluate", 1)
                _measure(
                    from_spec(chain, keyring=keyring),
                    from_spec(with_dict, keyring=keyring, dictionaries=named),
                    held_out,
                    tallies[chain],
                )
        if not trained:
            continue
        mean = int(np.mean(trained))
        order = [ALL, *(b.name for b in BUCKETS)]
        for chain in chains:
            for bucket in order:
                if bucket in tallies[chain]:
                    rows.append(
                        Row(
                            chain,
                            size,
                            mean,
                            (len(trained), len(split)),
                            bucket,
                            tallies[chain][bucket],
                        )
                    )
    return rows
