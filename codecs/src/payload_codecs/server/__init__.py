"""A codec server for the Temporal Web UI and CLI, serving the library's codecs with the same
specs, keyring and limits as the workers (extra ``payload-codecs[server]``).

As a command::

    PAYLOAD_CODEC_KEYS=... payload-codec-server --spec zstd:3+aes256gcm --ui dev-ui

Or mounted into an existing Starlette or FastAPI service::

    from payload_codecs import Keyring, from_spec
    from payload_codecs.server import ServerConfig, StaticTokens, create_app

    codec = from_spec("zstd:3+aes256gcm", keyring=Keyring.from_env())
    app.mount("/codec", create_app(ServerConfig({"*": codec}, auth=StaticTokens.from_env())))
"""

from payload_codecs.server._app import ANY_NAMESPACE, Limits, ServerConfig, create_app
from payload_codecs.server._auth import (
    Authenticator,
    AuthError,
    JwtVerifier,
    NoAuth,
    StaticTokens,
)

__all__ = [
    "ANY_NAMESPACE",
    "AuthError",
    "Authenticator",
    "JwtVerifier",
    "Limits",
    "NoAuth",
    "ServerConfig",
    "StaticTokens",
    "create_app",
]
