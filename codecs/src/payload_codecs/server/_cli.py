"""``payload-codec-server``: the library's codec server behind uvicorn, secure by default.

It listens on loopback unless told otherwise, and refuses a non-loopback address without TLS
and auth unless ``--insecure`` says that something in front of it (a mesh, an ingress) provides
them. Bad options are one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.converter import PayloadCodec

from payload_codecs._dictionaries import Dictionaries
from payload_codecs._keyring import Keyring
from payload_codecs._spec import from_spec, needs_keyring
from payload_codecs._stages import MAX_DECODED_SIZE, CodecOptions
from payload_codecs.server._app import ANY_NAMESPACE, Limits, ServerConfig, create_app
from payload_codecs.server._auth import Authenticator, JwtVerifier, NoAuth, StaticTokens

if TYPE_CHECKING:
    from starlette.types import ASGIApp
    from temporalio.converter import ExternalStorage

ORIGIN_PRESETS = {
    "temporal-cloud": ("https://cloud.temporal.io",),
    "dev-ui": ("http://localhost:8233", "http://127.0.0.1:8233"),
}
"""``--ui`` presets: Temporal Cloud's Web UI, and the UI of ``temporal server start-dev`` on its
default port (pass ``--origin`` for another port)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payload-codec-server",
        description="Serve payload codecs to the Temporal Web UI and CLI (the codec server "
        "protocol: POST <prefix>/decode and <prefix>/encode).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        # No abbreviations: a prefix of one option must never pass for another, least of all
        # where a value is a credential.
        allow_abbrev=False,
    )
    _what_to_serve(parser.add_argument_group("what to serve"))
    _network(parser.add_argument_group("network"))
    _access(parser)
    return parser


def _what_to_serve(what: argparse._ArgumentGroup) -> None:
    what.add_argument("--spec", help="codec spec for every namespace, e.g. zstd:3+aes256gcm")
    what.add_argument(
        "--keyring",
        type=Path,
        help="keyring JSON file (mode 600); default: PAYLOAD_CODEC_KEYS from the environment",
    )
    what.add_argument(
        "--config",
        type=Path,
        help="TOML file: [namespaces.NAME] spec = ..., keyring = FILE or keys_env = VAR "
        '(NAME "*" serves any other namespace); instead of --spec',
    )
    what.add_argument("--no-encode", action="store_true", help="serve /decode only")
    what.add_argument(
        "--dictionaries",
        type=Path,
        help="folder of zstd dictionaries (NAME.zdict) the workers use; default: "
        "PAYLOAD_CODEC_DICTIONARIES",
    )
    what.add_argument(
        "--s3-bucket",
        help="serve /download: payloads the SDK's external storage offloaded to this bucket "
        "(credentials from the AWS environment; extra payload-codecs[storage])",
    )
    what.add_argument("--s3-endpoint", help="an S3 API other than AWS's, for --s3-bucket")


def _network(net: argparse._ArgumentGroup) -> None:
    net.add_argument("--host", default="127.0.0.1", help="address to listen on")
    net.add_argument("--port", type=int, default=8081, help="port to listen on")
    net.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (uvicorn's process model); every limit, the "
        "metrics and the threads are per process",
    )
    net.add_argument("--ssl-certfile", type=Path, help="TLS certificate (PEM)")
    net.add_argument("--ssl-keyfile", type=Path, help="TLS private key (PEM)")
    net.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback address without TLS or without auth (something in front "
        "provides them)",
    )


