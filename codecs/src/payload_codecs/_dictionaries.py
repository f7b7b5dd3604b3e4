"""zstd dictionaries: trained on payloads like the ones to compress, they let zstd shrink small
payloads (a few hundred bytes) that it otherwise cannot learn anything from.

A dictionary set works like the keyring: one dictionary (named in the spec,
``zstd:3:dict=NAME``) encodes, every dictionary of the set decodes. A zstd frame names the
dictionary it needs by its 32-bit id, so a worker that holds old and new dictionaries reads
histories written with either; a frame that names an id the set does not hold fails with an
error naming that id. Dictionaries are files that other zstd readers use too (``zstd -D
NAME.zdict -d``): the set is a folder of ``NAME.zdict`` files, each with a ``NAME.json`` of
provenance beside it (what it was trained on, by what), written by ``codec-bench dict train``.

Never delete a dictionary while histories written with it are retained: they cannot be read
without it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

SUFFIX = ".zdict"
DICTIONARIES_ENV = "PAYLOAD_CODEC_DICTIONARIES"
"""The dictionary folder of workers and codec servers that are not given one explicitly."""
MIN_SAMPLES = 16
"""zstd's trainer needs several samples to find what they share; fewer than this is refused."""
MIN_SAMPLE_BYTES_PER_DICT_BYTE = 1
"""And at least as many bytes of samples as the dictionary may hold (zstd's own guidance is
about 100 times; with less it returns a smaller dictionary than asked, which is reported)."""


@dataclass(frozen=True)
class Dictionary:
    """One zstd dictionary: its name (the file's stem), zstd id and raw bytes."""

    name: str
    id: int
    data: bytes = field(repr=False)
    _prepared: dict[int | None, zstandard.ZstdCompressionDict] = field(
        default_factory=dict, repr=False, compare=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Dictionary:
        """``ValueError`` unless ``data`` is a zstd dictionary with an id (a trained one)."""
        try:
            dict_id = zstandard.ZstdCompressionDict(data).dict_id()
        except zstandard.ZstdError as error:
            raise ValueError(f"dictionary {name!r} is not a zstd dictionary: {error}") from None
        if dict_id == 0:
            raise ValueError(
                f"dictionary {name!r} has no zstd dictionary id (raw content?); train one with "
                "codec-bench dict train"
            )
        return cls(name, dict_id, data)

    def for_level(self, level: int | None) -> zstandard.ZstdCompressionDict:
        """The dictionary digested for compressing at ``level`` (done once per level: a small
        payload should not pay the dictionary's set-up on every call); ``None`` for decoding
        (decompressors digest it themselves, once each)."""
        with self._lock:
            prepared = self._prepared.get(level)
            if prepared is None:
                prepared = zstandard.ZstdCompressionDict(self.data)
                if level is not None:
                    prepared.precompute_compress(level=level)
                self._prepared[level] = prepared
            return prepared


class Dictionaries:
    """A set of zstd dictionaries by name and by id; names and ids unique."""

    def __init__(self, dictionaries: Iterable[Dictionary]) -> None:
        self._by_name: dict[str, Dictionary] = {}
        self._by_id: dict[int, Dictionary] = {}
        for dictionary in dictionaries:
            twin = self._by_id.get(dictionary.id)
            if twin is not None:
                raise ValueError(
                    f"dictionaries {twin.name!r} and {dictionary.name!r} share zstd id "
                    f"{dictionary.id}; a frame could not say which one it needs"
                )
            if dictionary.name in self._by_name:
                raise ValueError(f"two dictionaries are named {dictionary.name!r}")
            self._by_name[dictionary.name] = dictionary
            self._by_id[dictionary.id] = dictionary

    @classmethod
    def from_dir(cls, path: str | Path) -> Dictionaries:
        """Every ``*.zdict`` in folder ``path``; ``ValueError`` for a missing folder, an empty
        one or a file that is not a trained zstd dictionary."""
        folder = Path(path)
        if not folder.is_dir():
            raise ValueError(f"dictionary folder {str(folder)!r} does not exist")
        files = sorted(folder.glob(f"*{SUFFIX}"))
        if not files:
            raise ValueError(
                f"no {SUFFIX} files in {str(folder)!r}; train one with codec-bench dict train"
            )
        return cls(Dictionary.from_bytes(f.stem, f.read_bytes()) for f in files)

    @classmethod
    def from_env(cls, name: str = DICTIONARIES_ENV) -> Dictionaries | None:
        """The folder that environment variable ``name`` names; ``None`` when it is unset."""
        folder = os.environ.get(name, "").strip()
        return cls.from_dir(folder) if folder else None

    def named(self, name: str) -> Dictionary:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name) or "none"
            raise ValueError(f"no zstd dictionary named {name!r}; this set has: {known}") from None

    def by_id(self, dict_id: int) -> Dictionary | None:
        return self._by_id.get(dict_id)

    def describe(self) -> str:
        """``name (id N)`` for each, for error messages."""
        return ", ".join(f"{d.name} (id {d.id})" for d in self._by_name.values()) or "none"

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)


def train_dictionary(samples: list[bytes], size: int, level: int) -> Dictionary:
    """A dictionary of at most ``size`` bytes trained on ``samples`` (serialized payloads, as
    the compression stage sees them), named by the caller when saved; smaller when the samples
    hold less worth keeping. ``ValueError`` saying how
    many samples are needed when there are too few."""
    total = sum(len(s) for s in samples)
    needed = size * MIN_SAMPLE_BYTES_PER_DICT_BYTE
    if len(samples) < MIN_SAMPLES or total < needed:
        raise ValueError(
            f"too few samples to train a {size:,}-byte dictionary: {len(samples)} payloads, "
            f"{total:,} bytes; it needs at least {MIN_SAMPLES} payloads and {needed:,} bytes "
            "(give more payloads, or a smaller --size)"
        )
    try:
        trained = zstandard.train_dictionary(size, list[Any](samples), level=level)
    except zstandard.ZstdError as error:
        raise ValueError(f"zstd could not train a {size:,}-byte dictionary: {error}") from None
    return Dictionary.from_bytes("trained", trained.as_bytes())


def save_dictionary(
    dictionary: Dictionary, folder: Path, name: str, provenance: Mapping[str, Any]
) -> Path:
    """``folder/NAME.zdict`` and ``folder/NAME.json`` (provenance with the id), each written
    to a temporary file and renamed; ``FileExistsError`` rather than replace a dictionary
    (histories written with it would become unreadable)."""
    target = folder / f"{name}{SUFFIX}"
    if target.exists():
        raise FileExistsError(
            f"{target} exists; a dictionary is never replaced (histories written with it need "
            "it): choose another --name"
        )
    meta = {**provenance, "name": name, "dict_id": dictionary.id, "bytes": len(dictionary.data)}
    sidecar = folder / f"{name}.json"
    for path, data in ((sidecar, json.dumps(meta, indent=2).encode()), (target, dictionary.data)):
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(data)
        partial.replace(path)
    return target
