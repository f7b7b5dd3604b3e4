"""Who may use the codec server: nobody checked (loopback only), static bearer tokens, or JWTs
verified against a JWKS. Each raises :class:`AuthError` with a status and a one-line reason that
never repeats the credential it was given."""

from __future__ import annotations

import hmac
import json
import os
import stat
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jwt


class Refusal(Exception):
    """A request the server answers with ``status`` and the one-line ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class AuthError(Refusal):
    """401 when no valid credential came, 403 when it is valid but not for this namespace."""


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(401, "missing bearer token: send Authorization: Bearer <token>")
    return token.strip()


class Authenticator(ABC):
    """Checks one request's ``Authorization`` header for a namespace (``None``: no namespace,
    such as ``/metrics``)."""

    name: str

    @abstractmethod
    def check(self, authorization: str | None, namespace: str | None) -> None:
        """Return when allowed; raise :class:`AuthError` otherwise."""


class NoAuth(Authenticator):
    """Every request is allowed. The command line accepts it only on a loopback address."""

    name = "none"

    def check(self, authorization: str | None, namespace: str | None) -> None:
        return None


class StaticTokens(Authenticator):
    """Bearer tokens from a fixed set, compared in constant time against every token (so the
    time taken says nothing about which token, or how much of one, matched)."""

    name = "token"

    def __init__(self, tokens: Iterable[str]) -> None:
        self._tokens = [t.encode() for t in tokens if t]
        if not self._tokens:
            raise ValueError("token auth needs at least one token")

    @classmethod
    def from_env(cls, var: str = "PAYLOAD_CODEC_SERVER_TOKENS") -> StaticTokens:
        """Comma-separated tokens from the environment."""
        text = os.environ.get(var, "")
        tokens = [t.strip() for t in text.split(",") if t.strip()]
        if not tokens:
            raise ValueError(f"environment variable {var} is empty or unset; set it to TOKEN[,...]")
        return cls(tokens)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> StaticTokens:
        """One token per line; like a keyring file, refused when other users can read it."""
        name = os.fspath(path)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise ValueError(f"cannot read token file {name!r}: {error.strerror}") from None
        if mode & 0o077:
            raise ValueError(
                f"token file {name!r} can be read by other users (mode {mode:04o}); chmod 600 it"
            )
        tokens = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        if not tokens:
            raise ValueError(f"token file {name!r} holds no token")
        return cls(tokens)

    def check(self, authorization: str | None, namespace: str | None) -> None:
        given = _bearer(authorization).encode()
        matched = False
        for token in self._tokens:
            matched |= hmac.compare_digest(given, token)
        if not matched:
            raise AuthError(401, "bearer token not accepted")


class JwtVerifier(Authenticator):
    """Access tokens as JWTs signed by a key in a JWKS (PyJWT verifies them): signature, expiry,
    issuer and audience; with ``namespace_claim``, the claim must list the namespace asked for
    (a string or a list of strings)."""

    name = "jwt"
    ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA")

    def __init__(
        self,
        jwks: Mapping[str, Any] | str,
        *,
        issuer: str,
        audience: str,
        namespace_claim: str | None = None,
        leeway: float = 30.0,
    ) -> None:
        """``jwks``: the JWKS document, or the URL to fetch it from (cached by PyJWT)."""
        if isinstance(jwks, str):
            self._client: jwt.PyJWKClient | None = jwt.PyJWKClient(jwks, cache_keys=True)
            self._keys: jwt.PyJWKSet | None = None
        else:
            self._client = None
            self._keys = jwt.PyJWKSet.from_dict(dict(jwks))
        self.issuer = issuer
        self.audience = audience
        self.namespace_claim = namespace_claim
        self.leeway = leeway

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **options: Any) -> JwtVerifier:
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ValueError(f"cannot read a JWKS from {os.fspath(path)!r}") from None
        return cls(document, **options)

    def _key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise jwt.InvalidKeyError("no key in the JWKS has the token's key id")

    def check(self, authorization: str | None, namespace: str | None) -> None:
        token = _bearer(authorization)
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=list(self.ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (jwt.PyJWTError, ValueError) as error:
            # PyJWT's messages name the failed check (expired, audience...), not the token.
            raise AuthError(401, f"access token not accepted: {error}") from None
        if self.namespace_claim and namespace is not None:
            allowed = claims.get(self.namespace_claim)
            names = [allowed] if isinstance(allowed, str) else allowed or []
            if namespace not in names:
                raise AuthError(403, f"the access token does not grant namespace {namespace!r}")