def _access(parser: argparse.ArgumentParser) -> None:
    """Who may ask (CORS, auth) and how much one request may hold."""
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="no JSON line per request on stderr (errors are still logged)",
    )
    cors = parser.add_argument_group("browsers (CORS)")
    cors.add_argument(
        "--origin", action="append", default=[], help="allowed Web UI origin, exact (repeat)"
    )
    cors.add_argument(
        "--ui", action="append", default=[], choices=sorted(ORIGIN_PRESETS), help="origin preset"
    )
    cors.add_argument(
        "--allow-credentials",
        action="store_true",
        help="answer credentialed requests (the UI's 'include cross-origin credentials')",
    )
    auth = parser.add_argument_group("auth")
    auth.add_argument("--auth", choices=("none", "token", "jwt"), default="none")
    auth.add_argument(
        "--token-file",
        type=Path,
        help="bearer tokens, one per line (mode 600); default: PAYLOAD_CODEC_SERVER_TOKENS",
    )
    auth.add_argument("--jwks", help="JWKS URL or file for --auth jwt")
    auth.add_argument("--issuer", help="required iss claim (--auth jwt)")
    auth.add_argument("--audience", help="required aud claim (--auth jwt)")
    auth.add_argument(
        "--namespace-claim", help="claim listing the namespaces a token may read (--auth jwt)"
    )
    limits = parser.add_argument_group("limits")
    defaults = Limits()
    for field, help in _LIMITS.items():
        flag = "--" + field.replace("_", "-")
        limits.add_argument(flag, type=int, default=getattr(defaults, field), help=help)
    limits.add_argument(
        "--max-decoded-bytes",
        type=int,
        default=MAX_DECODED_SIZE,
        help="most bytes one payload may decode to",
    )


_LIMITS = {
    "max_body_bytes": "largest request body",
    "max_payloads": "most payloads in one request",
    "max_stored_bytes": "largest offloaded payload /download fetches",
    "max_request_decoded_bytes": "most bytes the payloads of one request may decode to in all",
    "max_concurrent_requests": "codec requests in progress at once; more get 503, Retry-After",
    "threads": "threads that decode and encode, off the event loop (up to 4, one per CPU)",
}
"""The server's ``Limits`` that are options, by field: ``--max-body-bytes`` and so on."""


def _keyring(path: Path | None, env: str = "PAYLOAD_CODEC_KEYS") -> Keyring:
    return Keyring.from_file(path) if path else Keyring.from_env(env)


def codecs_from(args: argparse.Namespace) -> dict[str, PayloadCodec]:
    """Namespace -> codec from ``--spec`` or ``--config``."""
    options = CodecOptions(max_decoded_size=args.max_decoded_bytes)
    dictionaries = (
        Dictionaries.from_dir(args.dictionaries) if args.dictionaries else Dictionaries.from_env()
    )
    if (args.spec is None) == (args.config is None):
        raise ValueError("give exactly one of --spec and --config")
    if args.spec is not None:
        keys = _keyring(args.keyring) if needs_keyring(args.spec) else None
        return {
            ANY_NAMESPACE: from_spec(
                args.spec, keyring=keys, options=options, dictionaries=dictionaries
            )
        }
    try:
        document: dict[str, Any] = tomllib.loads(args.config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"cannot read config {str(args.config)!r}: {error}") from None
    namespaces = document.get("namespaces")
    if not isinstance(namespaces, dict) or not namespaces:
        raise ValueError(f"config {str(args.config)!r} has no [namespaces.NAME] table")
    out: dict[str, PayloadCodec] = {}
    for name, table in namespaces.items():
        if not isinstance(table, dict) or not isinstance(table.get("spec"), str):
            raise ValueError(f'config: [namespaces.{name}] needs spec = "..."')
        spec = table["spec"]
        keys = None
        if needs_keyring(spec):
            file = table.get("keyring")
            keys = _keyring(
                Path(file) if file else None, table.get("keys_env", "PAYLOAD_CODEC_KEYS")
            )
        out[name] = from_spec(spec, keyring=keys, options=options, dictionaries=dictionaries)
    return out


