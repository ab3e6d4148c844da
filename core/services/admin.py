"""What bot admins can do, from a chat or over HTTP. Authorization comes from our own roles
only — never from a platform's group, guild or workspace admin status."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.errors import BadArgument, UnknownUser
from core.ports import UnitOfWorkFactory, UserEntry
from core.services.accounts import AccountService
from core.services.admin_directory import AdminDirectory
from core.services.auth import Principal
from core.services.events import record_event
from core.services.grants import GrantResult, Grants, Idempotency, parse_amount
from core.services.requests import Caller
from core.types import (
    Account,
    Identity,
    IdentityKey,
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


# FEATURE_MODEL is a person's own /usage breakdown; the admin report keeps its tables.
ADMIN_DIMENSIONS = tuple(d for d in StatsDimension if d is not StatsDimension.FEATURE_MODEL)


class AdminService(AdminDirectory):
    """Admin commands from a chat, and (inherited) the directory the admin console reads."""

    def __init__(self, uow: UnitOfWorkFactory, accounts: AccountService) -> None:
        super().__init__(uow, accounts)
        self._grants = Grants(uow)

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

    async def grant(
        self, caller: Caller, ref: str, amount: str, reason: str, event_id: str | None = None
    ) -> Account:
        """``/grant <user> <amount> [reason]`` from a chat; ``event_id`` (the platform's)
        makes a redelivery raise ``DuplicateEvent`` instead of granting twice."""
        actor = await self.require_admin(caller, "grant")
        micro = parse_amount(amount)
        target = await self.find(caller, ref)
        event = (caller.platform, event_id)
        await self._grants.grant(actor, target.id, micro, reason or None, event=event)
        return await self._fresh(target.id)

    async def grant_to_account(
        self,
        principal: Principal,
        account_id: int,
        amount: str,
        reason: str | None,
        idempotency: Idempotency | None,
    ) -> GrantResult:
        """A grant over HTTP, where clients retry: idempotent by key when one is given."""
        actor = await self.require_admin(principal.caller, "grant")
        micro = parse_amount(amount)
        return await self._grants.grant(actor, account_id, micro, reason, idempotency)

    async def set_role(
        self, caller: Caller, ref: str, role: str, event_id: str | None = None
    ) -> Account:
        actor = await self.require_admin(caller, "setrole")
        try:
            new_role = Role(role.strip().lower())
        except ValueError as exc:
            raise BadArgument(detail="guest | user | admin") from exc
        target = await self.find(caller, ref)
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.accounts.set_role(target.id, new_role)
            await uow.security.bump(target.id)  # tokens issued before it: refused
            await uow.commit()
        logger.info("admin %s set role of account %s to %s", actor.id, target.id, new_role)
        return await self._fresh(target.id)

    async def set_banned(
        self, caller: Caller, ref: str, banned: bool, event_id: str | None = None
    ) -> Account:
        actor = await self.require_admin(caller, "ban" if banned else "unban")
        target = await self.find(caller, ref)
        if banned and target.id == actor.id:
            raise BadArgument(detail="admins cannot ban themselves")
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.accounts.set_banned(target.id, banned)
            await uow.security.bump(target.id)  # tokens issued before it: refused
            await uow.commit()
        logger.info("admin %s set banned=%s on account %s", actor.id, banned, target.id)
        return await self._fresh(target.id)

    async def change_user(
        self, principal: Principal, account_id: int, role: Role | None, banned: bool | None
    ) -> UserEntry:
        ref = f"#{account_id}"
        await self.require_admin(principal.caller, "user")
        await self._entry(account_id)
        if role is not None:
            await self.set_role(principal.caller, ref, role.value)
        if banned is not None:
            await self.set_banned(principal.caller, ref, banned)
        return await self._entry(account_id)

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
            for dim in ADMIN_DIMENSIONS:
                today[dim] = await uow.usage.stats(midnight, dim, account_id)
                month[dim] = await uow.usage.stats(midnight - timedelta(days=29), dim, account_id)
        return StatsReport(today=today, month=month)
