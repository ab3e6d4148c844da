"""``/allowance <user> <daily:N|weekly:N|monthly:N|none|default>``: an admin sets one
account's allowance instead of its role's (``none``: no allowance; ``default``: the role's
again). The override takes effect from the next period start."""

from __future__ import annotations

import logging

from core.errors import BadArgument
from core.ports import UnitOfWorkFactory
from core.services.admin import AdminService
from core.services.allowances import NO_ALLOWANCE, parse_allowance
from core.services.events import record_event
from core.services.requests import Caller
from core.types import Account

logger = logging.getLogger(__name__)
DEFAULT = "default"
USAGE = "daily:N | weekly:N | monthly:N | none | default"


def override_of(text: str) -> str | None:
    """The stored override for what an admin typed; raises ``BadArgument``."""
    value = text.strip().lower()
    if value == DEFAULT:
        return None
    if value == NO_ALLOWANCE:
        return value
    try:
        allowance = parse_allowance(value)
    except ValueError as exc:
        raise BadArgument(detail=USAGE) from exc
    return f"{allowance.period.value}:{value.partition(':')[2].strip()}"


class AllowanceAdmin:
    def __init__(self, uow: UnitOfWorkFactory, admin: AdminService) -> None:
        self._uow = uow
        self._admin = admin

    async def set_override(
        self, caller: Caller, ref: str, value: str, event_id: str | None = None
    ) -> Account:
        actor = await self._admin.require_admin(caller, "allowance")
        override = override_of(value)
        target = await self._admin.find(caller, ref)
        async with self._uow() as uow:
            await record_event(uow, caller.platform, event_id)
            await uow.accounts.set_allowance_override(target.id, override)
            await uow.commit()
            fresh = await uow.accounts.get(target.id)
        logger.info("admin %s set the allowance of account %s to %s", actor.id, target.id, override)
        return fresh or target