def _authenticator(args: argparse.Namespace) -> Authenticator:
    if args.auth == "token":
        return (
            StaticTokens.from_file(args.token_file) if args.token_file else StaticTokens.from_env()
        )
    if args.auth == "jwt":
        if not (args.jwks and args.issuer and args.audience):
            raise ValueError("--auth jwt needs --jwks, --issuer and --audience")
        options = {"issuer": args.issuer, "audience": args.audience}
        options["namespace_claim"] = args.namespace_claim
        if args.jwks.startswith(("https://", "http://")):
            return JwtVerifier(args.jwks, **options)
        return JwtVerifier.from_file(args.jwks, **options)
    return NoAuth()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config_from(args: argparse.Namespace) -> ServerConfig:
    """The server's configuration from parsed options; ``ValueError`` for a bad one."""
    tls = args.ssl_certfile is not None
    if tls != (args.ssl_keyfile is not None):
        raise ValueError("give both --ssl-certfile and --ssl-keyfile, or neither")
    if not _loopback(args.host) and not args.insecure:
        if args.auth == "none":
            raise ValueError(
                f"refusing to serve {args.host} without auth: use --auth token or jwt, or "
                "--insecure if something in front authenticates"
            )
        if not tls:
            raise ValueError(
                f"refusing to serve {args.host} without TLS: give --ssl-certfile and "
                "--ssl-keyfile, or --insecure if something in front terminates TLS"
            )
    origins = [*args.origin, *(o for preset in args.ui for o in ORIGIN_PRESETS[preset])]
    for origin in origins:
        if origin == "*" or not origin.startswith(("http://", "https://")):
            raise ValueError(f"--origin {origin!r}: give an exact origin such as https://host")
    return ServerConfig(
        codecs=codecs_from(args),
        origins=tuple(dict.fromkeys(o.rstrip("/") for o in origins)),
        allow_credentials=args.allow_credentials,
        auth=_authenticator(args),
        encode=not args.no_encode,
        limits=Limits(**{field: getattr(args, field) for field in _LIMITS}),
        storage=_storage(args),
    )


def _storage(args: argparse.Namespace) -> ExternalStorage | None:
    if args.s3_bucket is None:
        return None
    try:
        from payload_codecs.server._s3 import s3_storage
    except ImportError as error:
        raise ValueError(
            f"--s3-bucket needs the storage extra: pip install 'payload-codecs[storage]' ({error})"
        ) from None
    return s3_storage(args.s3_endpoint, args.s3_bucket)


ARGV_ENV = "PAYLOAD_CODEC_SERVER_ARGV"
"""How ``--workers`` hands the command line to the processes uvicorn starts: each builds its own
app (its own threads, limits and metrics) from the same arguments."""


def app_from_environment() -> ASGIApp:
    """The app of one worker process (uvicorn's factory), from the parent's arguments."""
    args = _parser().parse_args(json.loads(os.environ[ARGV_ENV]))
    _logging(args)
    return create_app(config_from(args))


def _logging(args: argparse.Namespace) -> None:
    level = logging.WARNING if args.no_access_log else logging.INFO
    logging.basicConfig(level=level, format="%(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    try:
        config = config_from(args)
        if args.workers < 1:
            raise ValueError(f"--workers {args.workers}: give 1 or more")
    except ValueError as error:
        print(f"payload-codec-server: {error}", file=sys.stderr)
        return 2
    import uvicorn

    _logging(args)
    scheme = "https" if args.ssl_certfile else "http"
    served = ", ".join(sorted(config.codecs))
    print(
        f"payload-codec-server: {scheme}://{args.host}:{args.port} namespaces {served}, auth "
        f"{config.auth.name}, origins {', '.join(config.origins) or 'none'}",
        file=sys.stderr,
        flush=True,
    )
    network = {
        "host": args.host,
        "port": args.port,
        "ssl_certfile": args.ssl_certfile,
        "ssl_keyfile": args.ssl_keyfile,
        "log_level": "warning",
        "access_log": False,  # the app logs each request as one JSON line, without payloads
    }
    if args.workers == 1:
        uvicorn.run(create_app(config), **network)
    else:
        os.environ[ARGV_ENV] = json.dumps(argv)
        uvicorn.run(
            "payload_codecs.server._cli:app_from_environment",
            factory=True,
            workers=args.workers,
            **network,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
