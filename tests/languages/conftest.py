"""Fixtures of the cross-language tests: the peers, built once per session, and the shared
dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from payload_codecs import Dictionaries
from tests.languages.peers import Peer, dictionaries, go_peer, node_peer


@pytest.fixture(scope="session")
def shared_dictionary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dictionaries, Path]:
    return dictionaries(tmp_path_factory.mktemp("dictionaries"))


@pytest.fixture(scope="session", params=["Go", "Node"])
def peer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Peer:
    if request.param == "Go":
        return go_peer(tmp_path_factory.mktemp("go"))
    return node_peer()
