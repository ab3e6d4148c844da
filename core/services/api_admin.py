"""What admins (and people, for their own data) read and change over the API: the user
directory, ledgers, messages, and idempotent credit grants. Admin rights come from our
own roles (``AdminService.require_admin``), which also logs every refusal."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from core.errors import BadArgument, UnknownUser
from core.money import PriceError, to_micro
from core.ports_api import ApiUnitOfWorkFactory, GrantRecord, UserEntry
from core.services.admin import AdminService
from core.services.api_auth import Principal
from core.services.api_errors import IdempotencyConflict, NotFound
from core.services.requests import new_request_id
from core.types import Exchange, LedgerEntry, LedgerKind, Role

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GrantResult:
    record: GrantRecord
    replayed: bool


class ApiAdminService:
    def __init__(self, uow: ApiUnitOfWorkFactory, admin: AdminService) -> None:
        self._uow = uow
        self._admin = admin

    async def users(
        self, principal: Principal, query: str | None, offset: int, limit: int
    ) -> tuple[list[UserEntry], int]:
        await self._admin.require_admin(principal.caller, "users")
        async with self._uow() as uow:
            return await uow.directory.search(query, offset, limit)

    async def user(self, principal: Principal, account_id: int) -> UserEntry:
        await self._admin.require_admin(principal.caller, "user")
        return await self._entry(account_id)

    async def change_user(
        self, principal: Principal, account_id: int, role: Role | None, banned: bool | None
    ) -> UserEntry:
        ref = f"#{account_id}"
        await self._admin.require_admin(principal.caller, "user")
        await self._entry(account_id)
        if role is not None:
            await self._admin.set_role(principal.caller, ref, role.value)
        if banned is not None:
            await self._admin.set_banned(principal.caller, ref, banned)
        return await self._entry(account_id)

    async def ledger(self, principal: Principal, account_id: int, limit: int) -> list[LedgerEntry]:
        await self._admin.require_admin(principal.caller, "ledger")
        await self._entry(account_id)
        async with self._uow() as uow:
            return await uow.ledger.entries(account_id, limit)

    async def messages(
        self, principal: Principal, account_id: int | None, limit: int
    ) -> list[Exchange]:
        if account_id is not None and account_id != principal.account.id:
            await self._admin.require_admin(principal.caller, "messages")
            await self._entry(account_id)
        async with self._uow() as uow:
            return await uow.conversations.history(account_id or principal.account.id, limit)

    async def message(self, principal: Principal, request_id: str) -> tuple[int, Exchange]:
        async with self._uow() as uow:
            found = await uow.directory.exchange(request_id)
        if found is None:
            raise NotFound()
        if found[0] != principal.account.id:
            await self._admin.require_admin(principal.caller, "message")
        return found

    async def grant(
        self,
        principal: Principal,
        account_id: int,
        amount: str,
        reason: str | None,
        idempotency: tuple[str, str] | None,
    ) -> GrantResult:
        """``idempotency`` is (key, hash of the request): a repeat of the key answers the
        first result; the same key with another request is refused."""
        actor = await self._admin.require_admin(principal.caller, "grant")
        try:
            micro = to_micro(amount)
        except PriceError as exc:
            raise BadArgument(detail=str(exc)) from exc
        if micro == 0 or abs(micro) > 10**15:
            raise BadArgument(detail="amount must be non-zero and at most 1e9 credits")
        key, request_hash = idempotency if idempotency is not None else (None, "")
        async with self._uow() as uow:
            if key is not None and (first := await uow.idempotency.get(actor.id, key)):
                return _replay(first, request_hash)
            if await uow.accounts.get(account_id) is None:
                raise UnknownUser(user=f"#{account_id}")
            # The ledger's unique (request id, kind) makes a concurrent twin wait for this
            # transaction and then write nothing.
            tag = f"grant:{actor.id}:{key}" if key is not None else f"grant:{new_request_id()}"
            entry = LedgerEntry(account_id, micro, LedgerKind.GRANT, tag[:100], actor.id, reason)
            written = await uow.ledger.append(entry)
            if written:
                balance = await uow.accounts.add_to_balance(account_id, micro)
                now = datetime.now(UTC)
                record = GrantRecord(request_hash, account_id, micro, balance, reason, now)
                if key is not None:
                    await uow.idempotency.put(actor.id, key, record)
                await uow.commit()
        if not written:
            assert key is not None
            return await self._replay_committed(actor.id, (key, request_hash))
        logger.info("admin %s granted %s to account %s over the API", actor.id, micro, account_id)
        return GrantResult(record, replayed=False)

    async def _replay_committed(self, actor_id: int, idempotency: tuple[str, str]) -> GrantResult:
        async with self._uow() as uow:
            first = await uow.idempotency.get(actor_id, idempotency[0])
        if first is None:
            raise IdempotencyConflict()
        return _replay(first, idempotency[1])

    async def _entry(self, account_id: int) -> UserEntry:
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
            if account is None:
                raise UnknownUser(user=f"#{account_id}")
            return UserEntry(account, await uow.accounts.identities(account_id))


def _replay(first: GrantRecord, request_hash: str) -> GrantResult:
    if first.request_hash != request_hash:
        raise IdempotencyConflict()
    return GrantResult(first, replayed=True)
