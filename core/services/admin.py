"""What bot admins can do from a chat. Authorization comes from our own roles only —
never from a platform's group, guild or workspace admin status."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.errors import BadArgument, NotAllowed, UnknownUser
from core.money import PriceError, to_micro
from core.ports import UnitOfWorkFactory
from core.services.accounts import AccountService
from core.services.requests import Caller, new_request_id
from core.types import (
    Account,
    Identity,
    IdentityKey,
    LedgerEntry,
    LedgerKind,
    Role,
    StatsDimension,
    StatsRow,
    UsageEvent,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    identities: list[Identity]
    recent: list[UsageEvent]


@dataclass(frozen=True, slots=True)
class StatsReport:
    """Per dimension, rows for today and for the last 30 days."""

    today: dict[StatsDimension, list[StatsRow]]
    month: dict[StatsDimension, list[StatsRow]]


class AdminService:
    def __init__(self, uow: UnitOfWorkFactory, accounts: AccountService) -> None:
        self._uow = uow
        self._accounts = accounts

    async def require_admin(self, caller: Caller, action: str) -> Account:
        account = await self._accounts.resolve(caller)
        if account.role is not Role.ADMIN or account.banned:
            logger.warning(
                "refused admin action %s for %s (account %s)", action, caller.identity, account.id
            )
            raise NotAllowed()
        return account

    async def find(self, caller: Caller, ref: str) -> Account:
        """``#42`` (account id), a platform user id on the caller's platform/workspace,
        or a name the bot has seen (``@name``)."""
        ref = ref.strip()
        async with self._uow() as uow:
            account: Account | None = None
            if ref.startswith("#") and ref[1:].isdigit():
                account = await uow.accounts.get(int(ref[1:]))
            elif ref and not ref.startswith("@"):
                key = IdentityKey(caller.platform, caller.identity.workspace, ref)
                account = await uow.accounts.find_by_identity(key)
            if account is None and ref.lstrip("@"):
                identity = await uow.accounts.find_identity_by_name(
                    caller.platform, ref.lstrip("@")
                )
                account = await uow.accounts.get(identity.account_id) if identity else None
        if account is None:
            raise UnknownUser(user=ref)
        return account

    async def grant(self, caller: Caller, ref: str, amount: str, reason: str) -> Account:
        actor = await self.require_admin(caller, "grant")
        try:
            micro = to_micro(amount)
        except PriceError as exc:
            raise BadArgument(detail=str(exc)) from exc
        if micro == 0:
            raise BadArgument(detail="amount must not be 0")
        target = await self.find(caller, ref)
        async with self._uow() as uow:
            entry = LedgerEntry(
                target.id,
                micro,
                LedgerKind.GRANT,
                f"grant:{new_request_id()}",
                actor.id,
                reason or None,
            )
            await uow.ledger.append(entry)
            await uow.accounts.add_to_balance(target.id, micro)
            await uow.commit()
            fresh = await uow.accounts.get(target.id)
        logger.info("admin %s granted %s to account %s", actor.id, micro, target.id)
        assert fresh is not None
        return fresh

    async def set_role(self, caller: Caller, ref: str, role: str) -> Account:
        actor = await self.require_admin(caller, "setrole")
        try:
            new_role = Role(role.strip().lower())
        except ValueError as exc:
            raise BadArgument(detail="guest | user | admin") from exc
        target = await self.find(caller, ref)
        async with self._uow() as uow:
            await uow.accounts.set_role(target.id, new_role)
            await uow.commit()
        logger.info("admin %s set role of account %s to %s", actor.id, target.id, new_role)
        return await self._fresh(target.id)

    async def set_banned(self, caller: Caller, ref: str, banned: bool) -> Account:
        actor = await self.require_admin(caller, "ban" if banned else "unban")
        target = await self.find(caller, ref)
        if banned and target.id == actor.id:
            raise BadArgument(detail="admins cannot ban themselves")
        async with self._uow() as uow:
            await uow.accounts.set_banned(target.id, banned)
            await uow.commit()
        logger.info("admin %s set banned=%s on account %s", actor.id, banned, target.id)
        return await self._fresh(target.id)

    async def view(self, caller: Caller, ref: str) -> AccountView:
        await self.require_admin(caller, "user")
        target = await self.find(caller, ref)
        async with self._uow() as uow:
            return AccountView(
                account=target,
                identities=await uow.accounts.identities(target.id),
                recent=await uow.usage.recent(target.id, 5),
            )

    async def stats(self, caller: Caller, account_ref: str | None = None) -> StatsReport:
        await self.require_admin(caller, "stats")
        account_id = (await self.find(caller, account_ref)).id if account_ref else None
        now = datetime.now(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        today: dict[StatsDimension, list[StatsRow]] = {}
        month: dict[StatsDimension, list[StatsRow]] = {}
        async with self._uow() as uow:
            for dim in StatsDimension:
                today[dim] = await uow.usage.stats(midnight, dim, account_id)
                month[dim] = await uow.usage.stats(midnight - timedelta(days=29), dim, account_id)
        return StatsReport(today=today, month=month)

    async def _fresh(self, account_id: int) -> Account:
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
        if account is None:
            raise UnknownUser(user=f"#{account_id}")
        return account
