"""Signing in over HTTP: register, log in (with limits), rotating refresh tokens, log out,
and turning a bearer token or API key into a caller.

A refresh token works once; presenting a used one revokes its whole family (someone has
a copy). Every token carries the account's security version, which logout, password or
username change, role change and ban move on."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.errors import (
    BadArgument,
    Banned,
    InvalidCredentials,
    TooManyLogins,
    Unauthenticated,
    UsernameTaken,
)
from core.ports import (
    Credential,
    InvalidToken,
    LoginLimiter,
    TokenClaims,
    TokenCodec,
    TokenType,
    UnitOfWork,
    UnitOfWorkFactory,
)
from core.services.accounts import AccountService
from core.services.passwords import ScryptHasher
from core.services.requests import Caller
from core.types import Account, IdentityKey, KeyLimits

logger = logging.getLogger(__name__)

API_PLATFORM = "api"
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 256
API_KEY_PREFIX = "sb-"


@dataclass(frozen=True, slots=True)
class AuthConfig:
    access_ttl_s: int = 900
    refresh_ttl_s: int = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated API user: who they are to the core, and their account now."""

    caller: Caller
    account: Account
    credential: Credential


def api_caller(
    username: str, key: KeyLimits | None = None, account: Account | None = None
) -> Caller:
    identity = IdentityKey(API_PLATFORM, "", username)
    return Caller(identity, display_name=username, api_key=key, account=account)


def digest(secret: str) -> str:
    """Tokens and API keys are long random strings: a plain SHA-256 is enough to store."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise BadArgument(detail="username: 3-32 letters, digits, '_', '.', '-'")
    return username


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadArgument(detail=f"password: {MIN_PASSWORD}-{MAX_PASSWORD} characters")
    return password


class AuthService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        accounts: AccountService,
        codec: TokenCodec | None,
        limiter: LoginLimiter,
        hasher: ScryptHasher,
        config: AuthConfig,
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._codec = codec
        self._limiter = limiter
        self._hasher = hasher
        self._config = config

    async def register(self, username: str, password: str, invite: str | None = None) -> Principal:
        """``invite``: a code that admits a newcomer to a closed bot (core.services.access)."""
        check_username(username)
        hashed = await self._hasher.hash(check_password(password))
        async with self._uow() as uow:
            if await uow.credentials.get(username) is not None:
                raise UsernameTaken()
        caller = api_caller(username)
        # Welcome credits, bootstrap admins, and the access rules (closed: an invitation).
        account = await self._accounts.resolve(caller, invite=invite)
        async with self._uow() as uow:
            if not await uow.credentials.create(username, account.id, hashed):
                raise UsernameTaken()
            await uow.commit()
            credential = await uow.credentials.get(username)
        assert credential is not None
        logger.info("api user registered for account %s", account.id)
        return Principal(caller, account, credential)

    async def login(self, username: str, password: str, address: str) -> TokenPair:
        keys = [f"user:{username.casefold()}", f"addr:{address}"]
        wait = await self._limiter.retry_after(keys)
        if wait is not None:
            raise TooManyLogins(retry_after=max(1, int(wait + 0.999)))
        async with self._uow() as uow:
            credential = await uow.credentials.get(username)
        stored = credential.password_hash if credential is not None else None
        if credential is None or not await self._hasher.verify(password, stored):
            await self._limiter.failed(keys)
            logger.info("failed api login from %s", address)
            raise InvalidCredentials()
        account = await self._accounts.resolve(api_caller(username))
        if account.banned:
            raise Banned()
        async with self._uow() as uow:
            pair = await self._issue(uow, username, account.id, secrets.token_hex(16))
            await uow.commit()
        return pair

    async def refresh(self, token: str) -> TokenPair:
        claims = self._decode(token, TokenType.REFRESH)
        async with self._uow() as uow:
            record = await uow.refresh_tokens.get(digest(token))
            if record is None or record.username != claims.subject:
                raise Unauthenticated()
            if record.used or record.revoked:
                await uow.refresh_tokens.revoke_family(record.family_id)
                await uow.commit()
                logger.warning("refresh token reused: family revoked")
                raise Unauthenticated()
            if record.expires_at <= datetime.now(UTC) or not await uow.refresh_tokens.mark_used(
                record.token_hash
            ):
                raise Unauthenticated()
            account = await self._current(uow, claims)
            pair = await self._issue(uow, claims.subject, account.id, record.family_id)
            await uow.commit()
        return pair

    async def logout(self, principal: Principal) -> None:
        """Everywhere: every refresh token and every access token issued so far."""
        async with self._uow() as uow:
            await uow.refresh_tokens.revoke_user(principal.credential.username)
            await uow.security.bump(principal.account.id)
            await uow.commit()

    async def authenticate(self, bearer: str) -> Principal:
        if bearer.startswith(API_KEY_PREFIX):
            return await self._by_key(bearer)
        claims = self._decode(bearer, TokenType.ACCESS)
        # Every API request passes here: one joined SELECT, without BEGIN and COMMIT where
        # the database allows. Nothing is cached, so a logout, ban or role change (each
        # bumps the security version) holds from the very next request.
        async with self._uow(atomic=False) as uow:
            found = await uow.credentials.find_principal(claims.subject)
        if found is None or found.security_version != claims.version:
            raise Unauthenticated()
        caller = api_caller(found.credential.username, account=found.account)
        return Principal(caller, found.account, found.credential)

    async def _by_key(self, key: str) -> Principal:
        # One joined SELECT, read afresh on every request: a revoked key or a changed
        # limit holds from the very next one.
        async with self._uow(atomic=False) as uow:
            found = await uow.api_keys.find_principal(digest(key))
        if found is None or found.key.limits.expired(datetime.now(UTC)):
            raise Unauthenticated()
        caller = api_caller(found.credential.username, found.key.limits, found.account)
        return Principal(caller, found.account, found.credential)

    def _decode(self, token: str, expected: TokenType) -> TokenClaims:
        try:
            return self._signer().decode(token, expected)
        except InvalidToken as exc:
            logger.info("refused a %s token: %s", expected.value, exc)
            raise Unauthenticated() from None

    async def _current(self, uow: UnitOfWork, claims: TokenClaims) -> Account:
        account = await uow.accounts.find_by_identity(api_caller(claims.subject).identity)
        if account is None or await uow.security.version(account.id) != claims.version:
            raise Unauthenticated()
        return account

    async def _issue(
        self, uow: UnitOfWork, username: str, account_id: int, family: str
    ) -> TokenPair:
        version = await uow.security.version(account_id)
        access = TokenClaims(username, TokenType.ACCESS, version, secrets.token_hex(8))
        refresh = TokenClaims(
            username, TokenType.REFRESH, version, secrets.token_hex(16), family_id=family
        )
        ttl = self._config.refresh_ttl_s
        refresh_token = self._signer().encode(refresh, ttl)
        expires = datetime.now(UTC) + timedelta(seconds=ttl)
        await uow.refresh_tokens.add(digest(refresh_token), family, username, expires)
        access_token = self._signer().encode(access, self._config.access_ttl_s)
        return TokenPair(access_token, refresh_token, self._config.access_ttl_s)

    @property
    def signs_tokens(self) -> bool:
        """False where nobody signs in over HTTP (no usable JWT secret was configured)."""
        return self._codec is not None

    def _signer(self) -> TokenCodec:
        # Messenger-only deployments set no JWT_SECRET; the HTTP API refuses to start
        # without one, so reaching this without a codec is a wiring error.
        if self._codec is None:
            raise RuntimeError("signing in is off: JWT_SECRET is not set")
        return self._codec
