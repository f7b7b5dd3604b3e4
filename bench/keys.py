"""Which AES keys a command uses: the one choice, made here, for runs, workers and imports.

Keys come from ``--keys-file`` or ``PAYLOAD_CODEC_KEYS``; a run with neither makes a fresh random
key (encryption costs the same whatever the key) and hands it to its own worker process through
the environment, never through a file, a log or a result.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from payload_codecs import KEY_SIZE, Keyring

KEYS_ENV = "PAYLOAD_CODEC_KEYS"
ACTIVE_ENV = "PAYLOAD_CODEC_ACTIVE_KEY"
RUN_KEY_ID = "bench"


def user_keyring(keys_file: Path | None = None) -> Keyring | None:
    """The keys the user gave (``keys_file``, else the environment), or ``None``."""
    if keys_file is not None:
        return Keyring.from_file(keys_file)
    if os.environ.get(KEYS_ENV, "").strip():
        return Keyring.from_env()
    return None


def run_keyring() -> tuple[Keyring, dict[str, str]]:
    """A run's keyring and the environment that gives its worker processes the same keys: the
    user's keys when set (so that workers on other machines can join), else a fresh one."""
    given = user_keyring()
    if given is not None:
        env = {name: os.environ[name] for name in (KEYS_ENV, ACTIVE_ENV) if name in os.environ}
        return given, env
    key = secrets.token_bytes(KEY_SIZE)
    env = {KEYS_ENV: f"{RUN_KEY_ID}={base64.b64encode(key).decode()}"}
    return Keyring({RUN_KEY_ID: key}, RUN_KEY_ID), env
