"""The access commands: ``/allow``, ``/block``, ``/unlist``, ``/access``, ``/invite`` for
admins, ``/join`` (and Telegram's ``/start <code>``) for newcomers, ``/mute`` and
``/unmute announcements`` for everyone. The rules themselves are in core.services.access."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.errors import BadArgument, NotFound
from core.ports import AccessRule, Invite, UnitOfWorkFactory
from core.services.access import (
    ALLOW,
    BLOCK,
    CLOSED,
    MAX_INVITE_USES,
    MODE,
    OPEN,
    here_subject,
    new_invite_code,
    parse_subject,
)
from core.services.accounts import AccountService
from core.services.admin import AdminService
from core.services.events import record_event
from core.services.requests import Caller
from core.types import Account

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccessOverview:
    mode: str
    rules: list[AccessRule]  # the database's; the settings' lists come on top


class AccessAdmin:
    def __init__(
        self, uow: UnitOfWorkFactory, accounts: AccountService, admin: AdminService, mode: str
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._admin = admin
        self._mode = mode

    async def _subject(self, caller: Caller, ref: str) -> str:
        if not ref.strip():
            return here_subject(caller)
        subject = parse_subject(caller, ref)
        if subject is None:
            return f"#{(await self._admin.find(caller, ref)).id}"
        return subject

    async def set_rule(
        self, caller: Caller, ref: str, verdict: str, event_id: str | None = None
    ) -> str:
        """``/allow`` or ``/block``: the subject the rule was written for."""
        actor = await self._admin.require_admin(caller, verdict)
        subject = await self._subject(caller, ref)
        if subject == MODE:
            raise BadArgument(detail="/access open | closed")
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.access.set_rule(subject, verdict, actor.id)
            await uow.commit()
        logger.info("admin %s: %s %s", actor.id, verdict, subject)
        return subject

    async def unlist(self, caller: Caller, ref: str, event_id: str | None = None) -> str:
        actor = await self._admin.require_admin(caller, "unlist")
        subject = await self._subject(caller, ref)
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            if not await uow.access.remove_rule(subject):
                raise NotFound()
            await uow.commit()
        logger.info("admin %s: removed the rule for %s", actor.id, subject)
        return subject

    async def overview(
        self, caller: Caller, mode: str = "", event_id: str | None = None
    ) -> AccessOverview:
        """``/access`` shows the mode and the rules; ``/access open|closed`` sets the mode
        for every worker (stored, so it overrides the ``ACCESS`` setting)."""
        actor = await self._admin.require_admin(caller, "access")
        mode = mode.strip().lower()
        async with self._uow() as uow:
            if mode:
                if mode not in (OPEN, CLOSED):
                    raise BadArgument(detail="open | closed")
                await record_event(uow, caller.platform, event_id)
                await uow.access.set_rule(MODE, mode, actor.id)
                await uow.commit()
                logger.info("admin %s set access mode %s", actor.id, mode)
            rules = await uow.access.rules()
        stored = {r.subject: r.verdict for r in rules}
        return AccessOverview(
            mode=stored.get(MODE, self._mode), rules=[r for r in rules if r.subject != MODE]
        )

    async def invite(self, caller: Caller, uses: str = "", event_id: str | None = None) -> str:
        """A new invitation code good for ``uses`` people (default one)."""
        actor = await self._admin.require_admin(caller, "invite")
        text = uses.strip() or "1"
        if not text.isdigit() or not 1 <= int(text) <= MAX_INVITE_USES:
            raise BadArgument(detail=f"1…{MAX_INVITE_USES}")
        code = new_invite_code()
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.access.add_invite(code, int(text), actor.id)
            await uow.commit()
        logger.info("admin %s made an invitation for %s people", actor.id, text)
        return code

    async def invites(self, caller: Caller, limit: int) -> list[Invite]:
        """The newest invitation codes and how many uses each has left."""
        await self._admin.require_admin(caller, "invite")
        async with self._uow() as uow:
            return await uow.access.invites(limit)

    async def join(self, caller: Caller, code: str) -> tuple[Account, bool]:
        """The caller's account, created with one use of ``code`` unless the rules already
        let them in; True when it was created now. A redelivery finds the account made by
        the first delivery, so it takes no second use."""
        if not code.strip():
            raise BadArgument(detail="/join <code>")
        async with self._uow() as uow:
            existing = await uow.accounts.find_by_identity(caller.identity)
        if existing is not None:
            return await self._accounts.resolve(caller), False
        return await self._accounts.resolve(caller, invite=code), True

    async def set_muted(self, caller: Caller, muted: bool, event_id: str | None = None) -> None:
        account = await self._accounts.resolve(caller)
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.access.set_muted(account.id, muted)
            await uow.commit()


__all__ = ["ALLOW", "BLOCK", "AccessAdmin", "AccessOverview"]
