"""Spec strings: ``name[:level][:dict=NAME][@implementation]`` stages joined by ``+`` in encoding
order (``dict=`` names a trained zstd dictionary of the :class:`Dictionaries` given)."""

from __future__ import annotations

from dataclasses import dataclass

from payload_codecs._codec import ChainCodec
from payload_codecs._dictionaries import Dictionaries
from payload_codecs._keyring import Keyring
from payload_codecs._registry import Family, Kind, family
from payload_codecs._stages import CodecOptions, CompressionStage, EncryptionStage, Stage


@dataclass(frozen=True)
class StageSpec:
    """One parsed, validated stage of a spec, with defaults filled in."""

    family: Family
    level: int | None
    implementation: str | None
    dictionary: str | None = None

    def __str__(self) -> str:
        text = self.family.name
        if self.level is not None:
            text += f":{self.level}"
        if self.dictionary is not None:
            text += f":dict={self.dictionary}"
        if self.implementation is not None:
            text += f"@{self.implementation}"
        return text


def parse_spec(spec: str) -> tuple[StageSpec, ...]:
    """Parse and validate ``spec``; ``ValueError`` says what is wrong and what is valid."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("empty codec spec; expected e.g. 'zstd:3' or 'zstd:3+aes256gcm'")
    stages = tuple(_parse_stage(part.strip(), spec) for part in spec.split("+"))
    kinds = [stage.family.kind for stage in stages]
    if Kind.ENCRYPTION in kinds and Kind.COMPRESSION in kinds[kinds.index(Kind.ENCRYPTION) :]:
        raise ValueError(
            f"codec spec {spec!r} compresses after encrypting; ciphertext does not compress, "
            "so put compression first (e.g. 'zstd:3+aes256gcm')"
        )
    return stages


def _parse_stage(text: str, spec: str) -> StageSpec:
    if not text:
        raise ValueError(f"codec spec {spec!r} has an empty stage; join stages with a single '+'")
    rest, _, implementation = text.partition("@")
    name, *options = rest.split(":")
    fam = family(name.strip())
    dictionary = _dictionary_option(options, fam, spec)
    if len(options) > 1:
        raise ValueError(f"codec spec {spec!r}: write a stage as name[:level][:dict=NAME][@impl]")
    has_level, level_text = bool(options), options[0] if options else ""
    level: int | None = None
    if has_level:
        if fam.levels is None:
            raise ValueError(f"codec {fam.name!r} takes no level; write {fam.name!r}")
        try:
            level = int(level_text)
        except ValueError:
            raise ValueError(
                f"level {level_text!r} of {fam.name!r} is not a whole number; "
                f"valid levels: {fam.levels}"
            ) from None
        if level not in fam.levels:
            raise ValueError(
                f"level {level} of {fam.name!r} is out of range; valid levels: {fam.levels}"
            )
    elif fam.levels is not None:
        level = fam.levels.default
    impl: str | None = implementation.strip() or None
    if impl is not None and impl not in fam.implementations:
        valid = ", ".join(fam.implementations) or "none (it has a single built-in one)"
        raise ValueError(f"unknown implementation {impl!r} of {fam.name!r}; valid: {valid}")
    impl = impl or fam.default_implementation
    if dictionary is not None and not (impl and fam.implementations[impl].takes_dictionaries):
        raise ValueError(
            f"codec spec {spec!r}: {fam.name}@{impl} cannot use a dictionary; "
            + ("use zstd@zstandard" if fam.name == "zstd" else "only zstd can")
        )
    return StageSpec(fam, level, impl, dictionary)


def _dictionary_option(options: list[str], fam: Family, spec: str) -> str | None:
    """Take ``dict=NAME`` out of a stage's ``:`` options."""
    found = [o for o in options if o.strip().startswith("dict=")]
    for option in found:
        options.remove(option)
    if len(found) > 1:
        raise ValueError(f"codec spec {spec!r} names more than one dictionary in one stage")
    if not found:
        return None
    name = found[0].strip().removeprefix("dict=").strip()
    if not name:
        raise ValueError(f"codec spec {spec!r}: write dict=NAME with the dictionary's name")
    return name


def from_spec(
    spec: str,
    *,
    keyring: Keyring | None = None,
    options: CodecOptions | None = None,
    dictionaries: Dictionaries | None = None,
) -> ChainCodec:
    """The PayloadCodec that ``spec`` names, ready to deploy in a worker or codec server.

    Examples: ``none``, ``snappy``, ``zstd:3``, ``zstd:3@cramjam``, ``gzip:6@zlib``,
    ``zstd:3+aes256gcm``, ``zstd:3:dict=orders`` (with ``dictionaries``). Levels and
    implementations default to those :func:`families` lists. Every zstd stage that can decodes
    frames naming any dictionary of ``dictionaries``; one with ``dict=NAME`` also encodes with
    it. Raises ``ValueError`` for an unknown name, level, implementation or dictionary, or a
    chain that encrypts without a ``keyring``.
    """
    options = options or CodecOptions()
    parsed = parse_spec(spec)
    stages: list[Stage] = []
    for stage in parsed:
        fam = stage.family
        if fam.kind is Kind.COMPRESSION:
            assert fam.encoding is not None
            assert stage.implementation is not None
            cls = fam.implementations[stage.implementation]
            if stage.dictionary is not None and dictionaries is None:
                raise ValueError(
                    f"codec spec {spec!r} names dictionary {stage.dictionary!r} but no "
                    "dictionaries were given; pass dictionaries=Dictionaries.from_dir(FOLDER)"
                )
            compressor = (
                cls(stage.level, dictionaries=dictionaries, active=stage.dictionary)  # type: ignore[call-arg]
                if cls.takes_dictionaries
                else cls(stage.level)
            )
            stages.append(CompressionStage(compressor, fam.encoding, options))
        elif fam.kind is Kind.ENCRYPTION:
            if keyring is None:
                raise ValueError(
                    f"codec spec {spec!r} encrypts but no keyring was given; pass "
                    "keyring=Keyring.from_env() (or from_file) to from_spec"
                )
            stages.append(EncryptionStage(keyring))
    return ChainCodec(stages, spec="+".join(map(str, parsed)), options=options)
