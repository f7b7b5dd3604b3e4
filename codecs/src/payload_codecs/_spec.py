"""Spec strings: ``name[:level][:dict=NAME][:checksum][@implementation]`` stages joined by ``+``
in encoding order (``dict=`` names a trained zstd dictionary of the :class:`Dictionaries` given;
``checksum`` asks LZ4 for the content checksum it leaves out by default)."""

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
    checksum: bool = False

    @property
    def integrity(self) -> str | None:
        """What detects a corrupted payload of this stage when decoding (see
        ``Compressor.integrity``); ``None`` for nothing."""
        if self.family.kind is Kind.ENCRYPTION:
            return EncryptionStage.integrity
        if self.implementation is None:
            return None
        return self.family.implementations[self.implementation].integrity_with(self.checksum)

    def __str__(self) -> str:
        text = self.family.name
        if self.level is not None:
            text += f":{self.level}"
        if self.dictionary is not None:
            text += f":dict={self.dictionary}"
        if self.checksum:
            text += f":{CHECKSUM}"
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
    checksum = CHECKSUM in [option.strip() for option in options]
    options = [option for option in options if option.strip() != CHECKSUM]
    if len(options) > 1:
        raise ValueError(
            f"codec spec {spec!r}: write a stage as name[:level][:dict=NAME][:checksum][@impl]"
        )
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
    if checksum and not (impl and fam.implementations[impl].takes_checksum):
        raise ValueError(
            f"codec spec {spec!r}: {fam.name}@{impl} takes no :checksum option; only lz4 leaves "
            "its checksum out by default (zstd, gzip, zlib and framed snappy always check)"
        )
    return StageSpec(fam, level, impl, dictionary, checksum)


CHECKSUM = "checksum"
"""The stage option that asks for a content checksum (``lz4:1:checksum``)."""


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


def integrity(spec: str) -> str | None:
    """What detects a corrupted payload of ``spec`` when decoding, stage by stage in encoding
    order (``"XXH64 content checksum ...; AES-GCM tag ..."``); ``None`` when nothing does.
    ``ValueError`` as :func:`parse_spec`."""
    found = [check for stage in parse_spec(spec) if (check := stage.integrity)]
    return "; ".join(found) or None


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
            extras: dict[str, object] = {}
            if cls.takes_dictionaries:
                extras.update(dictionaries=dictionaries, active=stage.dictionary)
            if stage.checksum:
                extras["checksum"] = True
            compressor = cls(stage.level, **extras)
            stages.append(CompressionStage(compressor, fam.encoding, options))
        elif fam.kind is Kind.ENCRYPTION:
            if keyring is None:
                raise ValueError(
                    f"codec spec {spec!r} encrypts but no keyring was given; pass "
                    "keyring=Keyring.from_env() (or from_file) to from_spec"
                )
            stages.append(EncryptionStage(keyring))
    return ChainCodec(stages, spec="+".join(map(str, parsed)), options=options)
