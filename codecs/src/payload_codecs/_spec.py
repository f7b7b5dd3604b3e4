"""Spec strings: ``name[:level][:dict=NAME][:checksum][@implementation]`` stages joined by ``+``
in encoding order (``dict=`` names a trained zstd dictionary of the :class:`Dictionaries` given;
``checksum`` asks LZ4 for the content checksum it leaves out by default)."""

from __future__ import annotations

from dataclasses import dataclass

from payload_codecs._codec import ChainCodec
from payload_codecs._dictionaries import Dictionaries
from payload_codecs._envelope import AwsKms, DataKeyPolicy, EnvelopeStage, KeyProvider, LocalKeys
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
            return EncryptionStage.integrity  # envelope encryption seals payloads alike
        if self.implementation is None:
            return None
        return self.family.implementations[self.implementation].integrity_with(self.checksum)

    @property
    def needs_keyring(self) -> bool:
        """Whether building this stage takes a keyring (``aes256gcm``, ``envelope@local``)."""
        return self.family.kind is Kind.ENCRYPTION and self.implementation in (None, LocalKeys.name)

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
    if impl is not None and impl not in fam.choices:
        valid = ", ".join(fam.choices) or "none (it has a single built-in one)"
        raise ValueError(f"unknown implementation {impl!r} of {fam.name!r}; valid: {valid}")
    impl = impl or fam.default_implementation
    compressor = fam.implementations.get(impl) if impl else None
    if dictionary is not None and not (compressor and compressor.takes_dictionaries):
        raise ValueError(
            f"codec spec {spec!r}: {fam.name}@{impl} cannot use a dictionary; "
            + ("use zstd@zstandard" if fam.name == "zstd" else "only zstd can")
        )
    if checksum and not (compressor and compressor.takes_checksum):
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


def needs_keyring(spec: str) -> bool:
    """Whether :func:`from_spec` needs a keyring for ``spec`` (``ValueError`` as
    :func:`parse_spec`)."""
    return any(stage.needs_keyring for stage in parse_spec(spec))


def from_spec(
    spec: str,
    *,
    keyring: Keyring | None = None,
    options: CodecOptions | None = None,
    dictionaries: Dictionaries | None = None,
    kms: KeyProvider | None = None,
    data_keys: DataKeyPolicy | None = None,
) -> ChainCodec:
    """The PayloadCodec that ``spec`` names, ready to deploy in a worker or codec server.

    Examples: ``none``, ``snappy``, ``zstd:3``, ``zstd:3@cramjam``, ``gzip:6@zlib``,
    ``zstd:3+aes256gcm``, ``zstd:3:dict=orders`` (with ``dictionaries``),
    ``zstd:3+envelope@aws-kms``. Levels and implementations default to those :func:`families`
    lists. Every zstd stage that can decodes frames naming any dictionary of ``dictionaries``;
    one with ``dict=NAME`` also encodes with it. ``aes256gcm`` and ``envelope@local`` take their
    keys from ``keyring``; ``envelope@aws-kms`` speaks to the KMS that ``kms`` is, by default
    ``AwsKms()`` (its key and endpoint from the environment), with data keys bounded by
    ``data_keys`` (default ``DataKeyPolicy.from_env()``). Raises ``ValueError`` for an unknown
    name, level, implementation or dictionary, or a chain that lacks its keys.
    """
    options = options or CodecOptions()
    parsed = parse_spec(spec)
    stages: list[Stage] = []
    for stage in parsed:
        fam = stage.family
        if fam.kind is Kind.COMPRESSION:
            stages.append(_compression(stage, spec, options, dictionaries))
            continue
        if fam.kind is not Kind.ENCRYPTION:
            continue
        if fam.providers:
            provider = _provider(stage, spec, keyring, kms)
            stages.append(EnvelopeStage(provider, data_keys or DataKeyPolicy.from_env()))
        else:
            stages.append(EncryptionStage(_given(keyring, spec)))
    return ChainCodec(stages, spec="+".join(map(str, parsed)), options=options)


def _compression(
    stage: StageSpec, spec: str, options: CodecOptions, dictionaries: Dictionaries | None
) -> CompressionStage:
    fam = stage.family
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
    return CompressionStage(cls(stage.level, **extras), fam.encoding, options)


def _provider(
    stage: StageSpec, spec: str, keyring: Keyring | None, kms: KeyProvider | None
) -> KeyProvider:
    """The key provider of an envelope stage: ``kms`` when it is of the kind the spec names."""
    if kms is not None:
        if kms.name != stage.implementation:
            raise ValueError(
                f"codec spec {spec!r} names envelope@{stage.implementation} but the key "
                f"provider given is {kms.name!r}"
            )
        return kms
    if stage.implementation == LocalKeys.name:
        return LocalKeys(_given(keyring, spec))
    return AwsKms()


def _given(keyring: Keyring | None, spec: str) -> Keyring:
    """``keyring``, which a stage of ``spec`` encrypts with; ``ValueError`` when there is none."""
    if keyring is None:
        raise ValueError(
            f"codec spec {spec!r} encrypts with a keyring but none was given; pass "
            "keyring=Keyring.from_env() (or from_file) to from_spec"
        )
    return keyring
