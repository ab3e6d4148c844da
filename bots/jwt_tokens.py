"""The token codec of signing in over HTTP (PyJWT): HS256 only, and ``exp``, ``iat``, ``sub``, ``aud``, ``iss``,
the token type and the account's security version all required."""

from __future__ import annotations

import time

import jwt

from core.ports import InvalidToken, TokenClaims, TokenType

ALGORITHM = "HS256"
ISSUER = "switchboard"
AUDIENCE = "switchboard-api"
MIN_SECRET_BYTES = 32
_REQUIRED = ["exp", "iat", "sub", "aud", "iss", "typ", "sv", "jti"]


class WeakSecret(ValueError):
    pass


class JwtCodec:
    def __init__(self, secret: str, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise WeakSecret(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._issuer = issuer
        self._audience = audience

    def encode(self, claims: TokenClaims, ttl_s: int) -> str:
        now = int(time.time())
        payload: dict[str, object] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": claims.subject,
            "typ": claims.token_type.value,
            "sv": claims.version,
            "jti": claims.token_id,
            "iat": now,
            "exp": now + ttl_s,
        }
        if claims.family_id is not None:
            payload["fam"] = claims.family_id
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": _REQUIRED, "verify_iat": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from None
        kind, version, subject = payload.get("typ"), payload.get("sv"), payload.get("sub")
        if kind != expected.value:
            raise InvalidToken(f"token type {kind!r}, wanted {expected.value}")
        if not isinstance(version, int) or not isinstance(subject, str):
            raise InvalidToken("malformed claims")
        family = payload.get("fam")
        return TokenClaims(
            subject=subject,
            token_type=expected,
            version=version,
            token_id=str(payload["jti"]),
            family_id=family if isinstance(family, str) else None,
        )
