"""The codec rows a run measures: each spec or user factory built once, labelled, with the facts
results keep about it, including a user's own PayloadCodec given as ``package.module:factory``."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.converter import PayloadCodec

import payload_codecs
from bench.errors import UserError
from bench.profiles import BASELINE, REPLICAS
from bench.results import CodecFacts
from bench.results.model import UNKNOWN_INTEGRITY
from payload_codecs import ChainCodec, Dictionaries, Keyring

_FAMILY_NAMES = {family.name for family in payload_codecs.families()}


@dataclass(frozen=True)
class CodecUnderTest:
    """One codec row: its label in results, the codec, the text that named it (which a worker
    process uses to build the same codec), and the facts results keep about it."""

    label: str
    codec: PayloadCodec
    text: str
    facts: CodecFacts

    @property
    def chain(self) -> ChainCodec | None:
        """Our chain codec (which also has a raw layer), or ``None`` for a user's own codec."""
        return self.codec if isinstance(self.codec, ChainCodec) else None


def facts_of(text: str, codec: PayloadCodec, replica: str | None = None) -> CodecFacts:
    """What results record about a codec row: from its spec for our codecs; a user's codec is
    ``custom`` and says itself whether it encrypts (an ``encrypts`` attribute)."""
    if isinstance(codec, ChainCodec):
        return CodecFacts.of_spec(codec.spec, replica)
    encrypts = bool(getattr(codec, "encrypts", False))
    return CodecFacts(
        text, "custom", encrypts=encrypts, replica=replica, integrity=UNKNOWN_INTEGRITY
    )


def is_factory(text: str) -> bool:
    """``package.module:factory`` rather than a spec such as ``zstd:3``."""
    module, sep, attribute = text.partition(":")
    return bool(sep) and module not in _FAMILY_NAMES and attribute.isidentifier()


def load_factory(text: str) -> PayloadCodec:
    """Call ``package.module:factory`` with no arguments; it must return a PayloadCodec."""
    module_name, _, attribute = text.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise UserError(f"cannot load codec factory {text!r}: {error}") from None
    codec = factory()
    if not isinstance(codec, PayloadCodec):
        raise UserError(
            f"codec factory {text!r} returned {type(codec).__name__}, not a "
            "temporalio.converter.PayloadCodec"
        )
    return codec


def build_codec(
    text: str, keyring: Keyring | None, dictionaries: Dictionaries | None = None
) -> PayloadCodec:
    """The codec that ``text`` names: a spec (its zstd stages reading ``dictionaries``), or a
    user's ``package.module:factory``. An encrypting spec without a keyring is a
    ``ValueError`` that says how to give keys."""
    if is_factory(text):
        return load_factory(text)
    if keyring is None and payload_codecs.needs_keyring(text):
        raise ValueError(
            f"codec {text!r} encrypts but no keys were given; set PAYLOAD_CODEC_KEYS to the "
            "run's keys (id=BASE64KEY)"
        )
    return payload_codecs.from_spec(text, keyring=keyring, dictionaries=dictionaries)


def label_of(text: str, codec: PayloadCodec) -> str:
    """Row label: the canonical spec of our codecs, the factory string of a user's."""
    return codec.spec if isinstance(codec, ChainCodec) else text


def codecs_under_test(
    specs: Sequence[str],
    keyring: Keyring,
    *,
    replicate: str | None = None,
    dictionaries: Dictionaries | None = None,
) -> list[CodecUnderTest]:
    """The codec rows for ``specs``, in order, with the baseline first when missing (every
    comparison needs it) and ``replicate`` measured twice, as rows A and B: a noise-floor pair
    that does the same real work, so the report can say how far two identical things drift
    apart on this machine."""
    wanted = list(specs)
    if BASELINE not in wanted:
        wanted.insert(0, BASELINE)
    if replicate is not None and replicate not in wanted:
        wanted.insert(1, replicate)
    rows: list[CodecUnderTest] = []
    seen: set[str] = set()
    for text in wanted:
        codec = build_codec(text, keyring, dictionaries)
        label = label_of(text, codec)
        if label in seen:
            continue
        seen.add(label)
        if text == replicate:
            rows += [
                CodecUnderTest(f"{label} ({r})", codec, text, facts_of(text, codec, r))
                for r in REPLICAS
            ]
        else:
            rows.append(CodecUnderTest(label, codec, text, facts_of(text, codec)))
    return rows
