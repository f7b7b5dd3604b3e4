"""zstd dictionaries: the spec form, round trips through every chain, old and new dictionaries
side by side, unknown ids, other zstd readers, training limits and the folder format."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest
import zstandard
from temporalio.api.common.v1 import Payload

from payload_codecs import (
    DICTIONARIES_ENV,
    Dictionaries,
    Keyring,
    PayloadDecodeError,
    from_spec,
    save_dictionary,
    serialize,
    train_dictionary,
)
from tests.codecs.helpers import decode, encode, json_payload, run_tool

KEYRING = Keyring.from_mapping({"k": base64.b64encode(bytes(32)).decode()})


def _orders(seed: int, count: int = 200) -> list[Payload]:
    """Small JSON payloads alike in shape, different in values: what dictionaries are for."""
    rng = random.Random(seed)
    return [
        json_payload(
            json.dumps(
                {
                    "order_id": f"ord-{rng.randrange(10**8):08d}",
                    "customer": {"id": rng.randrange(10**6), "tier": rng.choice("abc")},
                    "items": [{"sku": f"SKU-{rng.randrange(999)}", "qty": rng.randrange(9)}],
                    "status": rng.choice(["created", "paid", "shipped"]),
                }
            ).encode()
        )
        for _ in range(count)
    ]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two dictionaries, a and b, trained on different seeds."""
    out = tmp_path_factory.mktemp("dicts")
    for name, seed in (("a", 1), ("b", 2)):
        trained = train_dictionary([serialize(p) for p in _orders(seed)], 4096, 3)
        save_dictionary(trained, out, name, {"test": True})
    return out


@pytest.fixture(scope="module")
def dictionaries(folder: Path) -> Dictionaries:
    return Dictionaries.from_dir(folder)


@pytest.mark.parametrize("spec", ["zstd:3:dict=a", "zstd:3:dict=a+aes256gcm", "zstd:-5:dict=b"])
def test_every_chain_round_trips_with_a_dictionary(spec: str, dictionaries: Dictionaries) -> None:
    codec = from_spec(spec, keyring=KEYRING, dictionaries=dictionaries)
    payloads = _orders(3, 50)
    encoded = encode(codec, payloads)
    assert decode(codec, encoded) == payloads
    assert str(codec.spec).startswith(spec.split("+", maxsplit=1)[0].split("@", maxsplit=1)[0])


def test_a_dictionary_saves_bytes_on_small_payloads_it_was_not_trained_on(
    dictionaries: Dictionaries,
) -> None:
    payloads = _orders(4, 100)
    alone = sum(p.ByteSize() for p in encode(from_spec("zstd:3"), payloads))
    with_dict = encode(from_spec("zstd:3:dict=a", dictionaries=dictionaries), payloads)
    assert sum(p.ByteSize() for p in with_dict) < alone


def test_history_written_with_a_still_decodes_after_switching_to_b(
    dictionaries: Dictionaries,
) -> None:
    old = encode(from_spec("zstd:3:dict=a", dictionaries=dictionaries), _orders(5, 20))
    switched = from_spec("zstd:3:dict=b", dictionaries=dictionaries)
    new = encode(switched, _orders(6, 20))
    assert decode(switched, old) == _orders(5, 20)
    ids = {zstandard.get_frame_parameters(p.data).dict_id for p in old + new if p.data}
    assert ids == {dictionaries.named("a").id, dictionaries.named("b").id}
    # A codec without dict= that holds the set reads both too; frames without one still decode.
    reader = from_spec("zstd:3", dictionaries=dictionaries)
    plain = encode(from_spec("zstd:3"), _orders(7, 5))
    assert decode(reader, old + new + plain) == _orders(5, 20) + _orders(6, 20) + _orders(7, 5)


def test_an_unknown_dictionary_id_is_an_error_naming_it(
    folder: Path, dictionaries: Dictionaries
) -> None:
    encoded = encode(from_spec("zstd:3:dict=b", dictionaries=dictionaries), _orders(8, 1))
    only_a = Dictionaries([dictionaries.named("a")])
    wanted = dictionaries.named("b").id
    for reader in (from_spec("zstd:3", dictionaries=only_a), from_spec("zstd:3")):
        with pytest.raises(PayloadDecodeError, match=f"dictionary id {wanted}"):
            decode(reader, encoded)


def test_the_zstd_command_line_tool_reads_and_writes_with_the_same_file(
    folder: Path, dictionaries: Dictionaries, tmp_path: Path
) -> None:
    [payload] = _orders(9, 1)
    [ours] = encode(from_spec("zstd:3:dict=a", dictionaries=dictionaries), [payload])
    zdict = str(folder / "a.zdict")
    out = run_tool("zstd", "-q", "-D", zdict, "-d", "-c", data=ours.data)
    assert Payload.FromString(out) == payload
    theirs = run_tool("zstd", "-q", "-3", "-D", zdict, "-c", data=serialize(payload))
    wrapped = Payload(metadata={"encoding": b"binary/zstd"}, data=theirs)
    assert decode(from_spec("zstd:3", dictionaries=dictionaries), [wrapped]) == [payload]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("zstd:3:dict=a@cramjam", "cannot use a dictionary"),
        ("snappy:dict=a", "cannot use a dictionary"),
        ("zstd:3:dict=", "write dict=NAME"),
        ("zstd:3:dict=a:dict=b", "more than one dictionary"),
        ("zstd:3:fast", "write a stage as"),
    ],
)
def test_bad_dictionary_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_spec(spec)


def test_a_named_dictionary_needs_the_set_and_must_be_in_it(dictionaries: Dictionaries) -> None:
    with pytest.raises(ValueError, match="no dictionaries were given"):
        from_spec("zstd:3:dict=a")
    with pytest.raises(ValueError, match="no zstd dictionary named 'c'; this set has: a, b"):
        from_spec("zstd:3:dict=c", dictionaries=dictionaries)


def test_the_folder_is_checked_and_found_through_the_environment(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DICTIONARIES_ENV, str(folder))
    found = Dictionaries.from_env()
    assert found is not None
    assert [d.name for d in found] == ["a", "b"]
    monkeypatch.delenv(DICTIONARIES_ENV)
    assert Dictionaries.from_env() is None
    with pytest.raises(ValueError, match=r"no \.zdict files"):
        Dictionaries.from_dir(tmp_path)
    (tmp_path / "raw.zdict").write_bytes(b"just some bytes, not a trained dictionary")
    with pytest.raises(ValueError, match="no zstd dictionary id"):
        Dictionaries.from_dir(tmp_path)
    twin = tmp_path / "twin"
    twin.mkdir()
    for name in ("one", "two"):
        (twin / f"{name}.zdict").write_bytes((folder / "a.zdict").read_bytes())
    with pytest.raises(ValueError, match="share zstd id"):
        Dictionaries.from_dir(twin)


def test_training_refuses_too_few_samples_and_saving_never_replaces(
    folder: Path, dictionaries: Dictionaries
) -> None:
    with pytest.raises(ValueError, match="it needs at least 16 payloads"):
        train_dictionary([serialize(p) for p in _orders(1, 5)], 4096, 3)
    with pytest.raises(FileExistsError, match="never replaced"):
        save_dictionary(dictionaries.named("a"), folder, "a", {})
    provenance = json.loads((folder / "a.json").read_text())
    assert provenance["dict_id"] == dictionaries.named("a").id
    assert provenance["test"] is True


def test_compression_keeps_a_payload_its_envelope_would_make_larger() -> None:
    tiny = json_payload(b'"x1"')
    assert encode(from_spec("zstd:3"), [tiny]) == [tiny]
