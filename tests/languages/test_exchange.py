"""Payloads cross languages both ways, byte for byte: every spec we write is read by a Go and a
Node codec written as their teams would, and everything those write is read by every
implementation of ours, from the empty payload to 5 MiB."""

from __future__ import annotations

from pathlib import Path

import pytest

from payload_codecs import Dictionaries
from tests.languages.peers import OUR_SPECS, PEER_SPECS, Peer, peers_read_ours, we_read_the_peers

pytestmark = pytest.mark.languages


@pytest.mark.parametrize("spec", OUR_SPECS)
def test_the_peer_reads_every_payload_we_write(
    peer: Peer, spec: str, tmp_path: Path, shared_dictionary: tuple[Dictionaries, Path]
) -> None:
    assert peers_read_ours(peer, spec, tmp_path, shared_dictionary) == []


@pytest.mark.parametrize("written", sorted(PEER_SPECS))
def test_we_read_every_payload_the_peer_writes(
    peer: Peer, written: str, tmp_path: Path, shared_dictionary: tuple[Dictionaries, Path]
) -> None:
    assert we_read_the_peers(peer, written, tmp_path, shared_dictionary) == []
