"""Telling admins, privately, what they asked for in ``NOTIFY_ADMINS``: a new person
(``new_user``), someone refused by the closed mode (``closed_refusal``), a balance that
went to zero or below (``zero_balance``).

Notices never delay the request that caused them: each is sent from a task of its own,
and a failure to deliver is only logged. Closed-mode refusals are told once per person
per hour (per worker), so a stranger who keeps writing does not flood the admins."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping

from core.i18n import Translator
from core.money import format_credits
from core.ports import PrivateMessenger, UnitOfWorkFactory
from core.services.announcements import CHAT_PLATFORMS, pick_identity
from core.services.requests import Caller
from core.types import Account

logger = logging.getLogger(__name__)

NEW_USER, CLOSED_REFUSAL, ZERO_BALANCE = "new_user", "closed_refusal", "zero_balance"
REFUSAL_QUIET_S = 3600.0


def who(caller: Caller) -> str:
    name = f" ({caller.display_name})" if caller.display_name else ""
    return f"{caller.identity}{name}"


class AdminNotices:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        messengers: Mapping[str, PrivateMessenger],
        kinds: frozenset[str],
    ) -> None:
        self._uow = uow
        self._messengers = messengers
        self._kinds = kinds
        self._tasks: set[asyncio.Task[None]] = set()
        self._refused: dict[str, float] = {}

    async def new_user(self, account: Account, caller: Caller) -> None:
        self._tell(NEW_USER, who=who(caller), account=account.id, role=account.role.value)

    async def closed_refusal(self, caller: Caller) -> None:
        key, now = str(caller.identity), time.monotonic()
        if now - self._refused.get(key, -REFUSAL_QUIET_S) < REFUSAL_QUIET_S:
            return
        if len(self._refused) > 10_000:
            self._refused.clear()
        self._refused[key] = now
        self._tell(CLOSED_REFUSAL, who=who(caller))

    async def after_request(self, account: Account) -> None:
        """A paid request ended (settled): tell when it took the balance to zero or below.
        Admission needs a positive balance, so every such request crossed zero. The
        balance is read in the notice's own task, never in the request's."""
        if ZERO_BALANCE in self._kinds:
            self._spawn(self._zero_check(account.id))

    async def _zero_check(self, account_id: int) -> None:
        async with self._uow() as uow:
            fresh = await uow.accounts.get(account_id)
        if fresh is not None and fresh.balance <= 0:
            await self._send(
                ZERO_BALANCE, {"account": account_id, "balance": format_credits(fresh.balance)}
            )

    def _spawn(self, job: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(self._guarded(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(job: Coroutine[object, object, None]) -> None:
        try:
            await job
        except Exception:  # the edge of a background task: a notice is not worth a crash
            logger.exception("could not send an admin notice")

    def _tell(self, kind: str, **params: object) -> None:
        if kind in self._kinds:
            self._spawn(self._send(kind, params))

    async def _send(self, kind: str, params: dict[str, object]) -> None:
        async with self._uow() as uow:
            admins = await uow.announcements.reachable(None, admins_only=True)
        for admin in admins:
            identity = pick_identity(admin, CHAT_PLATFORMS & set(self._messengers))
            if identity is None:
                continue
            text = Translator(admin.language)(f"notice.{kind}", **params)
            await self._messengers[identity.platform].send_private(identity, text)

    async def drain(self) -> None:
        """Wait for the notices under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
