"""What a person signed in over HTTP does with their own account: username, password and
language changes, erasure. (API keys: ``core.services.api_keys``.)"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.errors import BadArgument, UsernameTaken
from core.ports import UnitOfWorkFactory
from core.services.accounts import AccountService
from core.services.auth import Principal, api_caller, check_password, check_username
from core.services.passwords import ScryptHasher

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProfileChange:
    username: str | None = None
    password: str | None = None
    current_password: str | None = None
    language: str | None = None
    language_set: bool = False  # language None with this True means "auto"


class ProfileService:
    def __init__(
        self, uow: UnitOfWorkFactory, accounts: AccountService, hasher: ScryptHasher
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._hasher = hasher

    async def update(self, principal: Principal, change: ProfileChange) -> Principal:
        """Username and password changes need the current password and log out every
        session (the tokens name the old username or predate the change)."""
        secure = change.username is not None or change.password is not None
        if secure and not await self._hasher.verify(
            change.current_password or "", principal.credential.password_hash
        ):
            raise BadArgument(detail="current_password is missing or wrong")
        hashed = (
            await self._hasher.hash(check_password(change.password)) if change.password else None
        )
        username = principal.credential.username
        if change.language_set:
            await self._accounts.set_language(principal.caller, change.language)
        async with self._uow() as uow:
            if change.username is not None and change.username != username:
                if not await uow.credentials.rename(username, check_username(change.username)):
                    raise UsernameTaken()
                await uow.refresh_tokens.revoke_user(username)
                username = change.username
            if hashed is not None:
                await uow.credentials.set_password(username, hashed)
                await uow.refresh_tokens.revoke_user(username)
            if secure:
                await uow.security.bump(principal.account.id)
            await uow.commit()
            credential = await uow.credentials.get(username)
            account = await uow.accounts.get(principal.account.id)
        assert credential is not None and account is not None
        return Principal(api_caller(username), account, credential)

    async def delete(self, principal: Principal) -> None:
        """The person erases their own account and everything that is its data."""
        await self._accounts.erase(principal.account.id)


def require_text(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise BadArgument(detail=f"{what} is required")
    return value
